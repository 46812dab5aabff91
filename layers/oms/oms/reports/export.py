"""Order reports as CSV: streamed in chunks, uploaded to S3 in parts, or answered inline when small."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from oms.reports.columns import Row
from oms.reports.query import ReportRequest
from oms.reports.reader import OrderReports, ReadState
from oms.store.documents import DocumentStore

# --- CSV, streamed


def _cells(row: Row, columns: Sequence[str]) -> list[str]:
    return [row.get(name) or "" for name in columns]


def csv_text(rows: Iterable[Row], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(_cells(row, columns) for row in rows)
    return out.getvalue()


def csv_chunks(
    rows: Iterable[Row], columns: Sequence[str], *, chunk_bytes: int = 64 * 1024
) -> Iterator[bytes]:
    """The CSV (header first) as UTF-8 chunks of about `chunk_bytes`: never more than one chunk in memory."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(_cells(row, columns))
        if out.tell() >= chunk_bytes:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    if out.tell():
        yield out.getvalue().encode()


PART_BYTES = 8 * 1024 * 1024  # S3 parts: at least 5 MiB except the last


def upload_stream(documents: DocumentStore, key: str, chunks: Iterable[bytes], content_type: str) -> int:
    """Uploads chunks to S3 one part at a time (one part in memory); a small body is one PutObject. Bytes written."""
    client, bucket = documents.client, documents.bucket
    buffer = bytearray()
    parts: list[dict[str, Any]] = []
    upload_id: str | None = None
    total = 0
    try:
        for chunk in chunks:
            buffer += chunk
            total += len(chunk)
            if len(buffer) >= PART_BYTES:
                if upload_id is None:
                    upload_id = client.create_multipart_upload(
                        Bucket=bucket, Key=key, ContentType=content_type
                    )["UploadId"]
                number = len(parts) + 1
                answer = client.upload_part(
                    Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=bytes(buffer)
                )
                parts.append({"PartNumber": number, "ETag": answer["ETag"]})
                buffer = bytearray()
        if upload_id is None:
            documents.put(key, bytes(buffer), content_type)
            return total
        if buffer:
            number = len(parts) + 1
            answer = client.upload_part(
                Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=bytes(buffer)
            )
            parts.append({"PartNumber": number, "ETag": answer["ETag"]})
        client.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
        return total
    except BaseException:
        if upload_id is not None:
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        raise


class CountedRows:
    """Counts what passes through an iterator (rows of a report on their way to the CSV)."""

    def __init__(self, rows: Iterable[Row]) -> None:
        self._rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[Row]:
        for row in self._rows:
            self.count += 1
            yield row


# --- inline CSV or a job

INLINE_CSV_MAX_BYTES = 2_000_000  # API Gateway and Lambda answer at most 6 MB; leave room for headers
INLINE_CSV_MAX_SECONDS = 10.0  # API Gateway gives up after 29 s


def inline_csv(
    reports: OrderReports,
    request: ReportRequest,
    *,
    max_bytes: int | None = None,
    max_seconds: float | None = None,
) -> tuple[str | None, ReadState]:
    """The whole CSV when it is small enough to answer at once, else None (the report needs a job)."""
    state = reports.start(request)
    max_bytes = max_bytes or INLINE_CSV_MAX_BYTES
    deadline = time.monotonic() + (max_seconds or INLINE_CSV_MAX_SECONDS)
    chunks, size = [], 0
    for chunk in csv_chunks(reports.rows(request, state), request.columns, chunk_bytes=16 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes or time.monotonic() > deadline:
            return None, state
    return b"".join(chunks).decode(), state
