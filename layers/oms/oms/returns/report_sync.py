"""The returns sync: Amazon's two returns reports asked for on a schedule and applied when they finish.

- On schedule (sync_returns), per report type and marketplace: the report asked before and not yet read
  is looked at (getReport); a finished one is applied here (the backstop for a lost notification), a FATAL
  one logged as a failure and asked again; then a new one is asked (createReport) for the window from the
  last applied end less an overlap (Amazon's statuses of recent returns still move), at most 60 days.
- When REPORT_PROCESSING_FINISHED for one of them is recorded (reports/finished.py), the table's stream
  brings it to sync_returns: DONE -> the document is read (gzip when Amazon says) and its rows applied;
  CANCELLED -> "no returns" (Amazon ends an empty returns report CANCELLED, not DONE); FATAL -> a failure,
  logged, asked again next run. Applied once: a marker per report id, written with the sync's window in
  one transaction after the rows (each row its own transaction, idempotent: a crash between re-applies
  rows and changes nothing twice).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from oms.amazon.client import SpApiError
from oms.amazon.rate_budget import BudgetExhausted
from oms.amazon.reports_api import FINISHED, ProcessingStatus, ReportsApi
from oms.domain.returns_reports import RETURNS_REPORTS, Parsed, ReportFormatError, parse_returns_report
from oms.domain.types import iso_z, utc_now
from oms.errors import Conflict
from oms.observability import logger, metrics
from oms.returns.from_amazon import Applied, apply_parsed
from oms.store import keys
from oms.store.table import Item, Table, Write, back_off

MAX_WINDOW = timedelta(days=60)  # Amazon: at most 60 days per returns report
OVERLAP = timedelta(days=14)  # re-read: a return's status and label facts still change after its request
FIRST_WINDOW = timedelta(days=30)  # the first run looks this far back
STALE_REQUEST = timedelta(hours=6)  # a report not finished after this is asked again
_ATTEMPTS = 10


@dataclass
class SyncReport:
    requested: list[str] = field(default_factory=list)
    applied: dict[str, dict[str, object]] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "requested": self.requested,
            "applied": self.applied,
            "failed": self.failed,
            "waiting": self.waiting,
        }


def window_for(state: Item | None, now: datetime) -> tuple[datetime, datetime]:
    """The next report's window: from the last applied end less the overlap (the first: FIRST_WINDOW
    back), to now, never more than 60 days (a long gap is caught up window by window)."""
    applied = state.get("appliedThrough") if state else None
    start = datetime.fromisoformat(applied) - OVERLAP if applied else now - FIRST_WINDOW
    return start, min(now, start + MAX_WINDOW)


class ReturnsSync:
    def __init__(self, table: Table, reports: ReportsApi, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._table = table
        self._reports = reports
        self._clock = clock

    # --- on schedule -----------------------------------------------------------------------------

    def run(self, marketplaces: Sequence[str], report_types: Sequence[str] = RETURNS_REPORTS) -> SyncReport:
        report = SyncReport()
        problem: Exception | None = None
        for marketplace_id in marketplaces:
            for report_type in report_types:
                try:
                    self._run_one(report_type, marketplace_id, report)
                except (SpApiError, BudgetExhausted) as error:  # the other reports are still asked for
                    logger.error(
                        "returns sync could not reach Amazon's Reports API",
                        extra={
                            "reportType": report_type,
                            "marketplaceId": marketplace_id,
                            "problem": str(error),
                        },
                    )
                    problem = problem or error
        if problem is not None:
            raise problem  # the run fails (the function's alarm) once every report type had its turn
        return report

    def _run_one(self, report_type: str, marketplace_id: str, report: SyncReport) -> None:
        state = self._state(report_type, marketplace_id)
        pending = (state or {}).get("pendingReportId")
        if pending:
            amazon = self._reports.get_report(pending)
            if amazon.processing_status in FINISHED:
                self.apply_finished(
                    pending, report_type, amazon.processing_status, amazon.report_document_id, report
                )
            elif self._clock() - datetime.fromisoformat(state["requestedAt"]) < STALE_REQUEST:  # type: ignore[index]
                report.waiting.append(pending)
                return
            else:
                logger.warning("returns report never finished; asking again", extra={"reportId": pending})
                self._clear_pending(report_type, marketplace_id, pending)
            state = self._state(report_type, marketplace_id)
            if (state or {}).get("pendingReportId"):
                return
        self._request(report_type, marketplace_id, state, report)

    def _request(self, report_type: str, marketplace_id: str, state: Item | None, report: SyncReport) -> None:
        now = self._clock()
        start, end = window_for(state, now)
        report_id = self._reports.create_report(report_type, [marketplace_id], start=start, end=end)
        request = {
            **keys.returns_report_request_key(report_id),
            "entity": "ReturnsReportRequest",
            "reportId": report_id,
            "reportType": report_type,
            "marketplaceId": marketplace_id,
            "dataStartTime": iso_z(start),
            "dataEndTime": iso_z(end),
            "requestedAt": iso_z(now),
        }
        new_state = {
            **(state or {}),
            **keys.returns_sync_key(report_type, marketplace_id),
            "entity": "ReturnsSync",
            "reportType": report_type,
            "marketplaceId": marketplace_id,
            "pendingReportId": report_id,
            "requestedAt": iso_z(now),
        }
        # A crash after createReport and before this write leaves Amazon's report unrecorded: its
        # notification still applies its rows, and the next run asks again. Nothing is lost.
        self._table.transact(
            [Write.put_new(request), Write.put_versioned(new_state, int(state["version"]) if state else None)]
        )
        report.requested.append(report_id)
        logger.info(
            "returns report asked",
            extra={k: request[k] for k in ("reportId", "reportType", "dataStartTime", "dataEndTime")},
        )

    # --- when Amazon finished one -------------------------------------------------------------------

    def apply_finished(
        self,
        report_id: str,
        report_type: str,
        status: ProcessingStatus | str,
        document_id: str | None,
        report: SyncReport | None = None,
    ) -> str:
        """Apply a finished returns report once: 'applied', 'empty' (CANCELLED: no returns), 'failed'
        (FATAL, or a document that cannot be read: asked again next run) or 'duplicate'."""
        report = report or SyncReport()
        if self._table.get(keys.returns_report_applied_key(report_id), consistent=True) is not None:
            return "duplicate"
        request = self._table.get(keys.returns_report_request_key(report_id), consistent=True)
        if status not in ProcessingStatus.__members__.values():
            return self._failed(
                report_id, report_type, request, f"unknown processing status {status!r}", report
            )
        status = ProcessingStatus(status)
        if status is ProcessingStatus.FATAL:
            return self._failed(
                report_id, report_type, request, "Amazon could not build the report (FATAL)", report
            )
        applied = Applied()
        if status is ProcessingStatus.DONE:
            if not document_id:
                return self._failed(report_id, report_type, request, "DONE without a document", report)
            try:
                parsed = parse_returns_report(report_type, self._reports.read_document(document_id))
            except ReportFormatError as unreadable:
                return self._failed(report_id, report_type, request, str(unreadable), report)
            applied = apply_parsed(self._table, parsed, now=self._clock(), report_id=report_id)
        else:  # CANCELLED: Amazon's way of saying the window had no returns
            applied = apply_parsed(self._table, Parsed(), now=self._clock(), report_id=report_id)
        self._mark_applied(report_id, report_type, request, status, applied)
        report.applied[report_id] = applied.as_dict()
        metrics.add_metric(name="ReturnsReportRowsBad", unit=MetricUnit.Count, value=len(applied.bad))
        metrics.add_metric(name="ReturnsCreated", unit=MetricUnit.Count, value=applied.counts["created"])
        logger.info(
            "returns report applied",
            extra={
                "reportId": report_id,
                "reportType": report_type,
                "status": status.value,
                "counts": applied.as_dict(),  # nested: "created" would clash with the log record's own
            },
        )
        return "applied" if status is ProcessingStatus.DONE else "empty"

    def _failed(
        self, report_id: str, report_type: str, request: Item | None, why: str, report: SyncReport
    ) -> str:
        logger.error(
            "returns report failed; asked again next run",
            extra={"reportId": report_id, "reportType": report_type, "problem": why},
        )
        metrics.add_metric(name="ReturnsReportsFailed", unit=MetricUnit.Count, value=1)
        if request is not None:
            self._clear_pending(request["reportType"], request["marketplaceId"], report_id)
        report.failed.append(report_id)
        return "failed"

    def _mark_applied(
        self,
        report_id: str,
        report_type: str,
        request: Item | None,
        status: ProcessingStatus,
        applied: Applied,
    ) -> None:
        marker = {
            **keys.returns_report_applied_key(report_id),
            "entity": "ReturnsReportApplied",
            "reportId": report_id,
            "reportType": report_type,
            "processingStatus": status.value,
            "appliedAt": iso_z(self._clock()),
            **applied.as_dict(),
        }
        for attempt in range(_ATTEMPTS):
            writes = [Write.put_new(marker)]
            if request is not None:
                state = self._state(request["reportType"], request["marketplaceId"])
                if state is not None:
                    writes.append(
                        Write.put_versioned(
                            _advanced(state, request, report_id), int(state.get("version", 0))
                        )
                    )
            try:
                self._table.transact(writes)
            except Conflict:
                if self._table.get(keys.returns_report_applied_key(report_id), consistent=True) is not None:
                    return  # applied meanwhile by another reader of the same report
                back_off(attempt)
                continue
            return
        raise Conflict(f"returns report {report_id}: the sync state is changing too fast")

    # --- the state ---------------------------------------------------------------------------------

    def _state(self, report_type: str, marketplace_id: str) -> Item | None:
        return self._table.get(keys.returns_sync_key(report_type, marketplace_id), consistent=True)

    def _clear_pending(self, report_type: str, marketplace_id: str, report_id: str) -> None:
        for attempt in range(_ATTEMPTS):
            state = self._state(report_type, marketplace_id)
            if state is None or state.get("pendingReportId") != report_id:
                return
            cleared = {k: v for k, v in state.items() if k not in ("pendingReportId", "requestedAt")}
            try:
                self._table.transact([Write.put_versioned(cleared, int(state.get("version", 0)))])
            except Conflict:
                back_off(attempt)
                continue
            return


def _advanced(state: Item, request: Item, report_id: str) -> dict[str, Any]:
    """The sync state once `request`'s report is applied: its end applied (never moved back); no longer
    pending if it was the one pending."""
    after = dict(state)
    if not state.get("appliedThrough") or state["appliedThrough"] < request["dataEndTime"]:
        after["appliedThrough"] = request["dataEndTime"]
    if state.get("pendingReportId") == report_id:
        after.pop("pendingReportId", None)
        after.pop("requestedAt", None)
    return after


def finished_reports_in(records: Sequence[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(sequence number, finished report) for each FinishedReport of a returns report type in a stream
    batch (the template's filter already keeps only those)."""
    out = []
    for record in records:
        image = record.get("dynamodb", {}).get("NewImage") or {}
        if image.get("entity", {}).get("S") != "FinishedReport":
            continue
        report_type = image.get("reportType", {}).get("S", "")
        if report_type not in RETURNS_REPORTS:
            continue
        out.append(
            (
                record["dynamodb"]["SequenceNumber"],
                {
                    "reportId": image["reportId"]["S"],
                    "reportType": report_type,
                    "processingStatus": image.get("processingStatus", {}).get("S", ""),
                    "reportDocumentId": image.get("reportDocumentId", {}).get("S"),
                },
            )
        )
    return out
