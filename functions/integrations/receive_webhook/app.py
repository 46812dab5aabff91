"""POST /webhooks/{integrationId} (public: the signature is the authentication) -> verified, queued, 202.

Small on purpose: it imports the receiver and its floors only, so a cold start stays short."""

import base64
import json
from functools import lru_cache

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.integrations.receiving import receive
from oms.integrations.records import master_key
from oms.observability import logger, metrics, tracer
from oms.settings import ReceiveWebhookSettings, cold_start
from oms.store.clients import aws_client
from oms.store.default import default_table

settings = cold_start(ReceiveWebhookSettings)  # a misconfigured function stops here, naming the variable
master_key()  # read at cold start, so the first request's answer takes no longer for a known integration


@lru_cache(maxsize=1)
def _sqs():  # type: ignore[no-untyped-def]
    return aws_client("sqs")


def _send(body: str, attributes: dict) -> None:
    _sqs().send_message(
        QueueUrl=settings.inbound_webhooks_queue_url, MessageBody=body, MessageAttributes=attributes
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")
    integration_id = (event.get("pathParameters") or {}).get("integrationId", "")
    answer = receive(default_table(), master_key, _send, integration_id, event.get("headers") or {}, body)
    return {
        "statusCode": answer.status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(answer.body),
    }
