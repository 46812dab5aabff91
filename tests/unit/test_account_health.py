"""Account health counted on chosen orders at a frozen instant, against a hand count; projections; and the
order a shipment recorded here leaves behind (units never un-ship)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oms.domain.orders import (
    Confirmation,
    ConfirmationStatus,
    FulfillmentChannel,
    Order,
    OrderFlag,
    OrderItem,
    OrderStatus,
    Shipment,
    ShipmentItem,
    ShipmentSource,
)
from oms.domain.shipments import allocate, never_unshipped, remaining_units, with_shipment
from oms.shipping.account_health import account_health
from oms.warehouse.settings import ShippingSettings

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # a Thursday (Thanksgiving in the US)
SETTINGS = ShippingSettings()


def _order(
    n: int,
    *,
    purchased_days_ago: float,
    ship_by_days_ago: float,
    status: OrderStatus = OrderStatus.SHIPPED,
    shipped_days_ago: float | None = None,
    tracking: str = "1Z999AA10123456784",
    flags: tuple[OrderFlag, ...] = (),
    deliver_by_days_ago: float | None = None,
    channel: FulfillmentChannel = FulfillmentChannel.MFN,
) -> Order:
    shipments = []
    if shipped_days_ago is not None:
        shipments.append(
            Shipment(
                shipment_id="1",
                carrier="UPS",
                carrier_name="UPS",
                tracking_number=tracking,
                ship_date=NOW - timedelta(days=shipped_days_ago),
                items=[ShipmentItem(order_item_id=f"{n}-1", sku="S", quantity=1)],
                source=ShipmentSource.RECORDED,
                created_at=NOW - timedelta(days=shipped_days_ago),
                estimated_delivery=NOW - timedelta(days=shipped_days_ago - 2),
                confirmation=Confirmation(
                    status=ConfirmationStatus.CONFIRMED, confirmed_at=NOW - timedelta(days=shipped_days_ago)
                ),
            )
        )
    return Order(
        order_id=f"111-{n}",
        marketplace_id="ATVPDKIKX0DER",
        status=status,
        fulfillment_channel=channel,
        purchase_date=NOW - timedelta(days=purchased_days_ago),
        last_update_date=NOW - timedelta(days=purchased_days_ago),
        latest_ship_date=NOW - timedelta(days=ship_by_days_ago),
        latest_delivery_date=None
        if deliver_by_days_ago is None
        else NOW - timedelta(days=deliver_by_days_ago),
        items=[OrderItem(order_item_id=f"{n}-1", sku="S", quantity=1)],
        shipments=shipments,
        flags=list(flags),
    )


def test_every_metric_matches_a_hand_count():
    orders = [
        # 1: due 3 days ago, shipped on time (4 days ago), delivered by estimate on time
        _order(1, purchased_days_ago=5, ship_by_days_ago=3, shipped_days_ago=4, deliver_by_days_ago=1),
        # 2: due 5 days ago, shipped a day late; its estimate (day -4) is after the promise (day -5 + 0)
        _order(2, purchased_days_ago=6, ship_by_days_ago=5, shipped_days_ago=4, deliver_by_days_ago=5),
        # 3: due 20 days ago, shipped late: counts in the 30-day window only
        _order(3, purchased_days_ago=22, ship_by_days_ago=20, shipped_days_ago=19),
        # 4: due yesterday, still unshipped: late
        _order(
            4, purchased_days_ago=3, ship_by_days_ago=1, status=OrderStatus.UNSHIPPED, flags=(OrderFlag.LATE,)
        ),
        # 5: canceled by the seller 2 days after purchase, 3 days ago: a pre-fulfilment cancel
        _order(5, purchased_days_ago=3, ship_by_days_ago=1, status=OrderStatus.CANCELED),
        # 6: canceled at the buyer's request: not counted against the seller
        _order(
            6,
            purchased_days_ago=2,
            ship_by_days_ago=0.5,
            status=OrderStatus.CANCELED,
            flags=(OrderFlag.BUYER_REQUESTED_CANCEL,),
        ),
        # 7: due tomorrow, at risk: only in the projections
        _order(
            7,
            purchased_days_ago=1,
            ship_by_days_ago=-1,
            status=OrderStatus.UNSHIPPED,
            flags=(OrderFlag.AT_RISK,),
            deliver_by_days_ago=-4,
        ),
        # 8: shipped with a tracking number that fails UPS's check digit
        _order(
            8, purchased_days_ago=8, ship_by_days_ago=6, shipped_days_ago=7, tracking="1Z999AA10123456785"
        ),
        # 9: Amazon fulfils it: never counted
        _order(9, purchased_days_ago=2, ship_by_days_ago=1, channel=FulfillmentChannel.AFN),
    ]

    health = account_health(orders, SETTINGS, NOW)

    # late shipment, 10 days: due in window = 1, 2, 4, 8 (5, 6 canceled); late = 2, 4
    assert (health.late_shipment_rate.numerator, health.late_shipment_rate.denominator) == (2, 4)
    assert health.late_shipment_rate.value == 0.5 and health.late_shipment_rate.meets_target is False
    assert health.late_shipment_rate.projected == round(3 / 5, 4)  # + order 7 shipping late
    # 30 days adds order 3 (late)
    assert (health.late_shipment_rate30d.numerator, health.late_shipment_rate30d.denominator) == (3, 5)
    # cancel rate, 7 days: purchased in window = 1, 2, 4, 5, 6, 7 -> seller cancels: 5
    assert (health.pre_fulfillment_cancel_rate.numerator, health.pre_fulfillment_cancel_rate.denominator) == (
        1,
        6,
    )
    # valid tracking, 30 days: shipped in window = 1, 2, 3, 8 -> valid: 1, 2, 3
    assert (health.valid_tracking_rate.numerator, health.valid_tracking_rate.denominator) == (3, 4)
    assert health.valid_tracking_rate.comparison == "above" and health.valid_tracking_rate.target == 0.95
    # on-time delivery, 14 days: promised in window and shipped = 1, 2 -> on time: 1
    assert (health.on_time_delivery_rate.numerator, health.on_time_delivery_rate.denominator) == (1, 2)
    assert health.on_time_delivery_rate.projected == round(1 / 3, 4)  # + order 7 arriving late


def test_no_orders_means_no_value_rather_than_a_perfect_score():
    health = account_health([], SETTINGS, NOW)
    assert health.late_shipment_rate.value is None and health.late_shipment_rate.meets_target is None


def _unshipped(quantity: int = 3) -> Order:
    return _order(1, purchased_days_ago=1, ship_by_days_ago=-1, status=OrderStatus.UNSHIPPED).model_copy(
        update={"items": [OrderItem(order_item_id="1-1", sku="S", quantity=quantity)]}
    )


def test_recorded_shipments_keep_units_shipped_when_amazon_lags_behind():
    order = _unshipped()
    part = Shipment(
        shipment_id="1",
        carrier="UPS",
        carrier_name="UPS",
        tracking_number="1Z999AA10123456784",
        ship_date=NOW,
        items=[ShipmentItem(order_item_id="1-1", sku="S", quantity=2)],
        source=ShipmentSource.RECORDED,
        created_at=NOW,
    )
    shipped = with_shipment(order, part)
    assert shipped.status == OrderStatus.PARTIALLY_SHIPPED and shipped.items[0].quantity_shipped == 2
    assert remaining_units(shipped) == {"1-1": 1}
    assert [i.quantity for i in allocate(shipped, None)] == [1]
    # Amazon still says Unshipped, 0 shipped: what was recorded here stands
    lagging = shipped.model_copy(
        update={
            "status": OrderStatus.UNSHIPPED,
            "items": [OrderItem(order_item_id="1-1", sku="S", quantity=3)],
        }
    )
    kept = never_unshipped(lagging, shipped)
    assert kept.items[0].quantity_shipped == 2 and kept.status == OrderStatus.PARTIALLY_SHIPPED
    # Amazon reports all three shipped (ours and one confirmed in Seller Central): Shipped, nothing left
    done = never_unshipped(
        lagging.model_copy(
            update={"items": [OrderItem(order_item_id="1-1", sku="S", quantity=3, quantity_shipped=3)]}
        ),
        kept,
    )
    assert done.status == OrderStatus.SHIPPED and remaining_units(done) == {"1-1": 0}


def test_cancellations_by_the_buyer_or_by_amazon_do_not_count_against_the_seller():
    seller = _order(1, purchased_days_ago=2, ship_by_days_ago=1, status=OrderStatus.CANCELED)
    amazon = _order(
        2,
        purchased_days_ago=2,
        ship_by_days_ago=1,
        status=OrderStatus.CANCELED,
        flags=(OrderFlag.CANCELED_BY_AMAZON,),
    )
    buyer = _order(
        3,
        purchased_days_ago=2,
        ship_by_days_ago=1,
        status=OrderStatus.CANCELED,
        flags=(OrderFlag.BUYER_REQUESTED_CANCEL,),
    )
    rate = account_health([seller, amazon, buyer], SETTINGS, NOW).pre_fulfillment_cancel_rate
    assert (rate.numerator, rate.denominator) == (1, 3)


def test_the_orders_api_says_who_canceled():
    from oms.amazon.orders_api import ApiOrder, order_from_api

    def api(cancellation: dict) -> ApiOrder:
        return ApiOrder.model_validate(
            {
                "orderId": "111-1",
                "createdTime": "2026-11-25T10:00:00Z",
                "lastUpdatedTime": "2026-11-25T11:00:00Z",
                "salesChannel": {"channelName": "AMAZON", "marketplaceId": "ATVPDKIKX0DER"},
                "fulfillment": {"fulfillmentStatus": "CANCELLED", "fulfilledBy": "MERCHANT"},
                "orderItems": [
                    {
                        "orderItemId": "1",
                        "quantityOrdered": 1,
                        "product": {"sellerSku": "S"},
                        "cancellation": cancellation,
                    }
                ],
            }
        )

    assert order_from_api(api({"cancellationRequest": {"requester": "BUYER"}}), "ATVPDKIKX0DER").flags == [
        OrderFlag.BUYER_REQUESTED_CANCEL
    ]
    assert order_from_api(
        api({"cancellationExecution": {"cancelledBy": "AMAZON"}}), "ATVPDKIKX0DER"
    ).flags == [OrderFlag.CANCELED_BY_AMAZON]
    assert (
        order_from_api(api({"cancellationExecution": {"cancelledBy": "MERCHANT"}}), "ATVPDKIKX0DER").flags
        == []
    )


def test_a_package_amazon_has_not_been_told_of_is_late_once_the_ship_by_passes():
    recorded = _order(
        1, purchased_days_ago=4, ship_by_days_ago=2, status=OrderStatus.SHIPPED, shipped_days_ago=3
    )
    unconfirmed = recorded.model_copy(
        update={"shipments": [recorded.shipments[0].model_copy(update={"confirmation": Confirmation()})]}
    )
    confirmed_late = recorded.model_copy(
        update={
            "shipments": [
                recorded.shipments[0].model_copy(
                    update={
                        "confirmation": Confirmation(
                            status=ConfirmationStatus.CONFIRMED, confirmed_at=NOW - timedelta(days=1)
                        )
                    }
                )
            ]
        }
    )
    for order, late in ((recorded, 0), (unconfirmed, 1), (confirmed_late, 1)):
        rate = account_health([order], SETTINGS, NOW).late_shipment_rate
        assert (rate.numerator, rate.denominator) == (late, 1)
