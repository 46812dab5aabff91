"""SQS order-notifications -> each SP-API notification applied; bad messages fail alone (partial batch)."""

from typing import Any

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


@tracer.capture_method
def apply_record(record: dict[str, Any]) -> None:
    logger.remove_keys(["notificationId"])  # a batch-mate's id must not label this record's lines
    try:
        notification = Notification.model_validate_json(record["body"])
    except ValueError:
        logger.exception("message is not an SP-API notification", extra={"messageId": record["messageId"]})
        raise
    logger.append_keys(notificationId=notification.notification_id)
    try:
        apply_notification(notification, ours=ours)
    except Exception:
        logger.exception("notification could not be applied", extra={"messageId": record["messageId"]})
        raise


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    """Each record applied on its own; the failed ones reported (ReportBatchItemFailures) go back to the
    queue. A batch of only bad messages is reported like any other partial failure: the DLQ alarm, not the
    function's Errors alarm, is how an operator hears of poison messages. (Powertools' BatchProcessor did
    the same at about a tenth of this function's cold start: bench/cold_start.py.)"""
    failed = []
    for record in event.get("Records") or []:
        try:
            apply_record(record)
        except Exception:  # logged by apply_record; the message returns to the queue, alone
            failed.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failed}
