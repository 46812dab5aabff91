"""The table's conditional writes beyond put-new and put-versioned (oms.store.table.Write): each condition
and update expression is written here once, so no capability spells DynamoDB's expression language or an
index attribute (gsiNpk/gsiNsk) itself."""

from __future__ import annotations

from typing import Any

from oms.store import keys
from oms.store.table import Item, Write


def put_unless_live(item: Item, now_epoch: int) -> Write:
    """Put `item` unless an item under its key is still alive (its TTL attribute not yet passed)."""
    return Write(
        "Put",
        item=item,
        condition="attribute_not_exists(#pk) OR #ttl < :now",
        names={"#pk": keys.PK, "#ttl": keys.TTL_ATTRIBUTE},
        values={":now": now_epoch},
    )


def put_if_later(item: Item, attribute: str) -> Write:
    """Put `item` unless the stored item's `attribute` is already at or past the new one (marks never go back)."""
    return Write(
        "Put",
        item=item,
        condition="attribute_not_exists(#pk) OR #at < :at",
        names={"#pk": keys.PK, "#at": attribute},
        values={":at": item[attribute]},
    )


def confirmation_lease(order_id: str, shipment_id: str, *, until: str, now: str, confirmed: str) -> Write:
    """Claim a shipment's next confirmation attempt until `until`: refused while another caller holds an
    unexpired lease, or once the shipment is confirmed."""
    return Write(
        "Update",
        key=keys.shipment_key(order_id, shipment_id),
        update="SET #lease = :until",
        condition="(attribute_not_exists(#lease) OR #lease < :now) AND #c.#s <> :confirmed",
        names={"#lease": "confirmingUntil", "#c": "confirmation", "#s": "status"},
        values={":until": until, ":now": now, ":confirmed": confirmed},
    )


def shipment_confirmation(order_id: str, shipment_id: str, confirmation: Any, due_at: str | None) -> Write:
    """The confirmation outcome on the shipment item, the lease given back, and its place in the queue of
    confirmations due moved to `due_at` (or removed: None, once confirmed or given up)."""
    if due_at is not None:
        due = keys.confirmation_due_index_keys(due_at, order_id, shipment_id)
        update = "SET #confirmation = :c, gsi2pk = :duePk, gsi2sk = :dueSk REMOVE confirmingUntil"
        values = {":c": confirmation, ":duePk": due["gsi2pk"], ":dueSk": due["gsi2sk"]}
    else:
        update = "SET #confirmation = :c REMOVE confirmingUntil, gsi2pk, gsi2sk"
        values = {":c": confirmation}
    return Write(
        "Update",
        key=keys.shipment_key(order_id, shipment_id),
        update=update,
        condition="attribute_exists(pk)",
        names={"#confirmation": "confirmation"},
        values=values,
    )


def order_shipment_confirmation(order_id: str, index: int, shipment_id: str, confirmation: Any) -> Write:
    """The same outcome on the order's copy of the shipment (at `index`, checked to be that shipment),
    with the order's version moved on."""
    return Write(
        "Update",
        key=keys.order_key(order_id),
        update=f"SET #shipments[{index}].#confirmation = :c ADD #version :one",
        condition=f"#shipments[{index}].shipmentId = :sid",
        names={"#shipments": "shipments", "#confirmation": "confirmation", "#version": "version"},
        values={":c": confirmation, ":one": 1, ":sid": shipment_id},
    )


def withdraw_available(sku: str, location: str, units: int, *, above: int, at: str) -> Write:
    """Take `units` from a stock row's onHand and available at once, only if that many are available and
    available stays above `above` (its reorder point); the row moves to `at`'s day in the changed index."""
    changed = keys.stock_changed_index_keys(sku, location, at)
    return Write(
        "Update",
        key=keys.stock_key(sku, location),
        update="SET onHand = onHand - :units, available = available - :units, version = version + :one, "
        "updatedAt = :at, gsi3pk = :changedDay, gsi3sk = :changedAt",
        condition="available >= :units AND available > :floor",
        values={
            ":units": units,
            ":one": 1,
            ":at": at,
            ":floor": units + above,
            ":changedDay": changed["gsi3pk"],
            ":changedAt": changed["gsi3sk"],
        },
    )


UNITS_ENTITY = "SkuUnits"
REASON_ATTRIBUTE = "reason:"  # one counter attribute per return reason: reason:<Amazon's code>


def add_units(
    day: str, sku: str, *, shipped: int = 0, returned: int = 0, reasons: dict[str, int] | None = None
) -> Write:
    """Add to a SKU's units shipped and returned on a warehouse day (and the returned units per reason), in
    the transaction that ships or records them: a counter, so the return rates read days, never orders."""
    adds = {"shipped": shipped, "returned": returned} | {
        REASON_ATTRIBUTE + reason: units for reason, units in (reasons or {}).items()
    }
    adds = {name: units for name, units in adds.items() if units}
    names = {"#e": "entity", "#sku": "sku", "#day": "day"} | {f"#a{i}": name for i, name in enumerate(adds)}
    values: dict[str, Any] = {":e": UNITS_ENTITY, ":sku": sku, ":day": day}
    values |= {f":a{i}": units for i, units in enumerate(adds.values())}
    update = "SET #e = :e, #sku = :sku, #day = :day"
    if adds:
        update += " ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(adds)))
    return Write("Update", key=keys.sku_units_key(day, sku), update=update, names=names, values=values)


def close_response_clock(key: dict[str, str], *, answered_at: str | None) -> Write:
    """A buyer message's clock stopped: answered at `answered_at`, or (None) no response needed. Only a
    clock still running is stopped, so a retried answer never moves the first one."""
    if answered_at is None:
        return Write(
            "Update",
            key=key,
            update="SET #nrn = :yes",
            condition="attribute_exists(#pk) AND attribute_not_exists(#answered)",
            names={"#nrn": "noResponseNeeded", "#pk": keys.PK, "#answered": "answeredAt"},
            values={":yes": True},
        )
    return Write(
        "Update",
        key=key,
        update="SET #answered = :at",
        condition="attribute_exists(#pk) AND attribute_not_exists(#answered) AND attribute_not_exists(#nrn)",
        names={"#answered": "answeredAt", "#pk": keys.PK, "#nrn": "noResponseNeeded"},
        values={":at": answered_at},
    )
