"""Domain events from the deliveries queue (an EventBridge rule) to the seller's webhook subscribers, signed;
retries come back on the queue (up to 15 minutes) or from the table (the sweep, every minute)."""

import json

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.observability import logger, metrics, tracer
from oms.settings import WebhookSettings, cold_start
from oms.store.default import default_table
from oms.webhooks.deliveries import Deliveries
from oms.webhooks.queue import DeliveriesQueue

settings = cold_start(WebhookSettings)  # a misconfigured function stops here, naming the variable
deliveries = Deliveries(
    default_table(),
    allow_loopback=settings.webhooks_allow_loopback,
    timeout=settings.webhook_timeout_seconds,
    queue=DeliveriesQueue(settings.webhook_deliveries_queue_url),
)


def _deliver(record: dict) -> None:
    message = json.loads(record["body"])
    if "detail-type" in message:  # an event from the bus: a delivery per subscription that wants it
        targets = deliveries.fan_out(message)
    else:  # a retry (or the seller's redelivery) of one delivery
        targets = [(message["subscriptionId"], message["deliveryId"])]
    outcomes = [o for o in deliveries.attempt_all(targets) if o is not None]
    metrics.add_metric(name="WebhookAttempts", unit=MetricUnit.Count, value=len(outcomes))
    metrics.add_metric(
        name="WebhookFailures", unit=MetricUnit.Count, value=sum(1 for o in outcomes if not o.delivered)
    )


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if "Records" not in event:  # the schedule: retries due from the table
        attempted = deliveries.sweep()
        metrics.add_metric(name="WebhookRetriesSwept", unit=MetricUnit.Count, value=attempted)
        return {"attempted": attempted}
    failures = []
    for record in event["Records"]:
        try:
            _deliver(record)
        except Exception:  # the message comes back; what was written is found again, nothing sent twice
            logger.exception("webhook delivery failed", extra={"messageId": record["messageId"]})
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
