"""DynamoDB stream (orders and stock rows) -> each SKU seen for the first time read from Amazon's catalogue
(title, ASIN, image, weight, dimensions); daily schedule -> the products read longest ago read again."""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.amazon.client import default_client
from oms.inventory.catalogue import CatalogueReader, CatalogueReport, skus_in_records, skus_ordered
from oms.observability import logger, metrics, tracer
from oms.settings import ListingsSettings, cold_start
from oms.store.default import default_table

settings = cold_start(ListingsSettings)  # a misconfigured function stops here, naming the variable
SAFETY_MS = 10_000  # leave the rest of the batch (to be retried) rather than be cut off mid-read


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    reader = CatalogueReader(
        default_table(),
        default_client(),
        seller_id=settings.seller_id,
        marketplace_id=settings.marketplaces[0],
    )
    report = CatalogueReport()
    if "Records" not in event:  # the daily refresh
        reader.refresh(report)
        metrics.add_metric(name="ProductsRefreshed", unit=MetricUnit.Count, value=report.read)
        logger.info("catalogue refreshed", extra={"result": report.as_dict()})
        return {"result": report.as_dict()}
    failed_from = reader.read_unknown(
        skus_in_records(event["Records"]),
        report,
        keep_going=lambda: context.get_remaining_time_in_millis() > SAFETY_MS,
        ordered=skus_ordered(event["Records"]),
    )
    metrics.add_metric(name="ProductsRead", unit=MetricUnit.Count, value=report.read)
    metrics.add_metric(name="ProductReadsRefused", unit=MetricUnit.Count, value=report.refused)
    logger.info("new SKUs read from Amazon's catalogue", extra={"result": report.as_dict()})
    return {"batchItemFailures": [{"itemIdentifier": failed_from}] if failed_from else []}
