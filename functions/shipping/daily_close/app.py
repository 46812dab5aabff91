"""Schedule (every 15 minutes) -> once a carrier's cutoff has passed, the day's end-of-day form (CSV and PDF)
is stored for the driver; the API answers it at any time (GET /reports/end-of-day)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.observability import logger, metrics, tracer
from oms.settings import DocumentSettings, cold_start
from oms.shipping.end_of_day import close_day
from oms.store.default import default_table
from oms.store.documents import default_documents
from oms.warehouse.settings import ShippingSettingsStore

settings = cold_start(DocumentSettings)  # a misconfigured function stops here, naming the variable
ShippingSettingsStore.sell_in(settings.marketplaces)  # the setup's defaults before the seller saves one


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    closed = close_day(default_table(), default_documents())
    logger.info("end-of-day forms stored", extra={"carriers": closed})
    return {"closed": closed}
