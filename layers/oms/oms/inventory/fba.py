"""Amazon's FBA figures for a SKU, kept on its stock row: from FBA_INVENTORY_AVAILABILITY_CHANGES
notifications and from inventory_sync's getInventorySummaries pages, through one function.

The figures are Amazon's, not ours: they never change onHand, reserved or backordered. They are
kept per marketplace (each with the time it was true) and shown summed over the seller's
marketplaces; each write is one transaction with a ledger entry (reason "fba-figures") and, for a
notification, its applied-record. Older figures of a marketplace never overwrite newer ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from oms.amazon.inventory_api import InventorySummary
from oms.amazon.inventory_notifications import FbaInventoryChange
from oms.amazon.notifications import APPLIED_RECORD_DAYS, Notification, Outcome
from oms.domain.stock import Movement
from oms.domain.types import iso_z, utc_now
from oms.errors import AlreadyExists, Conflict
from oms.inventory.stock import FbaFigures, StockRepository, stock_writes
from oms.store import keys
from oms.store.default import default_table
from oms.store.table import Item, Table, Write, back_off

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def figures_by_marketplace(change: FbaInventoryChange) -> dict[str, FbaFigures]:
    """A notification's figures, per marketplace it lists."""
    return {
        m.marketplace_id: FbaFigures(
            fulfillable=m.inventory.fulfillable,
            inbound=m.inventory.inbound.working + m.inventory.inbound.shipped + m.inventory.inbound.receiving,
            reserved=sum(m.inventory.reserved_breakdown.values()),
            unfulfillable=m.inventory.unfulfillable,
        )
        for m in change.by_marketplace
    }


def figures_of_summary(summary: InventorySummary) -> FbaFigures:
    """getInventorySummaries' figures of one SKU in one marketplace (asked with details=true)."""
    details = summary.details
    if details is None:
        return FbaFigures()
    return FbaFigures(
        fulfillable=details.fulfillable,
        inbound=details.inbound_working + details.inbound_shipped + details.inbound_receiving,
        reserved=details.reserved.total,
        unfulfillable=details.unfulfillable.total,
    )


def shown_figures(by_marketplace: Mapping[str, Mapping[str, Any]], marketplaces: Sequence[str]) -> FbaFigures:
    """The figures summed over the seller's marketplaces (over all known ones if none is the seller's)."""
    chosen = [f for m, f in by_marketplace.items() if m in marketplaces] or list(by_marketplace.values())
    return FbaFigures(
        **{
            name: sum(int(f.get(name, 0)) for f in chosen)
            for name in ("fulfillable", "inbound", "reserved", "unfulfillable")
        }
    )


def apply_fba_change(envelope: Notification, *, marketplaces: Sequence[str]) -> Outcome:
    return record_fba_notification(default_table(), envelope, marketplaces=marketplaces)


def record_fba_notification(table: Table, envelope: Notification, *, marketplaces: Sequence[str]) -> Outcome:
    change = FbaInventoryChange.model_validate(envelope.payload)
    applied = Write.put_new(
        {
            **keys.notification_key(envelope.notification_id),
            "entity": "AppliedChange",
            "sku": change.sku,
            keys.TTL_ATTRIBUTE: int((utc_now() + timedelta(days=APPLIED_RECORD_DAYS)).timestamp()),
        }
    )
    return record_fba_figures(
        table,
        change.sku,
        figures_by_marketplace(change),
        as_of=envelope.event_time or _EPOCH,
        reference=envelope.notification_id,
        actor="amazon:FBA_INVENTORY",
        identity={"fnsku": change.fnsku, "asin": change.asin},
        applied=applied,
        marketplaces=marketplaces,
    )


def record_fba_figures(
    table: Table,
    sku: str,
    figures: Mapping[str, FbaFigures],
    *,
    as_of: datetime,
    reference: str,
    actor: str,
    identity: Mapping[str, str | None] | None = None,
    applied: Write | None = None,
    marketplaces: Sequence[str],
) -> Outcome:
    """Keep Amazon's figures of `sku` (per marketplace) that are newer than the ones the row holds.

    `applied` (a notification's applied-record) goes in the same transaction: DUPLICATE when it
    exists already. STALE when no marketplace's figures are newer than what the row holds.
    """
    for attempt in range(20):
        current = StockRepository(table).raw([sku]).get(sku)
        newer = _newer_figures(current, figures, as_of)
        if not newer:
            writes, outcome = ([applied] if applied else []), Outcome.STALE
        else:
            row, entry = stock_writes(
                current,
                sku,
                Movement(),
                reason="fba-figures",
                reference=reference,
                actor=actor,
            )
            assert row.item is not None and entry.item is not None
            kept = {**dict((current or {}).get("fbaByMarketplace") or {}), **newer}
            shown = shown_figures(kept, marketplaces).model_dump(mode="json", by_alias=True)
            seen = _seen(current)
            row.item |= {
                "fba": shown,
                "fbaByMarketplace": kept,
                "fbaAsOf": max(as_of, seen).isoformat(),
                **{k: v for k, v in (identity or {}).items() if v},
            }
            entry.item |= {"fba": shown, "at": iso_z(as_of)}
            writes, outcome = [*([applied] if applied else []), row, entry], Outcome.APPLIED
        if not writes:
            return outcome
        try:
            table.transact(writes)
        except AlreadyExists as refused:
            if applied is not None and refused.failed_index == 0:
                return Outcome.DUPLICATE
            back_off(attempt)
            continue
        except Conflict:
            back_off(attempt)
            continue
        return outcome
    raise Conflict(f"SKU {sku} kept changing under us; the message will be retried")


def _seen(current: Item | None) -> datetime:
    text = (current or {}).get("fbaAsOf")
    return datetime.fromisoformat(text) if text else _EPOCH


def _newer_figures(
    current: Item | None, figures: Mapping[str, FbaFigures], as_of: datetime
) -> dict[str, dict[str, Any]]:
    """The marketplaces whose figures are newer than the row's, as stored (figures and their time).
    A row written before figures were kept per marketplace has one time for all of them."""
    kept = (current or {}).get("fbaByMarketplace") or {}
    legacy = _seen(current)
    newer = {}
    for marketplace_id, marketplace_figures in figures.items():
        seen_text = (kept.get(marketplace_id) or {}).get("asOf")
        seen = datetime.fromisoformat(seen_text) if seen_text else (legacy if not kept else _EPOCH)
        if as_of > seen:
            newer[marketplace_id] = {
                **marketplace_figures.model_dump(mode="json", by_alias=True),
                "asOf": as_of.isoformat(),
            }
    return newer
