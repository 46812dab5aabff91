"""Schedule (every 15 minutes) -> orders updated since the watermark, read from the Orders API and applied
(the backstop for lost notifications, and the enrichment of new orders, one searchOrders page at a time)."""

from datetime import datetime

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.amazon.client import default_client
from oms.observability import logger, metrics, tracer
from oms.orders.reconcile import sync_orders
from oms.settings import ReconcileSettings, cold_start
from oms.store.default import default_table
from oms.warehouse.settings import ShippingSettingsStore

settings = cold_start(ReconcileSettings)  # a misconfigured function stops here, naming the variable
ShippingSettingsStore.sell_in(settings.marketplaces)  # the setup's defaults before the seller saves one
SAFETY_MS = 60_000  # stop paging a minute before the timeout; the next run resumes


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    client = default_client()
    backfill_since = event.get("backfillSince")  # `oms backfill --since DATE` invokes this until complete
    results = {}
    for marketplace_id in event.get("marketplaceIds") or settings.marketplaces:
        report = sync_orders(
            default_table(),
            client,
            marketplace_id,
            job="backfill" if backfill_since else "reconcile_orders",
            since=datetime.fromisoformat(backfill_since) if backfill_since else None,
            keep_going=lambda: context.get_remaining_time_in_millis() > SAFETY_MS,
        )
        metrics.add_metric(name="OrdersReconciled", unit=MetricUnit.Count, value=report.orders)
        results[marketplace_id] = {
            "pages": report.pages,
            "orders": report.orders,
            **report.outcomes,
            "complete": report.complete,
        }
    logger.info("reconcile done", extra={"results": results, "spApiCalls": client.calls})
    return results
