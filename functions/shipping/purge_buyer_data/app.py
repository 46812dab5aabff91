"""Schedule (daily) -> buyer PII whose retention ended is deleted (Amazon's Data Protection Policy)."""

from datetime import datetime

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.domain.types import utc_now
from oms.observability import logger, metrics, tracer
from oms.settings import PurgeSettings, cold_start
from oms.shipping.buyer_data import purge_due_buyer_data
from oms.store.default import default_buyer_table

settings = cold_start(PurgeSettings)  # a misconfigured function stops here, naming the variable


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    scheduled = event.get("scheduledTime")
    now = max(datetime.fromisoformat(scheduled), utc_now()) if scheduled else utc_now()
    purged = purge_due_buyer_data(default_buyer_table(), now)
    metrics.add_metric(name="BuyerRecordsPurged", unit=MetricUnit.Count, value=purged)
    logger.info("buyer data purge done", extra={"purged": purged})
    return {"purged": purged}
