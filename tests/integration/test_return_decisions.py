"""Deciding on return requests through the API on moto: authorize, close with a reason, 409 where the state
machine refuses; the deadline guard flags a request waiting too long decisionAtRisk then decisionLate,
announced once each (ReturnDecisionLate also goes to the alerts topic's rule), beside the refund clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from oms.domain.returns import ReturnItem, ReturnSource, new_return
from oms.domain.types import iso_z
from oms.inventory.stock import StockPolicy, adjust_stock, set_policy
from oms.returns.records import ReturnRecords, return_item
from oms.store import keys
from oms.store.default import default_table
from oms.store.orders import OrderRepository
from oms.store.table import Write
from tests.api_calls import call_api
from tests.builders import WAREHOUSE_SETTINGS
from tests.conftest import TEST_CLOCK
from tests.integration.test_returns import SKU, _guard_at, _order, _published, _receive, _record


@pytest.fixture
def shipped(stack, context) -> str:
    """As in test_returns: the warehouse set up, 10 mugs on hand, order 111-1 for 3 mugs shipped."""
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200
    set_policy(default_table(), SKU, StockPolicy())
    adjust_stock(default_table(), SKU, 10, reason="receipt", reference="PO-1", actor="test")
    _order("111-1", "Shipped", [(SKU, 3, 3)])
    return "111-1"


def _requested(order_id: str, return_id: str = "RET-AMZ1", at=TEST_CLOCK) -> str:
    """A request from Amazon's flow waiting for the seller, stored as the returns sync stores it."""
    order = OrderRepository(default_table()).get(order_id)
    ret = new_return(
        order,
        [ReturnItem(sku=SKU, quantity=1, reason="UNWANTED_ITEM")],
        return_id=return_id,
        at=at,
        source=ReturnSource.AMAZON,
        amazon_rma_id="DQ" + return_id[-4:],
    )
    default_table().transact([Write.put_new(return_item(ret))])
    return return_id


def test_a_seller_authorizes_a_request_once_and_a_retry_changes_nothing(stack, context, shipped):
    return_id = _requested(shipped)
    before = call_api(stack, context, "GET", f"/returns/{return_id}")[1]
    assert (before["status"], before["decisionDueBy"]) == (
        "requested",
        iso_z(TEST_CLOCK + timedelta(hours=24)),
    )

    status, ret = call_api(stack, context, "POST", f"/returns/{return_id}/authorize")
    assert status == 200, ret
    assert (ret["status"], ret["decidedAt"], ret["flags"]) == ("authorized", ret["decidedAt"], [])
    assert [t["status"] for t in ret["timeline"]] == ["requested", "authorized"]
    again = call_api(stack, context, "POST", f"/returns/{return_id}/authorize")
    assert again == (200, ret)
    assert _receive(stack, context, return_id, {"sku": SKU, "quantity": 1, "grade": "sellable"})[0] == 201
    refused = call_api(stack, context, "POST", f"/returns/{return_id}/authorize")
    assert refused[0] == 409 and "is restocked: it cannot become authorized" in refused[1]["error"]["message"]


def test_a_declined_request_is_closed_with_the_reason_and_its_units_can_be_returned_again(
    stack, context, shipped
):
    return_id = _requested(shipped)
    body = {"reason": "outside the return window"}
    status, ret = call_api(stack, context, "POST", f"/returns/{return_id}/close", body)
    assert status == 200, ret
    assert (ret["status"], ret["timeline"][-1]["note"]) == ("closed", "outside the return window")
    assert call_api(stack, context, "POST", f"/returns/{return_id}/close", body) == (200, ret)
    other = call_api(stack, context, "POST", f"/returns/{return_id}/close", {"reason": "another reason"})
    assert other[0] == 409
    assert call_api(stack, context, "POST", f"/returns/{return_id}/authorize")[0] == 409
    assert _record(stack, context, shipped, quantity=3)[0] == 201  # the declined unit is returnable again


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": 7}, {"why": "x"}])
def test_closing_without_a_reason_is_a_400_and_the_return_is_untouched(stack, context, shipped, body):
    return_id = _requested(shipped)
    status, answer = call_api(stack, context, "POST", f"/returns/{return_id}/close", body)
    assert status == 400, answer
    assert call_api(stack, context, "GET", f"/returns/{return_id}")[1]["status"] == "requested"


