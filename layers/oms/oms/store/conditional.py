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


def put_if_held(item: Item, holder: str) -> Write:
    """Put `item` only while the stored item is still held by `holder` (a claim nobody took over)."""
    return Write(
        "Put",
        item=item,
        condition="#holder = :holder",
        names={"#holder": "holder"},
        values={":holder": holder},
    )


def delete_if_held(key: dict[str, str], holder: str) -> Write:
    """Delete the item under `key` only while it is still held by `holder` (a claim nobody took over since)."""
    return Write(
        "Delete",
        key=key,
        condition="#holder = :holder",
        names={"#holder": "holder"},
        values={":holder": holder},
    )


def settlement_lease(key: dict[str, str], *, holder: str, until: str, now: str) -> Write:
    """Take the marker under `key` for `holder` (a one-off id) until `until`: refused once the marker is gone
    (settled) or while another holder's lease runs. The holder's own lease does not refuse it (the SDK's retry of
    this write meets it)."""
    return Write(
        "Update",
        key=key,
        update="SET #by = :holder, #until = :until",
        condition="attribute_exists(#pk) AND (attribute_not_exists(#until) OR #until < :now OR #by = :holder)",
        names={"#pk": keys.PK, "#by": "settlingBy", "#until": "settlingUntil"},
        values={":holder": holder, ":until": until, ":now": now},
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


def confirmation_lease(
    order_id: str, shipment_id: str, *, until: str, now: str, confirmed: str, holder: str
) -> Write:
    """Claim a shipment's next confirmation attempt until `until` for `holder` (a one-off id): refused while
    another caller holds an unexpired lease, or once the shipment is confirmed. The holder's own lease does not
    refuse it: the SDK's retry of this write, applied once already with its answer lost, meets it."""
    return Write(
        "Update",
        key=keys.shipment_key(order_id, shipment_id),
        update="SET #lease = :until, #holder = :holder",
        condition="(attribute_not_exists(#lease) OR #lease < :now OR #holder = :holder) AND #c.#s <> :confirmed",
        names={"#lease": "confirmingUntil", "#holder": "confirmingBy", "#c": "confirmation", "#s": "status"},
        values={":until": until, ":now": now, ":confirmed": confirmed, ":holder": holder},
    )


def release_confirmation_lease(order_id: str, shipment_id: str, *, holder: str) -> Write:
    """Give back a confirmation lease `holder` holds, so the next run may try at once."""
    return Write(
        "Update",
        key=keys.shipment_key(order_id, shipment_id),
        update="REMOVE #lease, #holder",
        condition="#holder = :holder",
        names={"#lease": "confirmingUntil", "#holder": "confirmingBy"},
        values={":holder": holder},
    )


def shipment_confirmation(order_id: str, shipment_id: str, confirmation: Any, due_at: str | None) -> Write:
    """The confirmation outcome on the shipment item, the lease given back, and its place in the queue of
    confirmations due moved to `due_at` (or removed: None, once confirmed or given up)."""
    if due_at is not None:
        due = keys.confirmation_due_index_keys(due_at, order_id, shipment_id)
        update = (
            "SET #confirmation = :c, gsi2pk = :duePk, gsi2sk = :dueSk REMOVE confirmingUntil, confirmingBy"
        )
        values = {":c": confirmation, ":duePk": due["gsi2pk"], ":dueSk": due["gsi2sk"]}
    else:
        update = "SET #confirmation = :c REMOVE confirmingUntil, confirmingBy, gsi2pk, gsi2sk"
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


# --- webhooks out ---------------------------------------------------------------------------------


def webhook_attempt_claim(
    subscription_id: str, delivery_id: str, *, attempts_made: int, now: str, hold_until: str
) -> Write:
    """Take a delivery's next attempt: refused unless it is pending, due, and nobody attempted it since it
    was read (so a queued retry and the sweep never send twice). Its due time moves to `hold_until`, so an
    attempt that dies with its function is picked up again by the sweep."""
    due = keys.webhook_due_index_keys(hold_until, subscription_id, delivery_id)
    return Write(
        "Update",
        key=keys.webhook_delivery_key(subscription_id, delivery_id),
        update="SET #next = :hold, #held = :hold, gsi1pk = :duePk, gsi1sk = :dueSk",
        condition="#status = :pending AND #made = :made AND #next <= :now",
        names={"#next": "nextAttemptAt", "#held": "heldUntil", "#status": "status", "#made": "attemptCount"},
        values={
            ":hold": hold_until,
            ":duePk": due["gsi1pk"],
            ":dueSk": due["gsi1sk"],
            ":pending": "pending",
            ":made": attempts_made,
            ":now": now,
        },
    )


def webhook_attempt_recorded(
    subscription_id: str,
    delivery_id: str,
    *,
    attempt: dict[str, Any],
    attempts_made: int,
    status: str,
    next_attempt_at: str | None,
    expires_at: int,
) -> Write:
    """An attempt appended to the delivery's log, with its new status and next attempt (or none), once:
    refused if another attempt was recorded since this one was claimed."""
    values: dict[str, Any] = {
        ":attempt": [attempt],
        ":empty": [],
        ":made": attempts_made + 1,
        ":before": attempts_made,
        ":status": status,
        ":expires": expires_at,
    }
    update = "SET #log = list_append(if_not_exists(#log, :empty), :attempt), #made = :made, #status = :status, #ttl = :expires"
    if next_attempt_at is not None:
        due = keys.webhook_due_index_keys(next_attempt_at, subscription_id, delivery_id)
        update += ", #next = :next, gsi1pk = :duePk, gsi1sk = :dueSk"
        values |= {":next": next_attempt_at, ":duePk": due["gsi1pk"], ":dueSk": due["gsi1sk"]}
        update += " REMOVE #held"
    else:
        update += " REMOVE #next, #held, gsi1pk, gsi1sk"
    return Write(
        "Update",
        key=keys.webhook_delivery_key(subscription_id, delivery_id),
        update=update,
        condition="#made = :before",
        names={
            "#log": "attempts",
            "#made": "attemptCount",
            "#status": "status",
            "#ttl": keys.TTL_ATTRIBUTE,
            "#next": "nextAttemptAt",
            "#held": "heldUntil",
        },
        values=values,
    )


def webhook_redelivery(subscription_id: str, delivery_id: str, *, now: str, expires_at: int) -> Write:
    """A delivery asked for again by the seller: pending and due now, whatever it was (delivered, failed, or
    waiting for a later retry), unless an attempt is under way (its hold not yet passed)."""
    due = keys.webhook_due_index_keys(now, subscription_id, delivery_id)
    return Write(
        "Update",
        key=keys.webhook_delivery_key(subscription_id, delivery_id),
        update="SET #status = :pending, #next = :now, gsi1pk = :duePk, gsi1sk = :dueSk, #ttl = :expires",
        condition="attribute_exists(#pk) AND (attribute_not_exists(#held) OR #held <= :now)",
        names={
            "#pk": keys.PK,
            "#status": "status",
            "#next": "nextAttemptAt",
            "#held": "heldUntil",
            "#ttl": keys.TTL_ATTRIBUTE,
        },
        values={
            ":pending": "pending",
            ":now": now,
            ":duePk": due["gsi1pk"],
            ":dueSk": due["gsi1sk"],
            ":expires": expires_at,
        },
    )


def webhook_subscription_health(
    subscription_id: str, *, failing_since: str | None, disable: dict[str, Any] | None
) -> Write:
    """A subscription's run of failures: started (kept if already running), ended by a success (None), or
    the subscription disabled (`disable`: the reason and when). Only on an existing subscription."""
    names = {"#pk": keys.PK, "#failing": "failingSince"}
    values: dict[str, Any] = {}
    if failing_since is None:
        update = "REMOVE #failing"
    else:
        update = "SET #failing = if_not_exists(#failing, :since)"
        values[":since"] = failing_since
    if disable is not None:
        update = "SET #enabled = :off, #disabled = :disabled REMOVE #failing"
        names = {"#pk": keys.PK, "#failing": "failingSince", "#enabled": "enabled", "#disabled": "disabled"}
        values = {":off": False, ":disabled": disable}
    # The version moves, so a PATCH read before this change is refused rather than undoing it.
    return Write(
        "Update",
        key=keys.webhook_subscription_key(subscription_id),
        update=update + " ADD #version :one",
        condition="attribute_exists(#pk)",
        names={**names, "#version": "version"},
        values={**values, ":one": 1},
    )


def api_key_revocation(key_id: str, at: str) -> Write:
    """Mark a key revoked at `at`, once: refused when it is unknown or already revoked."""
    return Write(
        "Update",
        key=keys.api_key_key(key_id),
        update="SET revokedAt = :at",
        condition="attribute_exists(#pk) AND attribute_not_exists(revokedAt)",
        names={"#pk": keys.PK},
        values={":at": at},
    )


def api_key_use(key_id: str, at: str, before: str) -> Write:
    """Note a key's use at `at` unless a use at or after `before` is already noted (at most once a minute),
    and never on a revoked key."""
    return Write(
        "Update",
        key=keys.api_key_key(key_id),
        update="SET lastUsedAt = :at",
        condition="attribute_exists(#pk) AND attribute_not_exists(revokedAt) "
        "AND (attribute_not_exists(lastUsedAt) OR lastUsedAt < :before)",
        names={"#pk": keys.PK},
        values={":at": at, ":before": before},
    )


ON_ORDER_ENTITY = "OnOrder"


def add_on_order(sku: str, units: int) -> Write:
    """Add (or take, negative) units to a SKU's units on order, in the transaction that sends, receives or
    closes the purchase order moving them: a counter, so a stock row reads one item, never the POs."""
    return Write(
        "Update",
        key=keys.on_order_key(sku),
        update="SET #e = :e, #sku = :sku ADD #units :units",
        names={"#e": "entity", "#sku": "sku", "#units": "units"},
        values={":e": ON_ORDER_ENTITY, ":sku": sku, ":units": units},
    )


def inbound_delivery_claim(key: dict[str, str], *, now: str, expires_at: int, now_epoch: int) -> Write:
    """A webhook delivery about to be queued: refused once it was queued (a replay) until its marker
    expires; a delivery whose queuing failed half-way may be queued again (the processor applies once)."""
    return Write(
        "Update",
        key=key,
        update="SET #e = :e, #received = :now, #ttl = :ttl",
        condition="attribute_not_exists(#queued) OR #ttl < :epoch",
        names={"#e": "entity", "#received": "receivedAt", "#ttl": keys.TTL_ATTRIBUTE, "#queued": "queuedAt"},
        values={":e": "InboundDelivery", ":now": now, ":ttl": expires_at, ":epoch": now_epoch},
    )


def inbound_delivery_queued(key: dict[str, str], *, at: str) -> Write:
    return Write(
        "Update", key=key, update="SET #queued = :at", names={"#queued": "queuedAt"}, values={":at": at}
    )


def inbound_delivery_applied(key: dict[str, str], *, at: str, outcome: str, expires_at: int) -> Write:
    """The delivery's effect written, in the same transaction as the effect: refused if already applied."""
    return Write(
        "Update",
        key=key,
        update="SET #e = :e, #applied = :at, #outcome = :outcome, #ttl = :ttl",
        condition="attribute_not_exists(#applied)",
        names={"#e": "entity", "#applied": "appliedAt", "#outcome": "outcome", "#ttl": keys.TTL_ATTRIBUTE},
        values={":e": "InboundDelivery", ":at": at, ":outcome": outcome, ":ttl": expires_at},
    )


def shipment_scans(order_id: str, shipment_id: str, scans: Any, delivered_at: str | None) -> Write:
    """A shipment's carrier scans (and when it was delivered), beside the order's copy of them."""
    update = "SET #scans = :scans" + (", #delivered = :delivered" if delivered_at else "")
    values: dict[str, Any] = {":scans": scans} | ({":delivered": delivered_at} if delivered_at else {})
    return Write(
        "Update",
        key=keys.shipment_key(order_id, shipment_id),
        update=update,
        condition="attribute_exists(#pk)",
        names={"#pk": keys.PK, "#scans": "scans"} | ({"#delivered": "deliveredAt"} if delivered_at else {}),
        values=values,
    )


ORDERED_ENTITY = "SkuOrdered"
CHANNEL_ATTRIBUTE = "channel:"  # units ordered per fulfilment channel: channel:MFN, channel:AFN
MARKETPLACE_ATTRIBUTE = "marketplace:"  # units ordered per marketplace: marketplace:<id>


def add_ordered(
    day: str,
    sku: str,
    *,
    units: int = 0,
    channel: str | None = None,
    marketplace: str | None = None,
    out: bool = False,
) -> Write:
    """Add to a SKU's units ordered on a warehouse day (in total, per channel, per marketplace) and mark the
    day out of stock (`out`: available hit 0 or an order was short): in the transaction that records the
    order, so demand history reads days, never orders. Marking is idempotent; adding happens once per unit
    because the order keeps the units it has counted (unitsOrdered)."""
    adds: dict[str, int] = {}
    if units:
        adds["units"] = units
        if channel:
            adds[CHANNEL_ATTRIBUTE + channel] = units
        if marketplace:
            adds[MARKETPLACE_ATTRIBUTE + marketplace] = units
    names = {"#e": "entity", "#sku": "sku", "#day": "day"} | {f"#a{i}": name for i, name in enumerate(adds)}
    values: dict[str, Any] = {":e": ORDERED_ENTITY, ":sku": sku, ":day": day}
    values |= {f":a{i}": n for i, n in enumerate(adds.values())}
    update = "SET #e = :e, #sku = :sku, #day = :day"
    if out:
        names["#out"] = "out"
        values[":out"] = True
        update += ", #out = :out"
    if adds:
        update += " ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(adds)))
    return Write("Update", key=keys.sku_ordered_key(sku, day), update=update, names=names, values=values)


def mark_order_counted(order_id: str, counted: dict[str, int], version: int) -> Write:
    """Record on a stored order the units per SKU its demand counters now hold (`unitsOrdered`), only if it
    is still the version read and nobody counted it meanwhile; its version moves on."""
    return Write(
        "Update",
        key=keys.order_key(order_id),
        update="SET #counted = :counted ADD #version :one",
        condition="#version = :version AND attribute_not_exists(#counted)",
        names={"#counted": "unitsOrdered", "#version": "version"},
        values={":counted": counted, ":one": 1, ":version": version},
    )


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


def reprinted_slips(batch_id: str, *, old_key: str, new_key: str, untitled: list[str]) -> Write:
    """A batch's packing slips printed again with the titles now known: its slips point at the new PDF, and
    `slipsUntitled` keeps the SKUs still without a title (gone when none is left). Only over the PDF read, so
    two reprints at once store one."""
    names = {"#slips": "packingSlipsKey", "#untitled": "slipsUntitled"}
    values: dict[str, Any] = {":new": new_key, ":old": old_key}
    if untitled:
        update = "SET #slips = :new, #untitled = :untitled"
        values[":untitled"] = untitled
    else:
        update = "SET #slips = :new REMOVE #untitled"
    return Write(
        "Update",
        key=keys.batch_key(batch_id),
        update=update,
        condition="#slips = :old",
        names=names,
        values=values,
    )


def delete_wanted_listing(key: dict[str, str], wanted_by: str) -> Write:
    """Delete a SKU's wait for the next listings feed unless a batch wanted it again since (another writer's
    id): that wait is the next feed's."""
    return Write(
        "Delete",
        key=key,
        condition="#by = :by",
        names={"#by": "wantedBy"},
        values={":by": wanted_by},
    )


# --- refunds' sending slot -------------------------------------------------------------------------


def release_refund_slot(marketplace_id: str, batch_id: str) -> Write:
    """Release the marketplace's refund sending slot only while batch `batch_id` still holds it."""
    return Write(
        "Delete",
        key=keys.refund_slot_key(marketplace_id),
        condition="#batch = :batch",
        names={"#batch": "batchId"},
        values={":batch": batch_id},
    )


def refund_slot_outcome_unknown(marketplace_id: str, batch_id: str, at: str) -> Write:
    """Note on the slot batch `batch_id` still holds that createFeed's answer was lost at `at`."""
    return Write(
        "Update",
        key=keys.refund_slot_key(marketplace_id),
        update="SET #unknown = :unknown",
        condition="#batch = :batch",
        names={"#batch": "batchId", "#unknown": "unknownAt"},
        values={":batch": batch_id, ":unknown": at},
    )


def delete_refund_ready(marketplace_id: str, return_id: str, refund_id: Any) -> Write:
    """A return's ready marker deleted only while it still names `refund_id` (a new refund writes its own)."""
    return Write(
        "Delete",
        key=keys.refund_ready_key(marketplace_id, return_id),
        condition="#refund = :refund",
        names={"#refund": "refundId"},
        values={":refund": refund_id},
    )
