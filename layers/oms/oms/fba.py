"""Amazon's FBA figures for a SKU (FBA_INVENTORY_AVAILABILITY_CHANGES), kept on its stock row.

The figures are Amazon's, not ours: they never change onHand, reserved or backordered. They are
written with the notification's applied-record and a ledger entry (reason "fba-figures") in one
transaction, and an older notification never overwrites newer figures.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oms.amazon.inventory_notifications import FbaInventoryChange
from oms.amazon.notifications import Notification
from oms.domain.stock import Movement
from oms.domain.types import iso_z, utc_now
from oms.errors import AlreadyExists, Conflict
from oms.intake import APPLIED_RECORD_DAYS, Outcome
from oms.settings import get_settings
from oms.stock import FbaFigures, StockRepository, stock_writes
from oms.store import keys
from oms.store.default import default_table
from oms.store.table import Table, Write

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def figures_of(change: FbaInventoryChange, marketplaces: list[str]) -> FbaFigures:
    """Amazon's figures summed over the seller's marketplaces (all listed ones if none is the seller's)."""
    chosen = [m for m in change.by_marketplace if m.marketplace_id in marketplaces] or change.by_marketplace
    return FbaFigures(
        fulfillable=sum(m.inventory.fulfillable for m in chosen),
        inbound=sum(
            m.inventory.inbound.working + m.inventory.inbound.shipped + m.inventory.inbound.receiving
            for m in chosen
        ),
        reserved=sum(sum(m.inventory.reserved_breakdown.values()) for m in chosen),
        unfulfillable=sum(m.inventory.unfulfillable for m in chosen),
    )


def apply_fba_change(envelope: Notification) -> Outcome:
    return record_fba_figures(default_table(), envelope)


def record_fba_figures(table: Table, envelope: Notification) -> Outcome:
    change = FbaInventoryChange.model_validate(envelope.payload)
    figures = figures_of(change, get_settings().marketplaces)
    event_time = envelope.event_time or _EPOCH
    applied = Write.put_new(
        {
            **keys.notification_key(envelope.notification_id),
            "entity": "AppliedChange",
            "sku": change.sku,
            keys.TTL_ATTRIBUTE: int((utc_now() + timedelta(days=APPLIED_RECORD_DAYS)).timestamp()),
        }
    )
    for _ in range(8):
        current = StockRepository(table).raw([change.sku]).get(change.sku)
        seen = datetime.fromisoformat(current["fbaAsOf"]) if current and current.get("fbaAsOf") else _EPOCH
        if event_time <= seen:
            writes, outcome = [applied], Outcome.STALE
        else:
            row, entry = stock_writes(
                current,
                change.sku,
                Movement(),
                reason="fba-figures",
                reference=envelope.notification_id,
                actor="amazon:FBA_INVENTORY",
            )
            assert row.item is not None and entry.item is not None
            figures_json = figures.model_dump(mode="json", by_alias=True)
            row.item |= {
                "fba": figures_json,
                "fbaAsOf": event_time.isoformat(),
                "fnsku": change.fnsku,
                "asin": change.asin,
            }
            entry.item |= {"fba": figures_json, "at": iso_z(event_time)}
            writes, outcome = [applied, row, entry], Outcome.APPLIED
        try:
            table.transact(writes)
        except AlreadyExists as refused:
            if refused.failed_index == 0:
                return Outcome.DUPLICATE
            continue
        except Conflict:
            continue
        return outcome
    raise Conflict(f"SKU {change.sku} kept changing under us; the message will be retried")
