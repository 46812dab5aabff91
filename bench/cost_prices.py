"""AWS list prices (us-east-1) the cost benchmark multiplies its counted requests by, and the arithmetic.

Each price names the date it was read from the service's public pricing page; check them before quoting
the figures (prices only fall, as a rule, but they do change). On-demand DynamoDB, standard SQS queues,
Lambda on arm64, EventBridge custom events, S3 Standard, Secrets Manager, CloudWatch custom metrics and
Logs, Step Functions Standard workflows."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    dollars: float
    per: str
    as_of: str  # when it was read from aws.amazon.com/<service>/pricing


PRICES: dict[str, Price] = {
    "lambda.request": Price(0.20 / 1e6, "request", "2024-11-01"),
    "lambda.arm64.gb_second": Price(0.0000133334, "GB-second (arm64, first tier)", "2024-11-01"),
    "dynamodb.write_unit": Price(0.625 / 1e6, "write request unit (on-demand)", "2024-11-01"),
    "dynamodb.read_unit": Price(0.125 / 1e6, "read request unit (on-demand)", "2024-11-01"),
    "sqs.request": Price(0.40 / 1e6, "request, per 64 KB chunk (standard)", "2024-11-01"),
    "eventbridge.event": Price(1.00 / 1e6, "custom event published, per 64 KB chunk", "2024-11-01"),
    "s3.write_request": Price(0.005 / 1000, "PUT, COPY, POST, LIST request", "2024-11-01"),
    "s3.read_request": Price(0.0004 / 1000, "GET and other request", "2024-11-01"),
    "secretsmanager.call": Price(0.05 / 10_000, "API call", "2024-11-01"),
    "cloudwatch.metric_month": Price(0.30, "custom metric a month (first 10,000)", "2024-11-01"),
    "cloudwatch.api_request": Price(0.01 / 1000, "PutMetricData and other API request", "2024-11-01"),
    "logs.ingested_gb": Price(0.50, "GB of logs ingested (standard class)", "2024-11-01"),
    "stepfunctions.transition": Price(0.025 / 1000, "state transition (standard)", "2024-11-01"),
    # SES, the "a la carte" plan (SES's pricing plans since 2026-07-21: Essentials, new accounts' default,
    # bills $0.16 per 1,000 mails sent; a seller may choose a la carte with PutAccountPricingAttributes).
    # Read 2026-12-06 from the AWS Price List API's us-east-1 figures (publication 2026-07-22) as mirrored
    # by api-evangelist/amazon-ses (plans/amazon-ses-plans-pricing.yml), not from the page itself.
    "ses.mail_received": Price(0.10 / 1000, "mail received", "2026-12-06"),
    "ses.chunk_received": Price(0.09 / 1000, "256 KB chunk of a mail received", "2026-12-06"),
    "ses.mail_sent": Price(0.10 / 1000, "mail sent, per recipient (a la carte)", "2026-12-06"),
}

S3_WRITES = {
    "PutObject",
    "CopyObject",
    "PostObject",
    "ListObjects",
    "ListObjectsV2",
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
    "ListBuckets",
}


def chunks(size: int, chunk: int = 64 * 1024) -> int:
    """SQS and EventBridge bill each started 64 KB of a payload as one request or event."""
    return max(1, math.ceil(size / chunk))


def lambda_dollars(invocations: int, gb_seconds: float) -> float:
    return (
        invocations * PRICES["lambda.request"].dollars + gb_seconds * PRICES["lambda.arm64.gb_second"].dollars
    )


def billed_gb_seconds(seconds: float, memory_mb: int) -> float:
    """Lambda bills duration rounded up to the millisecond, times the configured memory."""
    return math.ceil(seconds * 1000) / 1000 * memory_mb / 1024


def per_million(dollars: float, orders: int) -> float:
    return dollars / max(orders, 1) * 1e6
