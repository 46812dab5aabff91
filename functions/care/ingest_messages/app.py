"""SQS buyer-messages (S3 notifications of mail SES stored) -> each buyer's message on its order's thread;
mail that cannot be one is quarantined with the reason. A message that fails (not bad mail: the table or
the bucket did) fails alone and is retried (partial batch)."""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.care.inbox import Inbox, mail_keys
from oms.observability import logger, metrics, tracer
from oms.settings import CareSettings, cold_start
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
        metrics.add_metric(name=f"BuyerMail{applied.outcome.capitalize()}", unit=MetricUnit.Count, value=1)
        logger.info(
            "buyer mail applied",
            extra={"outcome": applied.outcome, "threadId": applied.thread_id, "reason": applied.reason},
        )


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(
        event=event, record_handler=apply_record, processor=processor, context=context
    )
