"""Generated documents (PDFs, labels, CSV reports) in the stack's private bucket, handed out as presigned links.

Keys are built by the caller's module from `document_key`; a buyer's documents (labels, packing slips)
live under `buyer/`, which the bucket's lifecycle rule expires with the rest of the buyer's data.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3

from oms.settings import get_settings

LINK_SECONDS = 3600  # a presigned link lasts an hour; asking again gives a fresh one
# A link to a document with buyer data (a label, a packing slip) lasts minutes: long enough to open or
# print it, too short to be useful if it leaks (Amazon's Data Protection Policy).
BUYER_LINK_SECONDS = 300
BUYER_PREFIX = "buyer/"


class DocumentStore:
    def __init__(self, bucket: str, client: Any = None) -> None:
        if not bucket:
            raise RuntimeError("DOCUMENTS_BUCKET is not set: the stack's documents bucket is needed here")
        self.bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("s3")
        return self._client

    def put(self, key: str, body: bytes, content_type: str) -> str:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        return key

    def get(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def link(self, key: str, *, filename: str | None = None, seconds: int | None = None) -> str:
        """A presigned GET; it lives `seconds`, by default minutes for buyer documents, an hour for others."""
        if seconds is None:
            seconds = BUYER_LINK_SECONDS if key.startswith(BUYER_PREFIX) else LINK_SECONDS
        params: dict[str, str] = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        return str(self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=seconds))


def document_key(*parts: str, buyer_data: bool = False) -> str:
    """A key from path parts (each made safe for S3); buyer documents go under buyer/ (30-day expiry)."""
    safe = ["".join(c if c.isalnum() or c in "-_.=" else "_" for c in part) for part in parts]
    return "/".join([BUYER_PREFIX.rstrip("/") if buyer_data else "docs", *safe])


@lru_cache(maxsize=1)
def default_documents() -> DocumentStore:
    return DocumentStore(get_settings().documents_bucket)
