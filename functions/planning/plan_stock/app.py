"""Schedule (hourly) -> the warehouse day's stock plans: the first run after the warehouse's midnight plans
every SKU (forecast, safety stock, reorder point, order quantity), going on from where a run that ran out of
time stopped; once the day's plans are done, the other runs of the day return at once. `{"again": true}` (an operator's
`oms invoke plan_stock --event FILE`) plans the day over, now."""

from datetime import datetime

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.domain.types import utc_now
from oms.observability import logger, metrics, tracer
from oms.planning.nightly import run_nightly
from oms.settings import PlanningSettings, cold_start
from oms.store.default import default_table

settings = cold_start(PlanningSettings)  # a misconfigured function stops here, naming the variable


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    scheduled = event.get("scheduledTime")
    now = max(datetime.fromisoformat(scheduled), utc_now()) if scheduled else utc_now()
    time_left = lambda: context.get_remaining_time_in_millis() / 1000  # noqa: E731
    result = run_nightly(default_table(), now, time_left, again=bool(event.get("again")))
    if not result.already_done:
        metrics.add_metric(name="StockPlansMade", unit=MetricUnit.Count, value=result.planned)
        metrics.add_metric(name="ReorderDueSkus", unit=MetricUnit.Count, value=result.due)
    return {"day": result.day, "planned": result.planned, "due": result.due, "done": result.done}
