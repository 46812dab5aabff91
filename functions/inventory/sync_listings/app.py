"""DynamoDB stream (stock rows only) -> each changed merchant-fulfilled SKU's quantity pushed to Amazon once
per batch (patchListingsItem; past 150 SKUs, most of them in one JSON_LISTINGS_FEED); a SKU that cannot be
pushed now is reported, and retried from its record."""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.amazon.client import default_client
from oms.inventory.listings import ListingSync
from oms.inventory.listings_feed import sync_with_feeds
from oms.observability import logger, metrics, tracer
from oms.settings import ListingsSettings, cold_start
from oms.store.default import default_table

settings = cold_start(ListingsSettings)  # a misconfigured function stops here, naming the variable
SAFETY_MS = 10_000  # leave the batch (to be retried) rather than be cut off mid-push


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    sync = ListingSync(
        default_table(), default_client(), seller_id=settings.seller_id, marketplaces=settings.marketplaces
    )
    result = sync_with_feeds(
        sync,
        event.get("Records", []),
        keep_going=lambda: context.get_remaining_time_in_millis() > SAFETY_MS,
    )
    metrics.add_metric(name="ListingQuantitiesPushed", unit=MetricUnit.Count, value=result.report.pushed)
    metrics.add_metric(name="ListingQuantitiesFed", unit=MetricUnit.Count, value=result.report.fed)
    logger.info("listing quantities synced", extra={"result": result.report.as_dict()})
    if result.failed_from is None:
        return {"batchItemFailures": []}
    return {"batchItemFailures": [{"itemIdentifier": result.failed_from}]}
