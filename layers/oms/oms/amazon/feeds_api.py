"""Feeds API v2021-06-30 (createFeedDocument, the upload, createFeed, getFeed, getFeedDocument and the
processing report's download), and the FEED_PROCESSING_FINISHED notification. Shapes follow
contracts/sp-api-models/feeds-api-model/feeds_2021-06-30.json and
contracts/sp-api-models/schemas/notifications/FeedProcessingFinishedNotification.json; fields not read here
are ignored.

createFeed is the one call that must not run twice for the same refund: it is never retried after a 5xx
(which may have created the feed), only after a 429 (refused before any work).
"""

from __future__ import annotations

import gzip
from datetime import datetime

from pydantic import Field

from oms.amazon.client import SpApiClient, region_of
from oms.amazon.notifications import AmazonModel
from oms.domain.types import iso_z

XML_CONTENT_TYPE = "text/xml; charset=UTF-8"
MAX_PAGES = 10


class CreateFeedDocumentResponse(AmazonModel):
    feed_document_id: str = Field(alias="feedDocumentId")
    url: str


class CreateFeedResponse(AmazonModel):
    feed_id: str = Field(alias="feedId")


class Feed(AmazonModel):
    feed_id: str = Field(alias="feedId")
    feed_type: str = Field(alias="feedType")
    processing_status: str = Field(alias="processingStatus")  # CANCELLED, DONE, FATAL, IN_PROGRESS, IN_QUEUE
    result_feed_document_id: str | None = Field(default=None, alias="resultFeedDocumentId")


class GetFeedsResponse(AmazonModel):
    feeds: list[Feed]
    next_token: str | None = Field(default=None, alias="nextToken")


class FeedDocument(AmazonModel):
    feed_document_id: str = Field(alias="feedDocumentId")
    url: str
    compression_algorithm: str | None = Field(default=None, alias="compressionAlgorithm")


class FeedProcessingFinished(AmazonModel):
    seller_id: str | None = Field(default=None, alias="sellerId")
    account_id: str | None = Field(default=None, alias="accountId")
    feed_id: str = Field(alias="feedId")
    feed_type: str = Field(alias="feedType")
    processing_status: str = Field(alias="processingStatus")
    result_feed_document_id: str | None = Field(default=None, alias="resultFeedDocumentId")


class FeedProcessingFinishedPayload(AmazonModel):
    notification: FeedProcessingFinished = Field(alias="feedProcessingFinishedNotification")


def upload_feed_document(
    client: SpApiClient,
    marketplace_id: str,
    content: bytes,
    *,
    content_type: str = XML_CONTENT_TYPE,
    max_wait: float = 10.0,
) -> str:
    """createFeedDocument, then the content PUT to the URL Amazon gave: the document's id."""
    document = client.call(
        "createFeedDocument",
        CreateFeedDocumentResponse,
        region=region_of(marketplace_id),
        body={"contentType": content_type},
        max_wait=max_wait,
    )
    client.transfer("PUT", document.url, body=content, content_type=content_type)
    return document.feed_document_id


def create_feed(
    client: SpApiClient, marketplace_id: str, feed_type: str, document_id: str, *, max_wait: float = 10.0
) -> str:
    """createFeed: the feed's id. Never retried after a 5xx (a second call could make a second feed)."""
    answer = client.call(
        "createFeed",
        CreateFeedResponse,
        region=region_of(marketplace_id),
        body={"feedType": feed_type, "marketplaceIds": [marketplace_id], "inputFeedDocumentId": document_id},
        retry_server_errors=False,
        max_wait=max_wait,
    )
    return answer.feed_id


def get_feed(client: SpApiClient, marketplace_id: str, feed_id: str) -> Feed:
    return client.call("getFeed", Feed, region=region_of(marketplace_id), path={"feedId": feed_id})


def feeds_since(client: SpApiClient, marketplace_id: str, feed_type: str, since: datetime) -> list[Feed]:
    """getFeeds: the seller's feeds of a type created since `since` (every page)."""
    feeds: list[Feed] = []
    query: dict[str, object] = {
        "feedTypes": [feed_type],
        "marketplaceIds": [marketplace_id],
        "createdSince": iso_z(since),
        "pageSize": 100,
    }
    for _ in range(MAX_PAGES):
        answer = client.call("getFeeds", GetFeedsResponse, region=region_of(marketplace_id), query=query)
        feeds += answer.feeds
        if not answer.next_token:
            break
        query = {"nextToken": answer.next_token}  # Amazon: the token as the only parameter
    return feeds


def read_feed_document(client: SpApiClient, marketplace_id: str, document_id: str) -> bytes:
    """getFeedDocument and the download (unzipped when Amazon compressed it): e.g. a processing report."""
    document = client.call(
        "getFeedDocument",
        FeedDocument,
        region=region_of(marketplace_id),
        path={"feedDocumentId": document_id},
    )
    data = client.transfer("GET", document.url)
    return gzip.decompress(data) if document.compression_algorithm == "GZIP" else data
