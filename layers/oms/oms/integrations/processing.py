"""What a queued webhook does, by its integration's kind, applied once per delivery id.

- tracking: a carrier's scan (in transit, out for delivery, delivered, exception) added to the shipments
  carrying its tracking number (oms.shipping.deliveries);
- stock: a receipt, adjustment or count from a 3PL or warehouse system, through the ledger with the
  integration as the actor and the sender's reference;
- generic: the payload kept and published as IntegrationEventReceived.

Each effect is written in one transaction with the delivery's `appliedAt` (conditional: a delivery applied
already changes nothing). A payload that cannot be applied is kept with the reason (IntegrationProblem),
also in one transaction with its mark: never lost, never retried for ever.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import Field, StrictInt, TypeAdapter, ValidationError

from oms.domain.orders import DeliveryScan, ScanStatus
from oms.domain.types import ApiModel, UtcDateTime, iso_z, utc_now
from oms.errors import Conflict, NotFound
from oms.integrations.records import Kind
from oms.inventory.allocation import read_book
from oms.inventory.stock import finish_pending, stock_change_writes
from oms.observability import logger, metrics
from oms.shipping.deliveries import scan_writes
from oms.store import conditional, keys
from oms.store.table import Table, Write, back_off

EVENT_ENTITY = "IntegrationEvent"
PROBLEM_ENTITY = "IntegrationProblem"
APPLIED_KEPT = timedelta(days=30)  # how long a delivery's applied mark (its outcome) is kept
_ATTEMPTS = 10
_KEPT_BODY = 100_000  # characters of a refused body kept with its reason


class TrackingEvent(ApiModel):
    """kind tracking: one carrier scan."""

    tracking_number: str = Field(min_length=1, max_length=64)
    carrier: str = Field(min_length=1, max_length=100, description="the carrier's code or name, e.g. UPS")
    status: ScanStatus
    at: UtcDateTime = Field(description="when the carrier scanned it (ISO-8601 with a zone)")
    description: str | None = Field(default=None, max_length=500)
    location: str | None = Field(default=None, max_length=200)


class _StockBase(ApiModel):
    sku: str = Field(min_length=1, max_length=200)
    location: str = Field(default=keys.DEFAULT_LOCATION, min_length=1, max_length=100)
    reference: str | None = Field(default=None, max_length=200, description="the sender's own id")
    note: str | None = Field(default=None, max_length=500)


class StockReceipt(_StockBase):
    type: Literal["receipt"]
    quantity: StrictInt = Field(gt=0, description="units received onto the shelf")


class StockAdjustment(_StockBase):
    type: Literal["adjustment"]
    delta: StrictInt = Field(description="signed units: + into stock, - out of it; never 0")


class StockCount(_StockBase):
    type: Literal["count"]
    counted: StrictInt = Field(ge=0, description="units counted on the shelf: onHand becomes this")


StockMovement = Annotated[StockReceipt | StockAdjustment | StockCount, Field(discriminator="type")]
_stock = TypeAdapter(StockMovement)
_STOCK_TYPES = ("receipt", "adjustment", "count")


class BadPayload(Exception):
    """The payload cannot be applied: kept with this reason."""


@dataclass(frozen=True)
class Delivery:
    integration_id: str
    kind: Kind
    delivery_id: str
    received_at: str
    body: str  # as sent: text, or base64 when it is not UTF-8 text (`encoding`)
    encoding: str = "text"


def process(table: Table, delivery: Delivery, now: datetime | None = None) -> str:
    """Apply one delivery once; the outcome in a word: applied, duplicate or refused."""
    now = now or utc_now()
    marker = keys.inbound_delivery_key(delivery.integration_id, delivery.delivery_id)
    mark = table.get(marker, consistent=True)
    if mark and mark.get("appliedAt"):
        return "duplicate"
    actor = f"integration:{delivery.integration_id}"
    for attempt in range(_ATTEMPTS):
        try:
            writes, outcome = _effect(table, delivery, actor, now)
        except BadPayload as problem:
            writes, outcome = [_problem(delivery, str(problem), now)], f"refused: {problem}"
        applied = conditional.inbound_delivery_applied(
            marker,
            at=iso_z(now),
            outcome=outcome[:500],
            expires_at=int((now + APPLIED_KEPT).timestamp()),
        )
        try:
            table.transact([*writes, applied])
        except Conflict as refused:
            if refused.failed_index == len(writes):
                return "duplicate"  # applied by a concurrent copy of the message meanwhile
            back_off(attempt)
            continue
        finish_pending(table, writes, actor=actor)
        word = "refused" if outcome.startswith("refused") else "applied"
        metrics.add_metric(name=f"IntegrationDeliveries{word.title()}", unit=MetricUnit.Count, value=1)
        logger.info(
            "integration delivery " + word,
            extra={
                "integrationId": delivery.integration_id,
                "deliveryId": delivery.delivery_id,
                "outcome": outcome,
            },
        )
        return word
    raise Conflict(f"delivery {delivery.delivery_id} kept colliding with other changes; it will be retried")


def _effect(table: Table, delivery: Delivery, actor: str, now: datetime) -> tuple[list[Write], str]:
    if delivery.encoding != "text":
        raise BadPayload("the body is not UTF-8 text, so not JSON (kept base64-encoded)")
    try:
        payload = json.loads(delivery.body)
    except ValueError as error:
        raise BadPayload(f"the body is not JSON ({error})") from None
    if delivery.kind == Kind.GENERIC:
        return [_event(delivery, payload, now)], "stored"
    try:
        if delivery.kind == Kind.TRACKING:
            return _tracking(table, TrackingEvent.model_validate(payload), delivery, actor)
        return _stock_movement(table, _stock.validate_python(payload), delivery, actor)
    except ValidationError as error:
        raise BadPayload(_fields(error)) from None
    except NotFound as error:
        raise BadPayload(error.message) from None


def _fields(error: ValidationError) -> str:
    def field(loc: tuple[int | str, ...]) -> str:  # a stock movement's type is a step of the path, no field
        parts = [str(p) for p in loc]
        parts = parts[1:] if parts[:1] and parts[0] in _STOCK_TYPES else parts
        return ".".join(parts) or "body"

    return "; ".join(f"{field(problem['loc'])}: {problem['msg']}" for problem in error.errors())


def _tracking(table: Table, event: TrackingEvent, delivery: Delivery, actor: str) -> tuple[list[Write], str]:
    scan = DeliveryScan(
        status=event.status,
        at=event.at,
        description=event.description,
        location=event.location,
        source=delivery.integration_id,
    )
    found = scan_writes(table, event.carrier, event.tracking_number, scan, actor=actor)
    if not found.new:
        return [], f"{event.status.value} scan already on the shipment"
    return found.writes, f"{event.status.value} scan added to order {', '.join(found.orders)}"


def _stock_movement(
    table: Table, movement: StockReceipt | StockAdjustment | StockCount, delivery: Delivery, actor: str
) -> tuple[list[Write], str]:
    book = read_book(table, movement.sku, movement.location)
    on_hand = book.level.on_hand
    if isinstance(movement, StockReceipt):
        target, reason = on_hand + movement.quantity, "receipt"
    elif isinstance(movement, StockAdjustment):
        if movement.delta == 0:
            raise BadPayload("delta: must not be 0")
        target, reason = on_hand + movement.delta, "adjustment"
    else:
        target, reason = movement.counted, "count-correction"
    if target < 0:
        raise BadPayload(
            f"SKU {movement.sku} has only {on_hand} on hand at {movement.location}; cannot take out {on_hand - target}"
        )
    writes, _ = stock_change_writes(
        table,
        book,
        target,
        reason=reason,
        reference=movement.reference or f"{delivery.integration_id}/{delivery.delivery_id}",
        actor=actor,
        note=movement.note,
    )
    return writes, f"{reason}: {movement.sku} at {movement.location} from {on_hand} to {target} on hand"


def _event(delivery: Delivery, payload: Any, now: datetime) -> Write:
    return Write.put_new(
        {
            **keys.integration_record_key(
                delivery.integration_id, "EVENT", delivery.received_at, delivery.delivery_id
            ),
            "entity": EVENT_ENTITY,
            "integrationId": delivery.integration_id,
            "deliveryId": delivery.delivery_id,
            "receivedAt": delivery.received_at,
            "storedAt": iso_z(now),
            "payload": payload,
        }
    )


def _problem(delivery: Delivery, reason: str, now: datetime) -> Write:
    return Write.put_new(
        {
            **keys.integration_record_key(
                delivery.integration_id, "PROBLEM", delivery.received_at, delivery.delivery_id
            ),
            "entity": PROBLEM_ENTITY,
            "id": uuid.uuid4().hex[:12],
            "integrationId": delivery.integration_id,
            "kind": delivery.kind.value,
            "deliveryId": delivery.delivery_id,
            "receivedAt": delivery.received_at,
            "refusedAt": iso_z(now),
            "reason": reason,
            "body": delivery.body[:_KEPT_BODY],
            "bodyEncoding": delivery.encoding,
            "bodyTruncated": len(delivery.body) > _KEPT_BODY,
        }
    )
