"""A carrier's scans on a shipment: added once, in time order, the first delivered scan is when it was
delivered, and on-time delivery counts a scanned package by that time instead of its estimate."""

from __future__ import annotations

from datetime import timedelta

from oms.domain.orders import DeliveryScan, ScanStatus
from oms.shipping.account_health import account_health
from oms.shipping.deliveries import _with_scan, package_owner
from tests.unit.test_account_health import NOW, SETTINGS, _order


def _scanned(order, *scans: DeliveryScan):
    shipment = order.shipments[0]
    for scan in scans:
        shipment = _with_scan(shipment, scan) or shipment
    return order.model_copy(update={"shipments": [shipment]})


def _delivered(days_ago: float) -> DeliveryScan:
    return DeliveryScan(status=ScanStatus.DELIVERED, at=NOW - timedelta(days=days_ago))


def test_a_package_scanned_delivered_after_its_promise_is_late_though_its_estimate_was_on_time():
    # shipped 4 days ago, estimated 2 days ago, promised for yesterday: on time by the estimate
    order = _order(1, purchased_days_ago=5, ship_by_days_ago=3, shipped_days_ago=4, deliver_by_days_ago=1)
    assert account_health([order], SETTINGS, NOW).on_time_delivery_rate.value == 1.0
    late = _scanned(order, _delivered(0.5))
    assert account_health([late], SETTINGS, NOW).on_time_delivery_rate.value == 0.0
    on_time = _scanned(order, _delivered(1.5))
    assert account_health([on_time], SETTINGS, NOW).on_time_delivery_rate.value == 1.0
    exactly = _scanned(order, _delivered(1))
    assert account_health([exactly], SETTINGS, NOW).on_time_delivery_rate.value == 1.0


def test_a_package_scanned_but_not_yet_delivered_counts_by_its_estimate():
    order = _order(1, purchased_days_ago=5, ship_by_days_ago=3, shipped_days_ago=4, deliver_by_days_ago=1)
    moving = _scanned(order, DeliveryScan(status=ScanStatus.IN_TRANSIT, at=NOW - timedelta(days=3)))
    assert account_health([moving], SETTINGS, NOW).on_time_delivery_rate.value == 1.0


def test_scans_are_kept_in_time_order_once_and_the_first_delivered_one_wins():
    order = _order(1, purchased_days_ago=5, ship_by_days_ago=3, shipped_days_ago=4, deliver_by_days_ago=1)
    out = DeliveryScan(status=ScanStatus.OUT_FOR_DELIVERY, at=NOW - timedelta(days=2))
    shipment = _scanned(order, _delivered(1), out, _delivered(0.5)).shipments[0]
    assert [s.status for s in shipment.scans] == ["out-for-delivery", "delivered", "delivered"]
    assert shipment.delivered_at == NOW - timedelta(days=1)
    again = _delivered(1).model_copy(update={"at": NOW - timedelta(days=1, microseconds=-300)})
    assert _with_scan(shipment, again) is None  # the same scan to the second


def test_a_carriers_name_or_code_finds_the_same_package():
    assert package_owner("ups", "1z999aa1 0123456784") == ("UPS", "1Z999AA10123456784")
    assert package_owner("UPS", "1Z999AA10123456784") == ("UPS", "1Z999AA10123456784")
    assert package_owner("Royal Mail", "AB123")[0] == "Other:ROYAL MAIL"
