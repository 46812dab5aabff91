"""GET /reports/orders (JSON pages, CSV inline or as a job), its column catalogue, report jobs, daily reports,
and archiving an order (POST/DELETE /orders/{orderId}/archive), which the "archived" view shows."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any, Literal
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict, Field

from oms.domain.types import UtcDateTime
from oms.errors import InvalidInput
from oms.reports.columns import catalogue
from oms.reports.export import inline_csv
from oms.reports.jobs import ReportJobs
from oms.reports.query import ReportRequest, View
from oms.reports.reader import OrderReports
from oms.reports.return_columns import parse_return_columns, return_catalogue
from oms.reports.returns_report import ReturnReports
from oms.settings import get_settings
from oms.store.default import default_table
from oms.store.documents import default_documents

router = APIGatewayRouter()


class ReportPage(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    columns: list[str]
    items: list[dict[str, str | None]]
    next_token: str | None = Field(default=None, serialization_alias="nextToken")


class Catalogue(BaseModel):
    items: list[dict[str, Any]]
    views: list[str]


def _reports() -> OrderReports:
    return OrderReports(default_table(), archive_after_days=get_settings().archive_after_days)


def _jobs(*, with_documents: bool = True) -> ReportJobs:
    settings = get_settings()
    return ReportJobs(
        default_table(),
        default_documents() if with_documents else None,
        queue_url=settings.report_jobs_queue_url,
        archive_after_days=settings.archive_after_days,
    )


@router.get(
    "/reports/orders",
    summary="Order report: one row per order item, chosen columns, JSON pages or CSV",
    description=(
        "JSON: `{columns, items: [{column: text}], nextToken}`, `limit` orders a page. CSV: the file when it is "
        "small (under 2 MB), else 202 `{jobId, status}`: poll GET /reports/jobs/{jobId} for its link. "
        "Columns: GET /reports/orders/columns."
    ),
    tags=["reports"],
    responses={
        200: {"description": "a JSON page, or the CSV (text/csv)"},
        202: {"description": "a large CSV is being built: {jobId, status, statusUrl}"},
    },
)
def order_report(
    view: Annotated[str | None, Query(description=f"one of {', '.join(View)} (default all)")] = None,
    columns: Annotated[
        str | None, Query(description="comma list of catalogue columns", max_length=2000)
    ] = None,
    format: Annotated[Literal["json", "csv"] | None, Query(description="json (default) or csv")] = None,
    purchased_from: Annotated[
        UtcDateTime | None, Query(alias="from", description="purchased at or after")
    ] = None,
    purchased_to: Annotated[
        UtcDateTime | None, Query(alias="to", description="purchased at or before")
    ] = None,
    since: Annotated[
        UtcDateTime | None, Query(description="view=new: purchased since this time, instead of your mark")
    ] = None,
    mark_seen: Annotated[
        bool,
        Query(alias="markSeen", description="view=new: once read to the end, these orders are no longer new"),
    ] = False,
    limit: Annotated[int | None, Query(ge=1, le=500, description="orders per JSON page")] = None,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=4096)] = None,
) -> Any:
    request = ReportRequest.parse(view, columns, purchased_from, purchased_to, since)
    if mark_seen and request.view != View.NEW:
        raise InvalidInput.for_field("markSeen", "belongs to view=new")
    reports = _reports()
    if format == "csv":
        if next_token:
            raise InvalidInput.for_field("nextToken", "belongs to JSON pages; a CSV holds the whole report")
        text, state = inline_csv(reports, request)
        if text is None:
            job = _jobs(with_documents=False).create(request, state, mark_seen=mark_seen)
            status_url = f"/reports/jobs/{job['jobId']}"
            return Response(
                status_code=HTTPStatus.ACCEPTED,
                content_type=content_types.APPLICATION_JSON,
                body={"jobId": job["jobId"], "status": job["status"], "statusUrl": status_url},
                headers={"Location": status_url},
            )
        if mark_seen:
            reports.mark_seen(state.at)
        return Response(
            status_code=HTTPStatus.OK,
            content_type="text/csv; charset=utf-8",
            body=text,
            headers={"Content-Disposition": f'attachment; filename="orders-{request.view.value}.csv"'},
        )
    page, state = reports.page(
        request, limit=limit or get_settings().default_page_size, next_token=next_token
    )
    if mark_seen and page.next_token is None:
        reports.mark_seen(state.at)
    return ReportPage(columns=list(request.columns), items=page.rows, next_token=page.next_token)


@router.get("/reports/orders/columns", summary="The order report's columns and views", tags=["reports"])
def report_columns() -> Catalogue:
    return Catalogue(items=catalogue(), views=[v.value for v in View])


@router.get(
    "/reports/returns",
    summary="Returns report: one row per returned SKU, chosen columns, JSON pages or CSV",
    description=(
        "The returns requested in `from`..`to` (default: all), newest first; times in the warehouse's zone. "
        "JSON: `{columns, items: [{column: text}], nextToken}`, `limit` returns a page. CSV: the whole file "
        "(a range whose CSV passes 2 MB is a 400: ask for fewer days). Columns: GET /reports/returns/columns."
    ),
    tags=["reports"],
    responses={200: {"description": "a JSON page, or the CSV (text/csv)"}},
)
def returns_report(
    columns: Annotated[
        str | None, Query(description="comma list of catalogue columns", max_length=2000)
    ] = None,
    format: Annotated[Literal["json", "csv"] | None, Query(description="json (default) or csv")] = None,
    requested_from: Annotated[
        UtcDateTime | None, Query(alias="from", description="requested at or after")
    ] = None,
    requested_to: Annotated[
        UtcDateTime | None, Query(alias="to", description="requested at or before")
    ] = None,
    limit: Annotated[int | None, Query(ge=1, le=500, description="returns per JSON page")] = None,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=4096)] = None,
) -> Any:
    chosen = parse_return_columns(columns)
    reports = ReturnReports(default_table())
    if format == "csv":
        if next_token:
            raise InvalidInput.for_field("nextToken", "belongs to JSON pages; a CSV holds the whole report")
        return Response(
            status_code=HTTPStatus.OK,
            content_type="text/csv; charset=utf-8",
            body=reports.csv(chosen, requested_from, requested_to),
            headers={"Content-Disposition": 'attachment; filename="returns.csv"'},
        )
    rows, token = reports.page(
        chosen,
        requested_from,
        requested_to,
        limit=limit or get_settings().default_page_size,
        next_token=next_token,
    )
    return ReportPage(columns=list(chosen), items=rows, next_token=token)


@router.get("/reports/returns/columns", summary="The returns report's columns", tags=["reports"])
def returns_report_columns() -> Catalogue:
    return Catalogue(items=return_catalogue(), views=[])


@router.get(
    "/reports/jobs/<jobId>",
    summary="A large report being built, and its CSV link when done",
    tags=["reports"],
)
def report_job(jobId: Annotated[str, Path(min_length=1, max_length=64)]) -> dict[str, Any]:
    jobs = _jobs()
    return jobs.answer(jobs.get(unquote(jobId)))


@router.get("/reports/daily", summary="Daily all-orders reports, newest first, with links", tags=["reports"])
def daily_reports(
    limit: Annotated[int | None, Query(ge=1, le=100, description="page size")] = None,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=4096)] = None,
) -> dict[str, Any]:
    items, token = _jobs().daily_page(limit=limit or 30, next_token=next_token)
    return {"items": items, "nextToken": token}


@router.post(
    "/orders/<orderId>/archive", summary="Archive an order (the archived report view)", tags=["reports"]
)
def archive_order(orderId: Annotated[str, Path(min_length=1, max_length=64)]) -> dict[str, Any]:
    return _reports().archive(unquote(orderId))


@router.delete("/orders/<orderId>/archive", summary="Unarchive an order", tags=["reports"])
def unarchive_order(orderId: Annotated[str, Path(min_length=1, max_length=64)]) -> dict[str, Any]:
    return _reports().unarchive(unquote(orderId))