def test_a_return_received_and_not_yet_disposed_of_cannot_be_closed_and_an_unknown_one_is_404(
    stack, context, shipped
):
    return_id = _record(stack, context, shipped, quantity=2)[1]["returnId"]
    _receive(stack, context, return_id, {"sku": SKU, "quantity": 1, "grade": "sellable"})  # graded, 1 to come
    status, answer = call_api(stack, context, "POST", f"/returns/{return_id}/close", {"reason": "lost"})
    assert status == 409 and "is graded: it cannot become closed" in answer["error"]["message"]
    assert call_api(stack, context, "POST", "/returns/RET-NOPE/authorize")[0] == 404
    assert call_api(stack, context, "POST", "/returns/RET-NOPE/close", {"reason": "x"})[0] == 404


def test_a_request_left_waiting_is_flagged_at_risk_then_late_and_announced_once_each(stack, context, shipped):
    waiting = _requested(shipped, "RET-WAIT")
    answered = _requested(shipped, "RET-DONE")
    assert call_api(stack, context, "POST", f"/returns/{answered}/authorize")[0] == 200

    def flags() -> list[str]:
        return call_api(stack, context, "GET", f"/returns/{waiting}")[1]["flags"]

    early = _guard_at(stack, context, TEST_CLOCK + timedelta(hours=17))
    assert (early["decisionsChecked"], early["decisionsFlagged"], flags()) == (1, 0, [])
    near = _guard_at(stack, context, TEST_CLOCK + timedelta(hours=19))  # 5 of 24 hours left
    assert near["decisionsFlagged"] == 1 and flags() == ["decisionAtRisk"]
    assert _guard_at(stack, context, TEST_CLOCK + timedelta(hours=20))["decisionsFlagged"] == 0
    late = _guard_at(stack, context, TEST_CLOCK + timedelta(hours=25))
    assert late["decisionsFlagged"] == 1 and flags() == ["decisionAtRisk", "decisionLate"]
    assert late["refundsChecked"] == 0  # nothing received: the refund clock has nothing to weigh

    with time_machine.travel(TEST_CLOCK + timedelta(hours=26), tick=False):
        ret = call_api(stack, context, "POST", f"/returns/{waiting}/authorize")[1]
    assert ret["flags"] == [] and ret["decidedAt"] == iso_z(TEST_CLOCK + timedelta(hours=26))
    assert (
        _guard_at(stack, context, TEST_CLOCK + timedelta(hours=27))["decisionsChecked"] == 0
    )  # off the index

    heard = [e for e in _published(stack, context) if e["detail"]["data"].get("returnId") == waiting]
    assert [e["detail-type"] for e in heard] == [
        "ReturnRequested",
        "ReturnDecisionAtRisk",
        "ReturnDecisionLate",
    ]
    assert heard[-1]["detail"]["data"]["decisionDueBy"] == iso_z(TEST_CLOCK + timedelta(hours=24))


def test_an_answer_landing_while_the_guard_weighs_the_request_is_kept(stack, context, shipped):
    from oms.returns import deadlines

    return_id = _requested(shipped)
    table = default_table()
    stale = table.get(keys.return_key(return_id), consistent=True)  # what the guard's query found
    assert call_api(stack, context, "POST", f"/returns/{return_id}/authorize")[0] == 200

    settings = deadlines.ShippingSettingsStore(table).get()
    assert deadlines.reflag_return(table, stale, settings, TEST_CLOCK + timedelta(hours=30)) is None

    ret = ReturnRecords(table).get(return_id)
    assert (ret.status.value, ret.flags) == ("authorized", [])


def test_account_health_shows_requests_answered_late_and_refunds_beside_amazons_targets(
    stack, context, shipped
):
    _requested(shipped, "RET-LATE")
    _requested(shipped, "RET-SOON")
    with time_machine.travel(TEST_CLOCK + timedelta(hours=2), tick=False):
        assert call_api(stack, context, "POST", "/returns/RET-SOON/authorize")[0] == 200
    with time_machine.travel(TEST_CLOCK + timedelta(hours=30), tick=False):
        assert call_api(stack, context, "POST", "/returns/RET-LATE/close", {"reason": "declined"})[0] == 200
        status, health = call_api(stack, context, "GET", "/metrics/account-health")
    assert status == 200, health
    decisions = health["returnDecisionOnTimeRate"]
    assert (decisions["numerator"], decisions["denominator"], decisions["value"]) == (1, 2, 0.5)
    assert (decisions["target"], decisions["window"]) == (0.98, "30d")
    assert health["refundOnTimeRate"]["denominator"] == 0 and health["lateShipmentRate"]["target"] == 0.04
