"""Schedule (every 5 minutes) -> shipments recorded here but not yet confirmed to Amazon (throttled, failed
or refused before) are sent again on their back-off; none is dropped."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.amazon.client import default_client
from oms.observability import logger, metrics, tracer
from oms.settings import ShipmentSettings, cold_start
from oms.shipping.shipments import confirm_due
from oms.store.default import default_table
from oms.warehouse.settings import ShippingSettingsStore

settings = cold_start(ShipmentSettings)  # a misconfigured function stops here, naming the variable
ShippingSettingsStore.sell_in(settings.marketplaces)  # the setup's defaults before the seller saves one


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    counts = confirm_due(default_table(), default_client())
    logger.info("confirmations tried", extra=counts)
    return counts
