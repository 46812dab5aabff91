"""Schedule (every 15 minutes) -> every MFN order awaiting shipment weighed against its latest ship date:
atRisk/late flags moved (the stream announces them), one delay notice where a promise can no longer be met;
then every return request waiting for the seller's decision weighed against decisionDueBy
(decisionAtRisk/decisionLate) and every return awaiting its refund against refundDueBy
(refundAtRisk/refundLate), and every buyer-message thread waiting for an answer against its 24 hours
(atRisk/late), announced the same way; then the account-health figures counted and kept for the API."""

from datetime import timedelta

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.amazon.client import default_client
from oms.care.clock import flag_threads, message_health_now
from oms.domain.types import utc_now
from oms.observability import logger, metrics, tracer
from oms.returns.deadlines import flag_returns
from oms.returns.health import returns_health_now
from oms.settings import ShipmentSettings, cold_start
from oms.shipping.account_health import refresh_snapshot
from oms.shipping.guard import guard
from oms.store.default import default_table
from oms.warehouse.settings import ShippingSettingsStore

settings = cold_start(ShipmentSettings)  # a misconfigured function stops here, naming the variable
ShippingSettingsStore.sell_in(settings.marketplaces)  # the setup's defaults before the seller saves one


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    now = utc_now()
    counts = guard(default_table(), default_client(), now=now)
    counts |= flag_returns(default_table(), now)  # after the orders: a failure there leaves them done
    counts |= flag_threads(default_table(), now, timedelta(hours=settings.message_at_risk_hours))
    # the dashboard's account-health figures (the returns' on-time rates and the late response rates with
    # them), one item to read
    refresh_snapshot(default_table(), more=lambda t, n: returns_health_now(t, n) | message_health_now(t, n))
    metrics.add_metric(name="OrdersFlagged", unit=MetricUnit.Count, value=counts["flagged"])
    metrics.add_metric(name="DelayNoticesSent", unit=MetricUnit.Count, value=counts["delayNotices"])
    metrics.add_metric(name="RefundsFlagged", unit=MetricUnit.Count, value=counts["refundsFlagged"])
    metrics.add_metric(name="ReturnDecisionsFlagged", unit=MetricUnit.Count, value=counts["decisionsFlagged"])
    metrics.add_metric(name="MessagesFlagged", unit=MetricUnit.Count, value=counts.get("messagesFlagged", 0))
    return counts
