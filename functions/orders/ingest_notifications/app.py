"""SQS order-notifications -> each SP-API notification applied; bad messages fail alone (partial batch)."""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.amazon.notifications import Notification
from oms.amazon.provenance import Recipient
from oms.notifications import apply_notification
from oms.observability import logger, metrics, tracer
from oms.settings import IngestSettings, cold_start
from oms.warehouse.settings import ShippingSettingsStore

settings = cold_start(IngestSettings)  # a misconfigured function stops here, naming the variable
ShippingSettingsStore.sell_in(settings.marketplaces)  # the setup's defaults before the seller saves one
# Only notifications for this seller's application, subscriptions and marketplaces are applied.
ours = Recipient.of(
    settings.spapi_application_id, settings.seller_id, settings.marketplaces, settings.subscription_ids
)
# A batch of only bad messages is reported like any other partial failure: the DLQ alarm, not the
# function's Errors alarm, is how an operator hears of poison messages.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method
def apply_record(record: SQSRecord) -> None:
    logger.remove_keys(["notificationId"])  # a batch-mate's id must not label this record's lines
    try:
        notification = Notification.model_validate_json(record.body)
    except ValueError:
        logger.exception("message is not an SP-API notification", extra={"messageId": record.message_id})
        raise
    logger.append_keys(notificationId=notification.notification_id)
    try:
        apply_notification(notification, ours=ours)
    except Exception:
        logger.exception("notification could not be applied", extra={"messageId": record.message_id})
        raise


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(
        event=event, record_handler=apply_record, processor=processor, context=context
    )
