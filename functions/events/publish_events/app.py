"""DynamoDB stream -> domain events on the EventBridge bus; a refused event retries from its record."""

from datetime import UTC, datetime

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.events import DomainEvent, EventPublisher, events_from_change
from oms.observability import logger, metrics, tracer
from oms.settings import PublishSettings, cold_start
from oms.store.table import from_dynamo

settings = cold_start(PublishSettings)  # a misconfigured function stops here, naming the variable
publisher = EventPublisher(settings.event_bus_name)


def _events_of(record: dict) -> list[DomainEvent]:
    change = record["dynamodb"]
    old, new = change.get("OldImage"), change.get("NewImage")
    return events_from_change(
        from_dynamo(old) if old else None,
        from_dynamo(new) if new else None,
        event_id=record["eventID"],
        occurred_at=datetime.fromtimestamp(float(change.get("ApproximateCreationDateTime", 0)), UTC),
    )


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    records = event.get("Records", [])
    per_record = [_events_of(r) for r in records]
    owners = [i for i, events in enumerate(per_record) for _ in events]
    result = publisher.publish([e for events in per_record for e in events])
    published = len(owners) if result.failed_from is None else result.failed_from
    metrics.add_metric(name="DomainEventsPublished", unit=MetricUnit.Count, value=published)
    if result.failed_from is None:
        return {"batchItemFailures": []}
    first_failed = records[owners[result.failed_from]]
    logger.warning(
        "EventBridge refused an event; retrying from its record", extra={"eventID": first_failed["eventID"]}
    )
    return {"batchItemFailures": [{"itemIdentifier": first_failed["dynamodb"]["SequenceNumber"]}]}
