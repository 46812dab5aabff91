"""Buyer PII (name, address): kept apart from the order, fetched only to ship, gone after delivery.

Amazon's Data Protection Policy allows keeping it no later than 30 days after delivery. Until the delivery
is known, its clock starts at the earliest date Amazon promised delivery: an early delivery must not keep
the data longer than the policy allows, so the retention never waits for the latest promise. The item
carries a TTL (DynamoDB deletes lazily, up to days late) and sits in a due-date index so the
scheduled purge_buyer_data function deletes it on time whatever TTL does. It lives in the buyer-data
table (`table` here), whose backups cannot keep it past the policy (docs/decisions.md 56).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from oms.amazon.client import SpApiClient
from oms.amazon.orders_api import get_order_pii
from oms.domain.orders import Order
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
    """Delete every buyer record whose retention ended before `now` (addresses, and buyers' messages with
    their threads' aliases and quarantined mail); returns how many went."""
    purged = 0
    for item in table.query_all(keys.buyer_data_due_before(iso_z(now)), include_expired=True):
        table.delete({keys.PK: item[keys.PK], keys.SK: item[keys.SK]})  # the index carries each item's key
        purged += 1
    return purged


def retention_starts(order: Order, now: datetime) -> datetime:
    """When the buyer data's retention starts: the earliest promised delivery date (Amazon gives a window;
    the parcel may arrive at its start), else `now` (the data is read to ship, before any delivery)."""
    promised = [d for d in (order.earliest_delivery_date, order.latest_delivery_date) if d is not None]
    return min(promised) if promised else now


def buyer_data_to_ship(
    table: Table, client: SpApiClient | None, order: Order, *, retention_days: int, now: datetime
) -> BuyerData | None:
    """The buyer's name and address for a packing slip: kept ones, else read from Amazon now (the only
    time this product asks for them) and kept until `retention_days` after the earliest promised delivery."""
    item = table.get(keys.buyer_key(order.order_id))
    if item is not None:
        return BuyerData.model_validate({k: v for k, v in item.items() if k in _FIELDS})
    if client is None:
        return None
    pii = get_order_pii(client, order.order_id, order.marketplace_id)
    address = pii.recipient.delivery_address if pii.recipient else None
    data = BuyerData(
        order_id=order.order_id,
        name=(address.name if address else None) or (pii.buyer.buyer_name if pii.buyer else None),
        address=address.model_dump(by_alias=True, exclude_none=True) if address else None,
        email=pii.buyer.buyer_email if pii.buyer else None,
        phone=address.phone if address else None,
    )
    keep_buyer_data(table, data, delivered_at=retention_starts(order, now), retention_days=retention_days)
    return data


_FIELDS = {field.alias for field in BuyerData.model_fields.values()}
