"""Schedule (hourly) -> Amazon's returns reports asked for (seller-fulfilled and FBA, an overlapping window);
DynamoDB stream (a returns report Amazon finished, recorded from REPORT_PROCESSING_FINISHED) -> its rows
applied once (an empty report ends CANCELLED: no returns)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.amazon.client import default_client, region_of
from oms.amazon.reports_api import ReportsApi
from oms.observability import logger, metrics, tracer
from oms.returns.report_sync import ReturnsSync, SyncReport, finished_reports_in
from oms.settings import ReturnsSyncSettings, cold_start
from oms.store.default import default_table

settings = cold_start(ReturnsSyncSettings)  # a misconfigured function stops here, naming the variable


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    client = default_client()
    sync = ReturnsSync(default_table(), ReportsApi(client, region=region_of(settings.marketplaces[0])))
    if "Records" not in event:  # the schedule
        report = sync.run(event.get("marketplaceIds") or settings.marketplaces)
        logger.info("returns sync asked", extra={"result": report.as_dict(), "spApiCalls": client.calls})
        return {"result": report.as_dict(), "spApiCalls": client.calls}
    report = SyncReport()
    for sequence, finished in finished_reports_in(event["Records"]):
        try:
            sync.apply_finished(
                finished["reportId"],
                finished["reportType"],
                finished["processingStatus"],
                finished["reportDocumentId"],
                report,
            )
        except Exception:  # throttled, Amazon down...: this record and the rest of the batch are retried
            logger.exception(
                "returns report not applied yet; retried", extra={"reportId": finished["reportId"]}
            )
            return {"batchItemFailures": [{"itemIdentifier": sequence}], "result": report.as_dict()}
    return {"batchItemFailures": [], "result": report.as_dict()}
