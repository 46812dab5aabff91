"""Amazon's finished reports (REPORT_PROCESSING_FINISHED): recorded for the importers that read them.

A report Amazon finished is a pointer (report id, type, document id). Its owner here records it,
once, so the job that asked for it (e.g. an inventory sync reading a report instead of paging an
API) finds its document without polling getReport.
"""

from __future__ import annotations

from oms.amazon.inventory_notifications import ReportPayload
from oms.amazon.notifications import Notification, Outcome
from oms.errors import AlreadyExists
from oms.store import keys
from oms.store.default import default_table
from oms.store.table import Table


def apply_report_finished(envelope: Notification) -> Outcome:
    return record_finished_report(default_table(), envelope)


def record_finished_report(table: Table, envelope: Notification) -> Outcome:
    report = ReportPayload.model_validate(envelope.payload).notification
    try:
        table.put_new(
            {
                **keys.report_key(report.report_id),
                **keys.report_index_keys(report.report_type, envelope.event_time_text, report.report_id),
                "entity": "FinishedReport",
                "reportId": report.report_id,
                "reportType": report.report_type,
                "processingStatus": report.processing_status,
                "reportDocumentId": report.report_document_id,
                "finishedAt": envelope.event_time_text,
                "notificationId": envelope.notification_id,
            }
        )
    except AlreadyExists:
        return Outcome.DUPLICATE
    return Outcome.APPLIED
