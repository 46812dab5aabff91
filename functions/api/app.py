"""API Gateway -> the seller's HTTP API (routes live in oms.api, one Router per resource)."""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.api.app import handle
from oms.observability import logger, metrics, tracer
from oms.settings import ApiSettings, cold_start
from oms.warehouse.settings import ShippingSettingsStore

settings = cold_start(ApiSettings)  # a misconfigured function stops here, naming the variable
ShippingSettingsStore.sell_in(settings.marketplaces)  # the setup's defaults before the seller saves one


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return handle(event, context)
