"""SQS (OrderReceived, OrderStatusChanged from the bus) -> the seller's order rules run once per change."""

import json

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.amazon.client import default_client
from oms.domain.orders import Order
from oms.domain.rules import Rule
from oms.domain.types import utc_now
from oms.observability import logger, metrics, tracer
from oms.rules.run import OrderEvent, run_on_change
from oms.rules.store import RuleStore
from oms.settings import RulesSettings, cold_start
from oms.shipping.buyer_data import buyer_data_to_ship
from oms.store.default import default_buyer_table, default_table
from oms.store.table import again_if_transient

settings = cold_start(RulesSettings)  # a misconfigured function stops here, naming the variable
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
TRIES = 3  # a step's tries within one receive when the table refuses it for a moment (then the queue's)
_rules: list[Rule] = []  # read once per batch: every record of a batch runs under the same rules


def _destination(order: Order) -> dict[str, str] | None:
    """Where the order goes: the kept address, else read from Amazon now (kept under the buyer-data policy,
    as for a packing slip: an order whose rules test its destination is one being shipped)."""
    data = buyer_data_to_ship(
        default_buyer_table(),
        default_client(),
        order,
        retention_days=settings.buyer_data_retention_days,
        now=utc_now(),
    )
    return data.address if data else None


@tracer.capture_method
def apply_record(record: SQSRecord) -> None:
    try:
        event = OrderEvent.of(json.loads(record.body))
    except ValueError:
        logger.exception("message is not an order event", extra={"messageId": record.message_id})
        raise
    result = again_if_transient(  # once per change (a change run before comes back a duplicate)
        lambda: run_on_change(
            default_table(),
            _rules,
            order_id=event.order_id,
            change_id=event.change_id,
            trigger=event.trigger,
            destination=_destination,
        ),
        tries=TRIES,
        what="running the rules",
    )
    if result.duplicate:  # SQS, EventBridge and the stream deliver at least once: this change was handled
        metrics.add_metric(name="RuleEventsRepeated", unit=MetricUnit.Count, value=1)
    if result.outcome is not None:
        metrics.add_metric(
            name="RuleActionsApplied", unit=MetricUnit.Count, value=len(result.outcome.applied)
        )
        logger.info(
            "rules applied",
            extra={
                "orderId": event.order_id,
                "rules": result.outcome.matched,
                "trigger": event.trigger.value,
            },
        )


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    _rules[:] = again_if_transient(RuleStore(default_table()).all, tries=TRIES, what="reading the rules")
    return process_partial_response(
        event=event, record_handler=apply_record, processor=processor, context=context
    )
