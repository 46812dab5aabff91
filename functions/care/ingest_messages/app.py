"""SQS buyer-messages (S3 notifications of mail SES stored) -> each buyer's message on its order's thread;
mail that cannot be one is quarantined with the reason. A message that fails (not bad mail: the table or
the bucket did) fails alone and is retried (partial batch). A seller who opted in has "where is my order"
about a shipped order answered with its tracking number at once."""

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.care.auto_answer import answer_if_shipped
from oms.care.inbox import Inbox, mail_keys
from oms.domain.types import utc_now
from oms.observability import logger, metrics, tracer
from oms.settings import CareSettings, cold_start
from oms.store.clients import aws_client
from oms.store.default import default_buyer_table, default_table
from oms.store.documents import default_documents

settings = cold_start(CareSettings)  # a misconfigured function stops here, naming the variable
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method
def apply_record(record: SQSRecord) -> None:
    inbox = Inbox(
        default_table(),
        default_buyer_table(),
        default_documents(),
        retention_days=settings.buyer_data_retention_days,
    )
    for key in mail_keys(record.body):
        applied = inbox.apply_object(key)
        if applied.outcome == "stored" and applied.thread_id:
            _answer_if_shipped(applied.thread_id)
        metrics.add_metric(name=f"BuyerMail{applied.outcome.capitalize()}", unit=MetricUnit.Count, value=1)
        logger.info(
            "buyer mail applied",
            extra={"outcome": applied.outcome, "threadId": applied.thread_id, "reason": applied.reason},
        )


def _answer_if_shipped(thread_id: str) -> None:
    """The seller's opt-in answer to "where is my order"; a failure leaves the message for the seller."""
    try:
        sent = answer_if_shipped(
            default_table(),
            default_buyer_table(),
            _ses(),
            thread_id,
            sender=settings.support_email_address,
            now=utc_now(),
        )
    except Exception:
        logger.exception(
            "automatic answer not sent; the message waits for the seller", extra={"threadId": thread_id}
        )
        return
    if sent:
        metrics.add_metric(name="BuyerMessagesAnsweredAutomatically", unit=MetricUnit.Count, value=1)


@lru_cache(maxsize=1)
def _ses() -> Any:
    return aws_client("ses")


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(
        event=event, record_handler=apply_record, processor=processor, context=context
    )
