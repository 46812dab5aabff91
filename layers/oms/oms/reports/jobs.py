"""Large order reports as jobs: a job item, a message on ReportJobsQueue, the CSV built into S3 by build_report."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from oms.domain.types import iso_z, utc_now
from oms.errors import NotFound
from oms.reports.columns import CATALOGUE, Row, rows_of
from oms.reports.export import CountedRows, csv_chunks, upload_stream
from oms.reports.query import ReportRequest, View
from oms.reports.reader import OrderReports, ReadState
from oms.store import keys
from oms.store.clients import aws_client
from oms.store.documents import DocumentStore, document_key
from oms.store.table import Table

# --- report jobs

JOB_DAYS = 30  # a job and its CSV are kept a month (the bucket's rule expires docs/reports/jobs/)


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass
class ReportJobs:
    """Large reports: a job item in the table, a message on ReportJobsQueue, built by build_report."""

    table: Table
    documents: DocumentStore | None = None
    queue_url: str = ""
    archive_after_days: int = 90
    sqs: Any = None
    now: Callable[[], str] | None = None
    _reports: OrderReports | None = field(default=None, init=False)

    @property
    def reports(self) -> OrderReports:
        if self._reports is None:
            self._reports = OrderReports(self.table, archive_after_days=self.archive_after_days, now=self.now)
        return self._reports

    def create(self, request: ReportRequest, state: ReadState, *, mark_seen: bool = False) -> dict[str, Any]:
        """Records the job (as of the request's instant, so the CSV is what was asked) and queues it."""
        if not self.queue_url:
            raise RuntimeError("REPORT_JOBS_QUEUE_URL is not set: large reports need the report jobs queue")
        job_id = uuid.uuid4().hex
        job = {
            **keys.report_job_key(job_id),
            "entity": "ReportJob",
            "jobId": job_id,
            "status": JobStatus.QUEUED.value,
            "request": request.as_dict(),
            "asOf": state.at,
            "since": state.since,
            "fromMark": state.from_mark,
            "markSeen": mark_seen,
            "createdAt": state.at,
            keys.TTL_ATTRIBUTE: int(time.time()) + JOB_DAYS * 86400,
        }
        self.table.put_new(job)
        self._sqs().send_message(QueueUrl=self.queue_url, MessageBody=json.dumps({"jobId": job_id}))
        return job

    def _sqs(self) -> Any:
        if self.sqs is None:
            self.sqs = aws_client("sqs")
        return self.sqs

    def get(self, job_id: str) -> dict[str, Any]:
        job = self.table.get(keys.report_job_key(job_id))
        if job is None:
            raise NotFound(f"report job {job_id} is not known here (jobs are kept {JOB_DAYS} days)")
        return job

    def run(self, job_id: str) -> dict[str, Any]:
        """Builds the job's CSV into S3 in constant memory; a job already done is left as it is."""
        job = self.get(job_id)
        if job["status"] == JobStatus.DONE:
            return job
        assert self.documents is not None
        request = ReportRequest.from_dict(job["request"])
        key = document_key("reports", "jobs", f"orders-{request.view.value}-{job_id}.csv")
        self._update(job, status=JobStatus.RUNNING.value, startedAt=self._now())
        try:
            state = ReadState(0, str(job["asOf"]), job.get("since"), from_mark=bool(job.get("fromMark")))
            rows = CountedRows(self.reports.rows(request, state))
            written = upload_stream(self.documents, key, csv_chunks(rows, request.columns), "text/csv")
        except Exception as error:
            self._update(job, status=JobStatus.FAILED.value, error=str(error)[:500], finishedAt=self._now())
            raise
        if job.get("markSeen"):
            self.reports.mark_seen(str(job["asOf"]))
        return self._update(
            job, status=JobStatus.DONE.value, rows=rows.count, bytes=written, key=key, finishedAt=self._now()
        )

    def _update(self, job: dict[str, Any], **changes: Any) -> dict[str, Any]:
        job.update(changes)
        self.table.put(job)
        return job

    def _now(self) -> str:
        return self.now() if self.now else iso_z(utc_now())

    def answer(self, job: dict[str, Any]) -> dict[str, Any]:
        """The job as the API shows it; a finished job links its CSV (a fresh presigned link each time)."""
        shown = {
            "jobId": job["jobId"],
            "status": job["status"],
            **{k: v for k, v in job["request"].items() if v is not None},
            "asOf": job["asOf"],
            "createdAt": job["createdAt"],
        }
        for name in ("startedAt", "finishedAt", "rows", "bytes", "error"):
            if job.get(name) is not None:
                shown[name] = job[name]
        if job["status"] == JobStatus.DONE and self.documents is not None:
            shown["url"] = self.documents.link(job["key"], filename=f"orders-{job['request']['view']}.csv")
        return shown

    # --- the daily report -----------------------------------------------------------------------

    def build_daily(self, day: str) -> dict[str, Any]:
        """Every order purchased on `day` (YYYY-MM-DD, UTC), all columns, to S3; listed by GET /reports/daily."""
        assert self.documents is not None
        request = ReportRequest(View.ALL, tuple(CATALOGUE), f"{day}T00:00:00Z", f"{day}T23:59:59Z")
        key = document_key("reports", "daily", f"orders-{day}.csv")
        state = ReadState(0, self._now(), None)
        orders = 0

        def counted_rows() -> Iterator[Row]:
            nonlocal orders
            for order in self.reports.orders(request, state):
                orders += 1
                yield from rows_of(order, request.columns)

        rows = CountedRows(counted_rows())
        written = upload_stream(self.documents, key, csv_chunks(rows, request.columns), "text/csv")
        item = {
            **keys.daily_order_report_key(day),
            "entity": "DailyOrderReport",
            "day": day,
            "orders": orders,
            "rows": rows.count,
            "bytes": written,
            "key": key,
            "createdAt": self._now(),
        }
        self.table.put(item)
        return item

    def daily_page(self, *, limit: int, next_token: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = self.table.query_page(keys.daily_order_reports(), limit=limit, next_token=next_token)
        shown = []
        for item in page.items:
            entry = {k: item[k] for k in ("day", "orders", "rows", "bytes", "createdAt")}
            if self.documents is not None:
                entry["url"] = self.documents.link(item["key"], filename=f"orders-{item['day']}.csv")
            shown.append(entry)
        return shown, page.next_token
