"""Every minute -> the listing quantities stream batches left for a listings feed (Amazon's 5 feeds per 5
minutes had no token for them) sent in one JSON_LISTINGS_FEED per marketplace, each SKU's latest quantity;
with 150 or fewer, patched. What cannot be sent now waits for the next run."""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.amazon.client import default_client
from oms.inventory.listings import ListingSync
from oms.inventory.listings_feed import send_wanted
from oms.observability import logger, metrics, tracer
from oms.settings import ListingsSettings, cold_start
from oms.store.default import default_table

settings = cold_start(ListingsSettings)  # a misconfigured function stops here, naming the variable
SAFETY_MS = 10_000  # leave the rest for the next run rather than be cut off mid-push


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    sync = ListingSync(
        default_table(), default_client(), seller_id=settings.seller_id, marketplaces=settings.marketplaces
    )
    report = send_wanted(sync, keep_going=lambda: context.get_remaining_time_in_millis() > SAFETY_MS)
    metrics.add_metric(name="ListingQuantitiesPushed", unit=MetricUnit.Count, value=report.pushed)
    metrics.add_metric(name="ListingQuantitiesFed", unit=MetricUnit.Count, value=report.fed)
    logger.info("waiting listing quantities sent", extra={"result": report.as_dict()})
    return report.as_dict()
