"""Amazon's returns reports read, pure: columns by name, rows grouped by RMA (seller-fulfilled) or
deduplicated by (order, SKU, licence plate) (FBA), bad rows named by line, and what each row makes of a return."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oms.domain.orders import FulfillmentChannel, Order, OrderItem, OrderStatus
from oms.domain.returns import ReturnStatus
from oms.domain.returns_reports import (
    AmazonReturnStatus,
    ReportFormatError,
    amazon_return_id,
    fba_return,
    fba_return_id,
    mfn_return,
    parse_fba,
    parse_mfn,
    parse_returns_report,
    updated_from_mfn,
)
from oms.errors import Conflict
from tests.returns_reports import FBA_COLUMNS, MFN_COLUMNS, fba_row, mfn_row, tsv

T = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
DAY1, DAY2 = "2026-11-20T10:00:00+00:00", "2026-11-23T10:00:00+00:00"


def _order(channel=FulfillmentChannel.MFN, *lines: tuple[str, int]) -> Order:
    return Order(
        order_id="111-1",
        marketplace_id="ATVPDKIKX0DER",
        status=OrderStatus.SHIPPED,
        fulfillment_channel=channel,
        purchase_date=T - timedelta(days=20),
        last_update_date=T - timedelta(days=18),
        items=[
            OrderItem(order_item_id=f"i{n}", sku=sku, quantity=q, quantity_shipped=q)
            for n, (sku, q) in enumerate(lines or (("MUG", 3), ("CUP", 2)))
        ],
    )


def test_rows_of_one_rma_are_one_return_and_a_repeated_row_is_counted_once():
    text = tsv(
        MFN_COLUMNS,
        [
            mfn_row("111-1", "RMA1", "MUG", 2, requested=DAY1, status="Pending", in_policy="N", tracking=""),
            mfn_row("111-1", "RMA1", "CUP", 1, requested=DAY1, status="Approved", reason="WRONG_ITEM"),
            mfn_row("111-1", "RMA1", "MUG", 2, requested=DAY1, status="Approved"),
        ],
    )
    parsed = parse_mfn(text)
    assert (parsed.rows, parsed.duplicates, parsed.bad) == (3, 1, [])
    (found,) = parsed.mfn
    assert [(i.sku, i.quantity, i.reason) for i in found.items] == [
        ("MUG", 2, "DEFECTIVE"),
        ("CUP", 1, "WRONG_ITEM"),
    ]
    assert found.status is AmazonReturnStatus.AUTHORIZED, "the furthest status of its rows"
    assert (found.tracking_id, found.carrier, found.in_policy) == ("1Z999AA10123456784", "UPS", False)
    assert found.label_cost is not None and (found.label_cost.amount, found.label_cost.currency_code) == (
        "7.25",
        "USD",
    )
    assert found.lines == [2, 3, 4]


def test_unknown_and_reordered_columns_are_tolerated_and_bad_rows_are_named_by_line():
    columns = ["Some new column", *reversed(MFN_COLUMNS)]
    rows = [
        mfn_row("111-1", "RMA1", "MUG", requested=DAY1, **{"Some new column": "x"}),
        mfn_row("111-2", "RMA2", "MUG", 0, requested=DAY1),
        mfn_row("111-3", "RMA3", "MUG", requested="yesterday"),
        mfn_row("111-4", "", "MUG", requested=DAY1),
        mfn_row("111-5", "RMA5", "MUG", requested=DAY1, status="Teleported"),
        mfn_row("111-6", "RMA6", "MUG", requested=DAY1, **{"Label cost": "seven"}),
        mfn_row("111-7", "RMA7", "MUG", requested="20-Nov-2026"),
    ]
    parsed = parse_mfn(tsv(columns, rows))
    assert [r.rma_id for r in parsed.mfn] == ["RMA1", "RMA7"]
    assert parsed.mfn[1].requested_at == datetime(2026, 11, 20, tzinfo=UTC)
    assert [(b.line, b.problem.split(" ")[0]) for b in parsed.bad] == [
        (3, "Return"), (4, "Return"), (5, "Amazon"), (6, "Return"), (7, "Label"),
    ]  # fmt: skip
    assert "'yesterday' is not a date" in parsed.bad[1].problem


def test_a_report_without_a_column_a_return_needs_is_refused_whole():
    columns = [c for c in MFN_COLUMNS if c != "Amazon RMA ID"]
    with pytest.raises(ReportFormatError, match="Amazon RMA ID"):
        parse_mfn(tsv(columns, [mfn_row("111-1", "RMA1", "MUG", requested=DAY1)]))
    with pytest.raises(ReportFormatError):
        parse_returns_report("GET_MERCHANT_LISTINGS_ALL_DATA", "")
    assert parse_returns_report("GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA", "").fba == []


def test_one_fba_return_listed_with_several_dates_is_one_return_and_its_earliest_date_is_kept():
    text = tsv(
        FBA_COLUMNS,
        [
            fba_row("111-1", "TEA", "LPN1", returned=DAY2),
            fba_row("111-1", "TEA", "LPN1", returned=DAY1),
            fba_row("111-1", "TEA", "LPN2", returned=DAY2, disposition="customer_damaged"),
            fba_row("111-1", "TEA", "", returned=DAY2),
            fba_row("111-1", "TEA", "LPN3", 2, returned="2026-13-01"),
        ],
    )
    parsed = parse_fba(text)
    assert parsed.duplicates == 1
    assert [(r.license_plate, r.returned_at.day, r.disposition, r.sellable) for r in parsed.fba] == [
        ("LPN1", 20, "SELLABLE", True),
        ("LPN2", 23, "CUSTOMER_DAMAGED", False),
    ]
    assert [b.line for b in parsed.bad] == [5, 6]
    assert fba_return_id("111-1", "TEA", "LPN1") != fba_return_id("111-1", "TEA", "LPN2")
    assert amazon_return_id("RMA1") == amazon_return_id("RMA1") != amazon_return_id("RMA2")


def test_in_policy_returns_are_authorized_at_once_others_wait_and_statuses_only_move_forward():
    (found,) = parse_mfn(
        tsv(MFN_COLUMNS, [mfn_row("111-1", "RMA1", "MUG", requested=DAY1, status="Pending")])
    ).mfn
    ret = mfn_return(_order(), found, earlier=[], now=T)
    assert ret.status is ReturnStatus.AUTHORIZED, "in policy: authorized by Amazon automatically"
    assert (ret.tracking_id, ret.carrier, ret.in_policy, ret.resolution) == (
        "1Z999AA10123456784", "UPS", True, "StandardRefund",
    )  # fmt: skip
    assert ret.timeline[-1].at == found.requested_at

    (waiting,) = parse_mfn(
        tsv(MFN_COLUMNS, [mfn_row("111-1", "RMA2", "MUG", requested=DAY1, status="Pending", in_policy="N")])
    ).mfn
    requested = mfn_return(_order(), waiting, earlier=[], now=T)
    assert requested.status is ReturnStatus.REQUESTED, "out of policy: the seller decides"
    assert updated_from_mfn(requested, waiting, now=T) == requested, "the same row again changes nothing"

    (closed,) = parse_mfn(
        tsv(MFN_COLUMNS, [mfn_row("111-1", "RMA2", "MUG", requested=DAY1, status="Closed", in_policy="N")])
    ).mfn
    after = updated_from_mfn(requested, closed, now=T)
    assert after.status is ReturnStatus.CLOSED and "Closed" in (after.timeline[-1].note or "")
    assert updated_from_mfn(after, waiting, now=T) == after, "an older row never moves a return back"


def test_amazon_closing_a_return_never_closes_one_whose_units_came_back():
    (found,) = parse_mfn(tsv(MFN_COLUMNS, [mfn_row("111-1", "RMA1", "MUG", requested=DAY1)])).mfn
    ret = mfn_return(_order(), found, earlier=[], now=T).model_copy(update={"status": ReturnStatus.RESTOCKED})
    (closed,) = parse_mfn(
        tsv(MFN_COLUMNS, [mfn_row("111-1", "RMA1", "MUG", requested=DAY1, status="Closed")])
    ).mfn
    assert updated_from_mfn(ret, closed, now=T).status is ReturnStatus.RESTOCKED


def test_an_fba_return_is_graded_by_amazon_and_unsellable_units_are_listed_for_removal():
    parsed = parse_fba(
        tsv(
            FBA_COLUMNS,
            [
                fba_row("111-1", "TEA", "LPN1", returned=DAY1),
                fba_row("111-1", "TEA", "LPN2", returned=DAY1, disposition="DEFECTIVE", centre="SDF8"),
            ],
        )
    )
    order = _order(FulfillmentChannel.AFN, ("TEA", 2))
    sellable = fba_return(order, parsed.fba[0], earlier=[])
    damaged = fba_return(order, parsed.fba[1], earlier=[sellable])
    assert (sellable.status, sellable.items[0].for_removal) == (ReturnStatus.RESTOCKED, False)
    assert (damaged.status, damaged.items[0].for_removal) == (ReturnStatus.QUARANTINED, True)
    assert (damaged.items[0].disposition, damaged.items[0].fulfillment_center_id) == ("DEFECTIVE", "SDF8")
    assert damaged.license_plate_number == "LPN2" and damaged.refund_due_by is None
    assert [e.note for e in damaged.timeline][-2:] == [
        "1 unit(s) defective, graded by Amazon",
        "unsellable at Amazon: to be removed",
    ]
    with pytest.raises(Conflict):  # a third unit of an order of two
        fba_return(order, parsed.fba[1], earlier=[sellable, damaged])
