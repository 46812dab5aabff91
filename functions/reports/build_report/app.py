"""ReportJobsQueue -> a large order report streamed to S3 as CSV (constant memory);
schedule (daily, 02:00 UTC) -> yesterday's all-orders report, listed by GET /reports/daily."""

from datetime import datetime, timedelta

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from oms.domain.types import utc_now
from oms.observability import logger, metrics, tracer
from oms.reports.jobs import ReportJobs
from oms.settings import DocumentSettings, cold_start
from oms.store.default import default_table
from oms.store.documents import default_documents

settings = cold_start(DocumentSettings)  # a misconfigured function stops here, naming the variable
processor = BatchProcessor(event_type=EventType.SQS)


def _jobs() -> ReportJobs:
    return ReportJobs(default_table(), default_documents(), archive_after_days=settings.archive_after_days)


@tracer.capture_method
def build_job(record: SQSRecord) -> None:
    job = _jobs().run(str(record.json_body["jobId"]))
    metrics.add_metric(name="ReportRowsWritten", unit=MetricUnit.Count, value=int(job.get("rows", 0)))
    logger.info("report job done", extra={k: job.get(k) for k in ("jobId", "rows", "bytes", "key")})


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if "Records" in event:
        return process_partial_response(
            event=event, record_handler=build_job, processor=processor, context=context
        )
    # A schedule's run builds the day before its scheduled time; {"day": "YYYY-MM-DD"} rebuilds one day.
    scheduled = event.get("scheduledTime")
    yesterday = (datetime.fromisoformat(scheduled) if scheduled else utc_now()) - timedelta(days=1)
    report = _jobs().build_daily(str(event.get("day") or yesterday.date().isoformat()))
    logger.info("daily order report done", extra={k: report[k] for k in ("day", "orders", "rows", "bytes")})
    return {k: report[k] for k in ("day", "orders", "rows", "bytes", "key")}
