"""The stock rules, for any on-hand figure and any open orders (property tests)."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from oms.domain.orders import Order, OrderItem, with_shortage
from oms.domain.stock import Claim, StockLevel, allocate, balanced
from oms.inventory.allocation import SkuBook, reallocate
from tests.builders import T0


def _claim(
    order_id: str, needed: int, ship_by: str = "2026-11-28T09:00:00Z", purchased: str = "2026-11-26T09:00:00Z"
):
    return Claim(order_id, ship_by, purchased, needed)


def test_given_2_on_hand_when_an_order_wants_3_then_2_are_reserved_and_1_backordered():
    assert balanced(2, 3) == StockLevel(on_hand=2, reserved=2, backordered=1)
    assert allocate(2, [_claim("111-1", 3)]) == {"111-1": 1}


def test_the_order_that_must_ship_first_gets_the_units_whatever_arrived_first():
    later = _claim("111-1", 2, ship_by="2026-11-30T09:00:00Z")
    sooner = _claim("111-2", 2, ship_by="2026-11-28T09:00:00Z")

    assert allocate(3, [later, sooner]) == {"111-2": 0, "111-1": 1}


def test_same_ship_by_goes_to_the_earlier_purchase_then_the_lower_order_id():
    first = _claim("111-9", 1, purchased="2026-11-26T08:00:00Z")
    second = _claim("111-1", 1, purchased="2026-11-26T09:00:00Z")
    third = _claim("111-2", 1, purchased="2026-11-26T09:00:00Z")

    assert allocate(2, [third, second, first]) == {"111-9": 0, "111-1": 0, "111-2": 1}


def test_a_fully_reserved_order_is_not_short_when_another_order_of_the_sku_is_backordered():
    assert allocate(2, [_claim("111-1", 2), _claim("111-2", 3, ship_by="2026-12-01T09:00:00Z")]) == {
        "111-1": 0,
        "111-2": 3,
    }


claims = st.lists(
    st.builds(
        Claim,
        order_id=st.text("0123456789", min_size=1, max_size=3),
        ship_by=st.sampled_from(["2026-11-27T09:00:00Z", "2026-11-28T09:00:00Z", "9999"]),
        purchased=st.sampled_from(["2026-11-25T09:00:00Z", "2026-11-26T09:00:00Z"]),
        needed=st.integers(0, 6),
    ),
    max_size=8,
    unique_by=lambda c: c.order_id,
)


@given(on_hand=st.integers(0, 20), open_claims=claims, data=st.data())
def test_shorts_are_the_backorders_served_in_ship_by_order_whatever_the_arrival(on_hand, open_claims, data):
    short = allocate(on_hand, open_claims)
    shuffled = data.draw(st.permutations(open_claims))

    assert allocate(on_hand, shuffled) == short
    level = balanced(on_hand, sum(c.needed for c in open_claims))
    assert sum(short.values()) == level.backordered
    # no order is short while an order that ships later is served
    queue = sorted(open_claims, key=lambda c: c.queue_place)
    for index, claim in enumerate(queue):
        if short[claim.order_id]:
            assert all(short[later.order_id] == later.needed for later in queue[index + 1 :])
        assert 0 <= short[claim.order_id] <= claim.needed


# onHand goes below 0 when Amazon reports a shipment of units the shelf count never had; an order's need
# goes to 0 or below when it ships or is canceled (a need below 0 is how a bad figure would arrive)
any_on_hand = st.integers(-10, 20)
any_claims = st.lists(
    st.builds(
        Claim,
        order_id=st.text("0123456789", min_size=1, max_size=3),
        ship_by=st.sampled_from(["2026-11-27T09:00:00Z", "2026-11-28T09:00:00Z", "9999"]),
        purchased=st.sampled_from(["2026-11-25T09:00:00Z", "2026-11-26T09:00:00Z"]),
        needed=st.integers(-3, 6),
    ),
    max_size=8,
    unique_by=lambda c: c.order_id,
)


@given(on_hand=st.integers(-10, -1), open_claims=claims)
def test_below_zero_on_hand_serves_no_order_and_reserves_nothing(on_hand, open_claims):
    demand = sum(c.needed for c in open_claims)

    assert allocate(on_hand, open_claims) == {c.order_id: c.needed for c in open_claims}
    assert balanced(on_hand, demand) == StockLevel(on_hand=on_hand, reserved=0, backordered=demand)
    assert balanced(on_hand, demand).available == 0


@given(on_hand=any_on_hand, open_claims=any_claims, data=st.data())
def test_a_reallocation_over_any_on_hand_and_any_needs_holds_the_books(on_hand, open_claims, data):
    waiting = [c for c in open_claims if c.needed > 0]
    demand = sum(c.needed for c in waiting)

    change = reallocate(SkuBook("MUG", None, {}), on_hand=on_hand, claims=open_claims)

    assert set(change.short) == {c.order_id for c in waiting}, "an order that needs nothing is not short"
    after = change.after
    assert after.on_hand == on_hand
    assert after.reserved == min(demand, max(on_hand, 0)), "only units on the shelf are reserved"
    assert after.reserved + after.backordered == demand, "a need below 0 frees no units for others"
    assert after.available == max(on_hand, 0) - after.reserved
    assert sum(change.short.values()) == after.backordered
    queue = sorted(waiting, key=lambda c: c.queue_place)
    for index, claim in enumerate(queue):
        assert 0 <= change.short[claim.order_id] <= claim.needed
        if change.short[claim.order_id]:
            assert all(change.short[later.order_id] == later.needed for later in queue[index + 1 :])
    shuffled = data.draw(st.permutations(open_claims))
    again = reallocate(SkuBook("MUG", None, {}), on_hand=on_hand, claims=shuffled)
    assert (again.after, again.short) == (after, change.short)


@given(on_hand=any_on_hand, open_claims=any_claims)
def test_an_order_that_needs_nothing_any_more_gives_its_units_back_and_leaves_the_queue(on_hand, open_claims):
    placed = reallocate(SkuBook("MUG", None, {}), on_hand=on_hand, claims=open_claims)
    demand = {w.item["orderId"]: w.item for w in placed.own if w.kind == "Put" and w.item}
    book = SkuBook("MUG", {"onHand": on_hand, **_figures(placed.after)}, demand)
    leaving = next((c for c in open_claims if c.needed > 0), None)
    assume(leaving is not None)
    assert leaving is not None
    gone = Claim(leaving.order_id, leaving.ship_by, leaving.purchased, 0)  # it shipped, or was canceled

    change = reallocate(book, on_hand=on_hand, claims=[gone])

    rest = [c for c in open_claims if c.needed > 0 and c.order_id != leaving.order_id]
    assert leaving.order_id not in change.short
    assert change.after == balanced(on_hand, sum(c.needed for c in rest))
    assert [w.kind for w in change.own] == ["Delete"], "its demand item is removed, nothing else"
    assert {**{c.order_id: 0 for c in rest}, **change.short} == allocate(on_hand, rest)


def _figures(level: StockLevel) -> dict[str, int]:
    return {"reserved": level.reserved, "backordered": level.backordered}


def _order(items: list[tuple[str, int, int]]) -> Order:
    return Order(
        order_id="111-1",
        marketplace_id="ATVPDKIKX0DER",
        status="Unshipped",
        fulfillment_channel="MFN",
        purchase_date=T0,
        last_update_date=T0,
        items=[
            OrderItem(order_item_id=f"i{n}", sku=sku, quantity=quantity, quantity_shipped=shipped)
            for n, (sku, quantity, shipped) in enumerate(items)
        ],
        flags=["stockShortage", "atRisk"],
    )


def test_the_order_shows_units_short_per_line_and_is_flagged_only_while_short():
    order = _order([("MUG", 2, 0), ("CUP", 1, 0), ("MUG", 3, 1)])

    short = with_shortage(order, {"MUG": 3})
    assert [i.quantity_short for i in short.items] == [
        1,
        0,
        2,
    ]  # a SKU's last lines first, never past open units
    assert short.flags == ["atRisk", "stockShortage"]

    whole = with_shortage(short, {})
    assert [i.quantity_short for i in whole.items] == [0, 0, 0]
    assert whole.flags == ["atRisk"]
