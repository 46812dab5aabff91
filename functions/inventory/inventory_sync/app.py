"""Schedule (every 30 minutes) -> the listings feeds still pending after a few minutes settled from getFeed (their
notification may be lost), Amazon's FBA figures changed since the watermark (getInventorySummaries), and every
merchant-fulfilled SKU changed since then read back from Amazon and re-pushed where it disagrees."""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.amazon.client import default_client
from oms.inventory.listings import ListingSync
from oms.inventory.listings_feed import settle_pending_feeds
from oms.inventory.sync import sync_inventory
from oms.observability import logger, metrics, tracer
from oms.settings import ListingsSettings, cold_start
from oms.store.default import default_table

settings = cold_start(ListingsSettings)  # a misconfigured function stops here, naming the variable
SAFETY_MS = 20_000  # stop 20 s before the timeout; the next run reads the same changes again


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    client = default_client()

    def keep_going() -> bool:
        return context.get_remaining_time_in_millis() > SAFETY_MS

    sync = ListingSync(
        default_table(), client, seller_id=settings.seller_id, marketplaces=settings.marketplaces
    )
    feeds = settle_pending_feeds(sync, keep_going=keep_going)  # first: the read-back then sees what they did
    results = {}
    for marketplace_id in event.get("marketplaceIds") or settings.marketplaces:
        report = sync_inventory(
            default_table(),
            client,
            marketplace_id,
            seller_id=settings.seller_id,
            marketplaces=settings.marketplaces,
            keep_going=keep_going,
        )
        metrics.add_metric(name="FbaSummariesRead", unit=MetricUnit.Count, value=report.fba_summaries)
        metrics.add_metric(name="ListingQuantitiesRepushed", unit=MetricUnit.Count, value=report.disagreed)
        results[marketplace_id] = report.as_dict()
    logger.info("inventory sync done", extra={"results": results, "feeds": feeds, "spApiCalls": client.calls})
    return {"results": results, "pendingFeeds": feeds, "spApiCalls": client.calls}
