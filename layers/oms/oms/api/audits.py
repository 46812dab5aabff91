"""Cycle-count routes: start an audit (SKUs or an ABC class), enter counts, approve, the count schedule."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from oms.api.callers import actor
from oms.api.idempotency import run_once
from oms.api.paging import ListPage
from oms.domain.audits import AbcClass
from oms.domain.types import ApiModel
from oms.inventory.audits import (
    Audit,
    CountEntry,
    VarianceReport,
    approve_audit,
    create_audit,
    get_audit,
    list_audits,
    record_counts,
)
from oms.inventory.count_schedule import CountSchedule, count_schedule
from oms.settings import get_settings
from oms.store.default import default_table
from oms.store.once import Once

router = APIGatewayRouter()
AuditId = Annotated[str, Path(min_length=1, max_length=64, description="the auditId POST /audits gave")]


class NewAudit(ApiModel):
    skus: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        default=None, min_length=1, max_length=500, description="count these SKUs (every location)"
    )
    abc_class: AbcClass | None = Field(
        default=None, description="or every SKU of this class (A/B/C by sales value over 90 days)"
    )


class Counts(ApiModel):
    counts: list[CountEntry] = Field(min_length=1, max_length=500)


@router.post(
    "/audits",
    summary="Start a cycle count",
    tags=["audits"],
    responses={201: {"description": "started"}, 404: {"description": "unknown SKU, or an empty class"}},
)
def post_audit(new: Annotated[NewAudit, Body()]) -> tuple[Audit, int]:
    audit = create_audit(default_table(), skus=new.skus, abc_class=new.abc_class, actor=actor(router))
    return audit, 201


@router.get("/audits", summary="Audits, newest first", tags=["audits"])
def get_audits(
    limit: Annotated[int | None, Query(ge=1, le=500, description="page size")] = None,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=4096)] = None,
) -> ListPage:
    page = list_audits(
        default_table(), limit=limit or get_settings().default_page_size, next_token=next_token
    )
    return ListPage(items=page.items, next_token=page.next_token)


@router.get(
    "/audits/schedule", summary="When to count each SKU (A monthly, B quarterly, C yearly)", tags=["audits"]
)
def get_schedule(
    abc_class: Annotated[AbcClass | None, Query(alias="abcClass", description="only this class")] = None,
) -> CountSchedule:
    return count_schedule(default_table(), abc_class=abc_class)


@router.get(
    "/audits/<auditId>",
    summary="An audit with its variance report (a preview until approved)",
    tags=["audits"],
)
def get_one_audit(auditId: AuditId) -> Audit:  # the contract's name
    return get_audit(default_table(), auditId)


@router.put(
    "/audits/<auditId>/counts",
    summary="Enter counts (again, until approved)",
    tags=["audits"],
    responses={409: {"description": "the audit is approved"}},
)
def put_counts(auditId: AuditId, counts: Annotated[Counts, Body()]) -> Audit:
    return record_counts(default_table(), auditId, counts.counts, actor=actor(router))


# The report (up to 500 lines) is kept with the approved audit: the key's record names it instead of a copy.
_KEPT_WITH_THE_AUDIT = {"report": "kept with the approved audit"}


def _approve(call: dict[str, Any], once: Once | None) -> dict[str, Any]:
    report = approve_audit(
        default_table(),
        call["auditId"],
        actor=call["actor"],
        key_record=once.record(_KEPT_WITH_THE_AUDIT) if once else None,
    )
    return report.model_dump(mode="json", by_alias=True)


@router.post(
    "/audits/<auditId>/approve",
    summary="Approve: corrections to the ledger, the variance report back",
    tags=["audits"],
    responses={
        200: {"description": "approved (a retry with the same Idempotency-Key: the same report)"},
        409: {"description": "already approved, or nothing counted"},
    },
)
def post_approve(
    auditId: AuditId,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key", min_length=1, max_length=200, description="a retry with it approves once"
        ),
    ] = None,
) -> VarianceReport:
    call = {"auditId": auditId, "request": {}, "actor": actor(router)}
    answer = run_once(
        router,
        _approve,
        call,
        idempotency_key,
        route="POST /audits/{auditId}/approve",
        key_fields=("auditId",),
        what="approval",
    )
    if answer == _KEPT_WITH_THE_AUDIT:  # a retry of an approval that applied: its report, read back
        report = get_audit(default_table(), auditId).report
        assert report is not None and report.final
        return report
    return VarianceReport.model_validate(answer)
