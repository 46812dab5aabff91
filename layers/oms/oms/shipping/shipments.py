"""Shipping a seller-fulfilled order: record the package here first, then confirm it to Amazon.

`ship` records a shipment (a label bought through Amazon's Merchant Fulfillment API, or a carrier and
tracking number bought elsewhere) in ONE transaction with the order, the stock it moves from reserved to
shipped (once: the order's holding remembers what it shipped) and the shipment item, which waits in the
confirmation queue (a sparse index). Only then is the shipment confirmed to Amazon (confirmShipment); a
throttled, failed or refused confirmation stays queued, visible on the order, and `confirm_due` (every
few minutes) tries it again on a back-off. Nothing reaches Amazon that is not recorded here first.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from oms.amazon.client import SpApiClient, SpApiError
from oms.amazon.orders_api import confirm_shipment
from oms.amazon.rate_budget import BudgetExhausted
from oms.domain.carriers import OTHER, known_carrier, normalise_tracking
from oms.domain.orders import Confirmation, ConfirmationStatus, Order, Shipment, ShipmentSource
from oms.domain.shipments import RequestedItem, allocate, same_package, with_shipment
from oms.domain.types import iso_z, utc_now
from oms.errors import AlreadyExists, Busy, Conflict, FieldProblem, InvalidInput, NotFound
from oms.inventory.allocation import MAX_WRITES
from oms.inventory.holdings import order_writes
from oms.inventory.stock import finish_pending
from oms.observability import logger, metrics
from oms.store import conditional, keys
from oms.store.orders import order_from_item
from oms.store.table import Item, Table, Write, back_off
from oms.warehouse.settings import ShippingSettingsStore

SHIPMENT_ENTITY = "Shipment"
_ATTEMPTS = 10
_RETRY_FIRST = timedelta(minutes=1)
_RETRY_MAX = timedelta(minutes=30)
_REFUSED_RETRY = timedelta(hours=1)
_LEASE = timedelta(minutes=5)  # longer than a confirmation with all its retries and budget waits takes


@dataclass(frozen=True)
class BoughtLabel:
    """A label bought through Amazon (Merchant Fulfillment createShipment), already stored in S3."""

    carrier: str
    carrier_name: str
    tracking_number: str
    service: str
    amazon_shipment_id: str
    label_key: str
    rate: Any = None  # Money
    estimated_delivery: datetime | None = None
    weight_grams: int | None = None


@dataclass(frozen=True)
class Recorded:
    """A carrier and tracking number the seller bought elsewhere."""

    carrier: str
    tracking_number: str
    service: str | None = None
    weight_grams: int | None = None
    carrier_name: str | None = None  # with carrier "Other": who carries it (e.g. "Royal Mail")


def checked_tracking(
    carrier_code: str, tracking_number: str, carrier_name: str | None = None
) -> tuple[str, str, str]:
    """(carrier code, carrier name, normalised tracking) or a 400 naming the field that is wrong."""
    found = known_carrier(carrier_code)
    name = found.name
    if found.code == OTHER:
        if not carrier_name or not carrier_name.strip():
            raise InvalidInput.for_field(
                "carrierName", 'name the carrier when carrier is "Other" (e.g. "Royal Mail")'
            )
        name = carrier_name.strip()
    number = normalise_tracking(tracking_number)
    if not found.valid_tracking(number):
        raise InvalidInput.for_field(
            "trackingNumber",
            f"{tracking_number!r} is not a valid {name} tracking number (e.g. {found.example})",
        )
    return found.code, name, number


def ship(
    table: Table,
    order_id: str,
    package: BoughtLabel | Recorded,
    *,
    items: list[RequestedItem] | None = None,
    ship_date: datetime | None = None,
    multi_order_package: bool = False,
    actor: str = "seller:api",
    now: datetime | None = None,
    settles: Callable[[], Sequence[Write]] = tuple,
) -> tuple[Order, Shipment]:
    """Record one package of an order with its stock effect, in one transaction; 409 if it cannot ship, or
    if its tracking number is already another order's (unless `multi_order_package`: one box, several
    orders). The number is claimed in the same transaction, so two requests cannot both take it. `settles`:
    the writes the recording settles (the label's claim), made again for each attempt, in the same transaction."""
    now = now or utc_now()
    if isinstance(package, Recorded):
        code, name, number = checked_tracking(package.carrier, package.tracking_number, package.carrier_name)
        source = ShipmentSource.RECORDED
    else:
        code, name, number = package.carrier, package.carrier_name, package.tracking_number
        source = ShipmentSource.BUY_SHIPPING
    if ship_date and ship_date > now + timedelta(days=3):
        raise InvalidInput.for_field("shipDate", "must not be more than 3 days ahead")
    for attempt in range(_ATTEMPTS):
        current = table.get(keys.order_key(order_id), consistent=True)
        if current is None:
            raise NotFound(f"order {order_id} is not known here")
        order = order_from_item(current)
        if ship_date and ship_date < order.purchase_date:
            raise InvalidInput.for_field("shipDate", "must not be before the order was purchased")
        repeated = same_package(order, code, number)
        if repeated is not None:
            asked = {i.order_item_id: i.quantity for i in items} if items is not None else None
            if asked == {i.order_item_id: i.quantity for i in repeated.items} or (
                asked is None and repeated is order.shipments[-1]
            ):
                return order, repeated  # the same request again (a double click, a retry): no second effect
            allocate(order, items)  # nothing left, or too many units: that is the answer
            raise Conflict(
                f"{name} {number} is already recorded on order {order_id} as package {repeated.shipment_id} "
                "with other units; a new package needs its own tracking number"
            )
        shipment = Shipment(
            shipment_id=str(len(order.shipments) + 1),  # also Amazon's packageReferenceId: a positive number
            carrier=code,
            carrier_name=name,
            tracking_number=number,
            service=package.service,
            ship_date=ship_date or now,
            items=allocate(order, items),
            source=source,
            weight_grams=package.weight_grams,
            rate=getattr(package, "rate", None),
            estimated_delivery=getattr(package, "estimated_delivery", None),
            label_key=getattr(package, "label_key", None),
            amazon_shipment_id=getattr(package, "amazon_shipment_id", None),
            created_at=now,
            confirmation=Confirmation(next_attempt_at=now),
        )
        shipped = with_shipment(order, shipment)
        settled = settles()
        writes = [
            *order_writes(table, shipped, current, actor=actor, room=MAX_WRITES - 2 - len(settled)),
            Write.put_new(_shipment_item(order, shipment, ShippingSettingsStore(table).get())),
            *settled,
            _tracking_claim(order_id, shipment, shared=multi_order_package),
        ]
        try:
            table.transact(writes)
        except (AlreadyExists, Conflict) as refused:
            if refused.failed_index == len(writes) - 1:
                raise _tracking_taken(table, code, name, number) from None
            back_off(attempt)
            continue  # the order or its stock moved meanwhile: read again and re-check what remains
        finish_pending(table, writes, actor=actor)
        metrics.add_metric(name="ShipmentsRecorded", unit=MetricUnit.Count, value=1)
        logger.info("shipment recorded", extra={"orderId": order_id, "shipmentId": shipment.shipment_id})
        return shipped, shipment
    raise Busy(f"order {order_id} kept changing while the shipment was recorded; try again")


def _tracking_claim(order_id: str, shipment: Shipment, *, shared: bool) -> Write:
    """The tracking number taken by this order: only if no other order has it, or added to a shared box."""
    key = keys.tracking_key(
        _tracking_carrier(shipment.carrier, shipment.carrier_name), shipment.tracking_number
    )
    fields = {
        "entity": "TrackingNumber",
        "carrier": shipment.carrier,
        "carrierName": shipment.carrier_name,
        "trackingNumber": shipment.tracking_number,
    }
    if shared:
        return Write.add_to_set(key, "orderIds", order_id, {**fields, "multiOrderPackage": True})
    return Write.put_new({**key, **fields, "orderIds": {order_id}, "firstShipmentId": shipment.shipment_id})


def _tracking_carrier(code: str, name: str) -> str:
    """Numbers are unique per carrier: per code, and for carrier "Other" per the carrier's name."""
    return f"{OTHER}:{name.strip().upper()}" if code == OTHER else code


def _tracking_taken(table: Table, code: str, name: str, number: str) -> Conflict:
    item = table.get(keys.tracking_key(_tracking_carrier(code, name), number), consistent=True) or {}
    orders = ", ".join(sorted(item.get("orderIds") or [])) or "another order"
    return Conflict(
        f"{name} tracking number {number} is already used on order {orders}; if one package holds several "
        'orders, say "multiOrderPackage": true',
        [FieldProblem("trackingNumber", f"already used on order {orders}")],
    )


def _shipment_item(order: Order, shipment: Shipment, settings: Any) -> Item:
    # the package leaves with the carrier's next pickup: it belongs on that pickup day's end-of-day form
    calendar = settings.calendar
    pickup = settings.pickup(shipment.carrier).next_pickup(calendar, shipment.ship_date)
    local_day = calendar.local(pickup).date().isoformat()
    return {
        **keys.shipment_key(order.order_id, shipment.shipment_id),
        **keys.shipment_day_index_keys(
            local_day, shipment.carrier, iso_z(shipment.ship_date), order.order_id, shipment.shipment_id
        ),
        **_due_keys(shipment.confirmation, order.order_id, shipment.shipment_id),
        "entity": SHIPMENT_ENTITY,
        "orderId": order.order_id,
        **shipment.model_dump(mode="json", by_alias=True),
    }


def _due_at(confirmation: Confirmation) -> str | None:
    """When to try confirming next (None: confirmed, or nothing scheduled)."""
    if confirmation.status == ConfirmationStatus.CONFIRMED or confirmation.next_attempt_at is None:
        return None
    return iso_z(confirmation.next_attempt_at)


def _due_keys(confirmation: Confirmation, order_id: str, shipment_id: str) -> dict[str, str]:
    due_at = _due_at(confirmation)
    return keys.confirmation_due_index_keys(due_at, order_id, shipment_id) if due_at else {}


# --- confirming to Amazon ----------------------------------------------------------------------------


def confirm(
    table: Table,
    client: SpApiClient,
    order_id: str,
    shipment_id: str,
    *,
    now: datetime | None = None,
    order: Order | None = None,
) -> Confirmation:
    """Send one recorded shipment to Amazon (confirmShipment) and keep the outcome on the order
    (`order`: the order as just written, when the caller has it; else it is read)."""
    now = now or utc_now()
    if order is None:
        current = table.get(keys.order_key(order_id), consistent=True)
        if current is None:
            raise NotFound(f"order {order_id} is not known here")
        order = order_from_item(current)
    index, shipment = next(
        ((i, s) for i, s in enumerate(order.shipments) if s.shipment_id == shipment_id), (None, None)
    )
    if shipment is None or index is None:
        raise NotFound(f"order {order_id} has no shipment {shipment_id}")
    if shipment.confirmation.status == ConfirmationStatus.CONFIRMED:
        return shipment.confirmation
    holder = uuid.uuid4().hex
    if not _lease(table, order_id, shipment_id, now, holder):
        return shipment.confirmation  # another caller is confirming it right now
    attempts = shipment.confirmation.attempts + 1
    try:
        confirm_shipment(
            client,
            order_id=order_id,
            marketplace_id=order.marketplace_id,
            package_reference_id=shipment.shipment_id,
            carrier_code=shipment.carrier,
            carrier_name=shipment.carrier_name,
            shipping_method=shipment.service,
            tracking_number=shipment.tracking_number,
            ship_date=shipment.ship_date,
            items=[(item.order_item_id, item.quantity) for item in shipment.items],
        )
        outcome = Confirmation(status=ConfirmationStatus.CONFIRMED, attempts=attempts, confirmed_at=now)
    except SpApiError as refused:
        if refused.retryable:
            outcome = _retry_later(attempts, str(refused), now)
        else:
            outcome = Confirmation(
                status=ConfirmationStatus.REFUSED,
                attempts=attempts,
                last_error=str(refused),
                next_attempt_at=now + _REFUSED_RETRY,
            )
    except BudgetExhausted as waiting:
        # nothing reached Amazon (no token yet, or the budget's own table failed): not an attempt Amazon saw,
        # so no back-off grows from it; due again once a token is there (the next run, at most 5 minutes on)
        outcome = Confirmation(
            status=ConfirmationStatus.RETRYING,
            attempts=attempts - 1,
            last_error=str(waiting),
            next_attempt_at=now + timedelta(seconds=waiting.wait),
        )
    except Exception as failed:
        outcome = _retry_later(attempts, f"{type(failed).__name__}: {failed}", now)
    metrics.add_metric(
        name=f"ShipmentConfirmations{outcome.status.value.title()}", unit=MetricUnit.Count, value=1
    )
    try:
        _keep(table, order, index, shipment, outcome)
    except Exception:  # the outcome could not be written (throttled): the next run tries again at once,
        _release(table, order_id, shipment_id, holder)  # not when the lease runs out (a repeat is an edit)
        raise
    return outcome


def _lease(table: Table, order_id: str, shipment_id: str, now: datetime, holder: str) -> bool:
    """Claim the next attempt (the API's first try and the scheduled retry may meet): one caller sends.
    A caller that dies holding it leaves a lease that expires, so the shipment is never stuck. A lease whose
    write failed may have been written (its answer lost): it is given back before the failure goes on, so the
    next run does not wait the lease out (found by the fault drill)."""
    try:
        table.transact(
            [
                conditional.confirmation_lease(
                    order_id,
                    shipment_id,
                    until=iso_z(now + _LEASE),
                    now=iso_z(now),
                    confirmed=ConfirmationStatus.CONFIRMED.value,
                    holder=holder,
                )
            ]
        )
    except Conflict:
        return False
    except Exception:
        _release(table, order_id, shipment_id, holder)
        raise
    return True


def _release(table: Table, order_id: str, shipment_id: str, holder: str) -> None:
    try:
        table.transact([conditional.release_confirmation_lease(order_id, shipment_id, holder=holder)])
    except Conflict:
        pass  # not (or no longer) this caller's lease: nothing to give back
    except Exception:
        logger.warning("could not release a confirmation lease", extra={"orderId": order_id}, exc_info=True)


def _retry_later(attempts: int, error: str, now: datetime) -> Confirmation:
    delay = min(_RETRY_FIRST * 2 ** (attempts - 1), _RETRY_MAX)
    return Confirmation(
        status=ConfirmationStatus.RETRYING, attempts=attempts, last_error=error, next_attempt_at=now + delay
    )


def _keep(table: Table, order: Order, index: int, shipment: Shipment, outcome: Confirmation) -> None:
    """The outcome on the shipment item (leaving the queue once confirmed) and on the order, together."""
    body = outcome.model_dump(mode="json", by_alias=True)
    for attempt in range(_ATTEMPTS):
        try:
            table.transact(
                [
                    conditional.shipment_confirmation(
                        order.order_id, shipment.shipment_id, body, _due_at(outcome)
                    ),
                    conditional.order_shipment_confirmation(
                        order.order_id, index, shipment.shipment_id, body
                    ),
                ]
            )
            return
        except Conflict:
            back_off(attempt)
    logger.error("could not record a confirmation outcome", extra={"orderId": order.order_id})


def confirm_due(
    table: Table, client: SpApiClient, *, now: datetime | None = None, limit: int = 200
) -> dict[str, int]:
    """Every queued confirmation whose time has come (the scheduled retry); counts by outcome."""
    now = now or utc_now()
    counts: dict[str, int] = {}
    due = table.query_all(keys.confirmations_due(iso_z(now)))
    for item in islice(due, limit):  # the soonest due first; the next run takes the rest
        try:
            outcome = confirm(table, client, item["orderId"], item["shipmentId"], now=now)
            counts[outcome.status.value] = counts.get(outcome.status.value, 0) + 1
        except NotFound:
            counts["gone"] = counts.get("gone", 0) + 1
    return counts


def confirm_now(
    table: Table, client: SpApiClient | None, order: Order, shipment: Shipment
) -> tuple[Order, Shipment]:
    """Right after recording: try once (the queue retries whatever this does not settle); the order and
    shipment with the outcome."""
    if client is None:
        return order, shipment
    try:
        outcome = confirm(table, client, order.order_id, shipment.shipment_id, order=order)
    except Exception:
        logger.exception("first confirmation failed", extra={"orderId": order.order_id})
        return order, shipment
    confirmed = shipment.model_copy(update={"confirmation": outcome})
    shipments = [confirmed if s.shipment_id == shipment.shipment_id else s for s in order.shipments]
    return order.model_copy(update={"shipments": shipments}), confirmed
