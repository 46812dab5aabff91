"""Test data in Amazon's shapes: ORDER_CHANGE notifications as Amazon sends them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

# The shipping setup with the ship-from address Buy Shipping needs (shared with bench/ and the fault drill).
from oms_local.shipping_setup import UPS_PICKUP, WAREHOUSE_SETTINGS  # noqa: F401
from tests.conftest import APPLICATION_ID, EVENTS, SELLER_ID

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def order_change(
    order_id: str,
    status: str,
    items: list[tuple[str, int, int]],  # (sku, quantity, quantity shipped)
    *,
    at: datetime = T0,
    channel: str = "MFN",
    programs: tuple[str, ...] = (),
    notification_id: str | None = None,
    change_type: str = "OrderStatusChange",
    level: str = "OrderLevel",
    buyer_cancel: bool = False,
    ship_by: datetime = T0 + timedelta(days=2),
    purchased: datetime = T0 - timedelta(minutes=1),
    deliver_by: datetime = T0 + timedelta(days=5),
) -> dict[str, Any]:
    """An ORDER_CHANGE notification document, as valid under Amazon's schema."""
    return {
        "NotificationVersion": "1.0",
        "NotificationType": "ORDER_CHANGE",
        "PayloadVersion": "1.0",
        "EventTime": _z(at),
        "Payload": {
            "OrderChangeNotification": {
                "NotificationLevel": level,
                "SellerId": SELLER_ID,
                "AmazonOrderId": order_id,
                "OrderChangeType": change_type,
                "OrderChangeTrigger": {"TimeOfOrderChange": _z(at), "ChangeReason": "Order status changed"},
                "Summary": {
                    "MarketplaceId": "ATVPDKIKX0DER",
                    "OrderStatus": status,
                    "PurchaseDate": _z(purchased),
                    "DestinationPostalCode": "48110",
                    "FulfillmentType": channel,
                    "OrderType": "StandardOrder",
                    "LatestShipDate": _z(ship_by),
                    "LatestDeliveryDate": _z(deliver_by),
                    "OrderPrograms": list(programs),
                    "OrderItems": [
                        {
                            "OrderItemId": f"{order_id}-{n}",
                            "SellerSKU": sku,
                            "SupplySourceId": None,
                            "Quantity": quantity,
                            "QuantityShipped": shipped,
                            "IsBuyerRequestedCancel": buyer_cancel,
                        }
                        for n, (sku, quantity, shipped) in enumerate(items)
                    ],
                },
            }
        },
        "NotificationMetadata": {
            "ApplicationId": APPLICATION_ID,
            "SubscriptionId": "subscription-1",
            "PublishTime": _z(at + timedelta(seconds=1)),
            "NotificationId": notification_id or str(uuid.uuid4()),
        },
    }


def sqs_event(*bodies: dict[str, Any] | str) -> dict[str, Any]:
    """An SQS event with these bodies, in the shape of events/ingest_notifications."""
    template = json.loads((EVENTS / "ingest_notifications" / "order_change.json").read_text())["Records"][0]
    records = []
    for body in bodies:
        text = body if isinstance(body, str) else json.dumps(body)
        records.append({**template, "messageId": str(uuid.uuid4()), "body": text})
    return {"Records": records}
