"""Reports API 2021-06-30 (createReport, getReport, getReportDocument) and the document's text.

Shapes follow contracts/sp-api-models/reports-api-model/reports_2021-06-30.json; fields not read here
are ignored. Every call goes through the SP-API client, so it takes a token of the shared rate budget
(createReport and getReportDocument: one a minute, burst 15). A document is downloaded from the
presigned URL Amazon gives (valid five minutes) and, when `compressionAlgorithm` is GZIP, unzipped.
"""

from __future__ import annotations

import gzip
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from oms.amazon.client import SpApiClient, SpApiError
from oms.amazon.notifications import Instant
from oms.domain.types import iso_z


class ProcessingStatus(StrEnum):
    IN_QUEUE = "IN_QUEUE"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    CANCELLED = "CANCELLED"  # also how Amazon ends a report with no data (returns reports: no returns)
    FATAL = "FATAL"


FINISHED = frozenset({ProcessingStatus.DONE, ProcessingStatus.CANCELLED, ProcessingStatus.FATAL})


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class CreateReportResponse(_Model):
    report_id: str = Field(alias="reportId")


class Report(_Model):
    report_id: str = Field(alias="reportId")
    report_type: str = Field(alias="reportType")
    processing_status: ProcessingStatus = Field(alias="processingStatus")
    report_document_id: str | None = Field(default=None, alias="reportDocumentId")
    data_start_time: Instant = Field(default=None, alias="dataStartTime")
    data_end_time: Instant = Field(default=None, alias="dataEndTime")
    created_time: Instant = Field(default=None, alias="createdTime")


class ReportDocument(_Model):
    report_document_id: str = Field(alias="reportDocumentId")
    url: str
    compression_algorithm: str | None = Field(default=None, alias="compressionAlgorithm")


class ReportsApi:
    def __init__(self, client: SpApiClient, *, region: str = "na") -> None:
        self._client = client
        self._region = region

    def create_report(
        self, report_type: str, marketplace_ids: list[str], *, start: datetime, end: datetime
    ) -> str:
        body = {
            "reportType": report_type,
            "marketplaceIds": marketplace_ids,
            "dataStartTime": iso_z(start),
            "dataEndTime": iso_z(end),
        }
        answer = self._client.call("createReport", CreateReportResponse, region=self._region, body=body)
        return answer.report_id

    def get_report(self, report_id: str) -> Report:
        return self._client.call("getReport", Report, region=self._region, path={"reportId": report_id})

    def get_report_document(self, document_id: str) -> ReportDocument:
        return self._client.call(
            "getReportDocument", ReportDocument, region=self._region, path={"reportDocumentId": document_id}
        )

    def read_document(self, document_id: str) -> str:
        """The report's text: downloaded, unzipped when Amazon compressed it, decoded (Amazon's flat files
        are UTF-8 in most marketplaces, Windows-1252 in some: what is not UTF-8 is read as cp1252)."""
        document = self.get_report_document(document_id)
        data = self._client.transfer("GET", document.url)
        algorithm = (document.compression_algorithm or "").upper()
        if algorithm == "GZIP":
            data = gzip.decompress(data)
        elif algorithm:
            raise SpApiError("getReportDocument", 200, "UnknownCompression", algorithm)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return data.decode("cp1252", errors="replace")
