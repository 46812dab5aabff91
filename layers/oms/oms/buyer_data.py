"""Buyer PII (name, address): kept apart from the order, fetched only to ship, gone after delivery.

Amazon's Data Protection Policy allows keeping it no later than 30 days after delivery. The item
carries a TTL (DynamoDB deletes lazily, up to days late) and sits in a due-date index so the
scheduled purge_buyer_data function deletes it on time whatever TTL does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from oms.domain.types import ApiModel, iso_z
from oms.store import keys
from oms.store.table import Table


class BuyerData(ApiModel):
    order_id: str
    name: str | None = None
    address: dict[str, str] | None = None
    email: str | None = None
    phone: str | None = None


def keep_buyer_data(table: Table, data: BuyerData, *, delivered_at: datetime, retention_days: int) -> None:
    due = delivered_at + timedelta(days=retention_days)
    table.put(
        {
            **keys.buyer_key(data.order_id),
            **keys.buyer_due_index_keys(data.order_id, iso_z(due)),
            keys.TTL_ATTRIBUTE: int(due.timestamp()),
            "entity": "BuyerData",
            **data.model_dump(mode="json", by_alias=True, exclude_none=True),
        }
    )


def purge_due_buyer_data(table: Table, now: datetime) -> int:
    """Delete every buyer record whose retention ended before `now`; returns how many went."""
    purged = 0
    for item in table.query_all(keys.buyer_data_due_before(iso_z(now)), include_expired=True):
        table.delete(keys.buyer_key(item["orderId"]))
        purged += 1
    return purged
