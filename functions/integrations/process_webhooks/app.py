"""SQS inbound-webhooks -> each verified webhook applied by its integration's kind, once per delivery id."""

import base64
import contextlib

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.integrations.processing import Delivery, process
from oms.integrations.records import Kind
from oms.observability import logger, metrics, tracer
from oms.settings import ProcessWebhookSettings, cold_start
from oms.store.default import default_table
from oms.warehouse.settings import ShippingSettingsStore

settings = cold_start(ProcessWebhookSettings)  # a misconfigured function stops here, naming the variable
ShippingSettingsStore.sell_in(settings.marketplaces)
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _attribute(record: SQSRecord, name: str) -> str:
    return str(record.message_attributes[name].string_value)


@tracer.capture_method
def apply_record(record: SQSRecord) -> None:
    body, encoding = record.body, _attribute(record, "encoding")
    if encoding == "base64":
        # text SQS could not carry as is (control characters) is applied as text; anything else is not text
        # at all and stays base64-encoded, kept as a problem
        with contextlib.suppress(UnicodeDecodeError):
            body, encoding = base64.b64decode(body).decode("utf-8"), "text"
    delivery = Delivery(
        integration_id=_attribute(record, "integrationId"),
        kind=Kind(_attribute(record, "kind")),
        delivery_id=_attribute(record, "deliveryId"),
        received_at=_attribute(record, "receivedAt"),
        body=body,
        encoding=encoding,
    )
    try:
        process(default_table(), delivery)
    except Exception:
        logger.exception("webhook could not be applied", extra={"deliveryId": delivery.delivery_id})
        raise


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(
        event=event, record_handler=apply_record, processor=processor, context=context
    )
