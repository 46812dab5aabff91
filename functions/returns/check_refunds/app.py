"""Schedule (every 15 minutes) -> refunds Amazon has not yet confirmed: submitted ones confirmed from the
refund events in Finances, pending ones settled from getFeed (a lost notification) or sent (a missed stream
record); a send interrupted after its claim is confirmed from Finances or, after 48 hours, refused."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.amazon.client import default_client
from oms.observability import logger, metrics, tracer
from oms.returns.refunds import check_refunds
from oms.settings import RefundSettings, cold_start
from oms.store.default import default_table

settings = cold_start(RefundSettings)  # a misconfigured function stops here, naming the variable


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    counts = check_refunds(default_table(), default_client(), seller_id=settings.seller_id)
    logger.info("refunds checked", extra=counts)
    return counts
