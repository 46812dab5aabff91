"""Order report columns: the catalogue (Amazon's flat-file names where Amazon has the column) and the rows
of one order, one per order item, safe to open in a spreadsheet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from oms.domain.orders import OrderStatus
from oms.store.table import Item

Row = dict[str, str | None]

# --- the column catalogue


def _text(value: Any) -> str | None:
    if value is None or value in ("", []):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _amount(money: Any) -> str | None:
    return money.get("amount") if isinstance(money, dict) else None


def _line_price(line: Item | None) -> str | None:
    """Amazon's item-price is the price of the line (unit price x quantity), in the unit price's precision."""
    if not line or not isinstance(line.get("unitPrice"), dict):
        return None
    try:
        unit = Decimal(str(line["unitPrice"]["amount"]))
    except (InvalidOperation, KeyError):
        return None
    return str((unit * int(line.get("quantity") or 0)).quantize(unit))


def _currency(order: Item, line: Item | None) -> str | None:
    for money in ((line or {}).get("unitPrice"), order.get("orderTotal")):
        if isinstance(money, dict) and money.get("currencyCode"):
            return str(money["currencyCode"])
    return None


def _shipments_of(order: Item, line: Item | None) -> list[dict[str, Any]]:
    """The shipments recorded for this line (a shipment that names no items covers the whole order)."""
    shipments = [s for s in order.get("shipments") or [] if isinstance(s, dict)]
    if line is None:
        return shipments
    return [
        s
        for s in shipments
        if not s.get("items") or any(i.get("orderItemId") == line.get("orderItemId") for i in s["items"])
    ]


def _joined(values: Iterable[Any]) -> str | None:
    seen = list(dict.fromkeys(str(v) for v in values if v))
    return " ".join(seen) or None


def _item_status(order: Item, line: Item | None) -> str | None:
    if line is None:
        return None
    if order.get("status") == OrderStatus.CANCELED:
        return "Cancelled"  # Amazon's spelling in its reports
    shipped_all = order.get("status") in (OrderStatus.SHIPPED, OrderStatus.INVOICE_UNCONFIRMED)
    if shipped_all or int(line.get("quantityShipped") or 0) >= int(line.get("quantity") or 0):
        return "Shipped"
    return "Unshipped"


def _quantity_to_ship(order: Item, line: Item | None) -> str | None:
    if line is None:
        return None
    if order.get("status") not in (
        OrderStatus.PENDING,
        OrderStatus.UNSHIPPED,
        OrderStatus.PARTIALLY_SHIPPED,
        OrderStatus.PENDING_AVAILABILITY,
    ):
        return "0"
    return str(max(int(line.get("quantity") or 0) - int(line.get("quantityShipped") or 0), 0))


Reader = Callable[[Item, Item | None], str | None]


def _order(name: str) -> Reader:
    return lambda order, _line: _text(order.get(name))


def _line(name: str) -> Reader:
    return lambda _order, line: _text((line or {}).get(name))


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    read: Reader
    amazon: bool = True  # Amazon's flat-file order reports have a column of this name
    free_text: bool = False  # text from outside (titles): guarded against spreadsheet formulas


_COLUMNS = [
    Column("amazon-order-id", "Amazon's order id (3-7-7 digits)", _order("orderId")),
    Column("order-item-id", "Amazon's id of the order item (one row per item)", _line("orderItemId")),
    Column("purchase-date", "When the buyer placed the order (UTC)", _order("purchaseDate")),
    Column("last-updated-date", "When Amazon last changed the order (UTC)", _order("lastUpdateDate")),
    Column("order-status", "Pending, Unshipped, PartiallyShipped, Shipped, Canceled, ...", _order("status")),
    Column(
        "fulfillment-channel",
        "Amazon (FBA, AFN) or Merchant (you ship, MFN), as in Amazon's reports",
        lambda order, _line: {"AFN": "Amazon", "MFN": "Merchant"}.get(str(order.get("fulfillmentChannel"))),
    ),
    Column("marketplace-id", "The Amazon marketplace of the order", _order("marketplaceId"), amazon=False),
    Column("order-type", "StandardOrder, Preorder, ...", _order("orderType"), amazon=False),
    Column(
        "ship-service-level",
        "Shipping speed the buyer chose (e.g. Std US D2D Dom)",
        _order("shipServiceLevel"),
    ),
    Column("product-name", "Title of the product", _line("title"), free_text=True),
    Column("sku", "Your seller SKU", _line("sku")),
    Column("asin", "Amazon's product id", _line("asin")),
    Column("item-status", "Unshipped, Shipped or Cancelled (this item)", _item_status),
    Column("quantity", "Units ordered of this item", _line("quantity")),
    Column("quantity-shipped", "Units of this item shipped so far", _line("quantityShipped")),
    Column(
        "quantity-to-ship", "Units of this item still to ship (0 unless the order is open)", _quantity_to_ship
    ),
    Column("currency", "Currency of the prices (ISO 4217)", _currency),
    Column(
        "item-price", "Price of this item's units (unit price x quantity)", lambda _o, line: _line_price(line)
    ),
    Column(
        "unit-price",
        "Price of one unit",
        lambda _o, line: _amount((line or {}).get("unitPrice")),
        amazon=False,
    ),
    Column(
        "order-total", "Total of the order", lambda order, _l: _amount(order.get("orderTotal")), amazon=False
    ),
    Column("is-business-order", "true for an Amazon Business order", _order("isBusinessOrder")),
    Column("is-prime", "true for a Prime order", _order("isPrime")),
    Column("earliest-ship-date", "Start of the ship-by window (UTC)", _order("earliestShipDate")),
    Column("latest-ship-date", "Ship by this time, or the shipment is late (UTC)", _order("latestShipDate")),
    Column(
        "earliest-delivery-date",
        "Start of the promised delivery window (UTC)",
        _order("earliestDeliveryDate"),
    ),
    Column("latest-delivery-date", "End of the promised delivery window (UTC)", _order("latestDeliveryDate")),
    Column(
        "carrier",
        "Carrier(s) of the shipments recorded for this item",
        lambda order, line: _joined(
            s.get("carrierName") or s.get("carrier") for s in _shipments_of(order, line)
        ),
        amazon=False,
    ),
    Column(
        "tracking-numbers",
        "Tracking numbers of the shipments recorded for this item, space separated",
        lambda order, line: _joined(s.get("trackingNumber") for s in _shipments_of(order, line)),
        amazon=False,
    ),
    Column(
        "ship-date",
        "When the first shipment recorded for this item left (UTC)",
        lambda order, line: min(
            (str(s["shipDate"]) for s in _shipments_of(order, line) if s.get("shipDate")), default=None
        ),
        amazon=False,
    ),
    Column(
        "flags",
        "Warnings on the order, space separated: atRisk, late, stockShortage, buyerRequestedCancel",
        lambda order, _line: _joined(order.get("flags") or []),
        amazon=False,
    ),
]
CATALOGUE: dict[str, Column] = {column.name: column for column in _COLUMNS}
DEFAULT_COLUMNS = (
    "amazon-order-id",
    "order-item-id",
    "purchase-date",
    "order-status",
    "fulfillment-channel",
    "sku",
    "quantity",
    "quantity-shipped",
    "latest-ship-date",
)


def catalogue() -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "description": c.description,
            "amazonColumn": c.amazon,
            "default": c.name in DEFAULT_COLUMNS,
        }
        for c in _COLUMNS
    ]


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str | None) -> str | None:
    """Text from outside (titles, reasons, notes) that must not run as a formula when the CSV is opened."""
    return "'" + value if value and value.startswith(_FORMULA_STARTS) else value


def rows_of(order: Item, columns: Sequence[str]) -> list[Row]:
    """The report rows of one stored order: one per item (an order without items gives one row)."""
    readers = [(name, CATALOGUE[name]) for name in columns]
    rows = []
    for line in order.get("items") or [None]:
        row: Row = {}
        for name, column in readers:
            value = column.read(order, line)
            if column.free_text:
                value = spreadsheet_safe(value)  # a title must not run as a formula when the CSV is opened
            row[name] = value
        rows.append(row)
    return rows
