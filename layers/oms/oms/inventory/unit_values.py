"""What a unit is worth (the policy's unit cost, else the price of its latest sale, else 1) and each
SKU's sales over the window with its ABC class by sales value: what cycle counts value and pick by."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from oms.domain.audits import (
    AbcClass,
    classify,
)
from oms.domain.types import Money, utc_now
from oms.store import keys
from oms.store.table import Item, Table

SALES_WINDOW_DAYS = 90
PRICE_LOOK_BACK = 200  # ledger entries searched for the latest sale when a SKU has no unit cost
NO_CURRENCY = "XXX"  # ISO 4217's code for "no currency": the default unit value of 1


@dataclass(frozen=True)
class UnitValue:
    amount: Decimal
    currency: str
    source: str  # unitCost | lastSalePrice | default

    def money(self, units: int = 1) -> Money:
        return Money(amount=str((self.amount * units).quantize(Decimal("0.01"))), currency_code=self.currency)


DEFAULT_VALUE = UnitValue(Decimal(1), NO_CURRENCY, "default")


def _money_value(money: Any, source: str) -> UnitValue | None:
    if not isinstance(money, dict):
        return None
    try:
        amount = Decimal(str(money.get("amount")))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0:
        return None
    return UnitValue(amount, str(money.get("currencyCode") or NO_CURRENCY), source)


def _unit_cost(rows: Sequence[Item]) -> UnitValue | None:
    """The policy's unit cost, the default location's first."""
    ordered = sorted(rows, key=lambda r: r.get("location") != keys.DEFAULT_LOCATION)
    for row in ordered:
        if (value := _money_value(row.get("unitCost"), "unitCost")) is not None:
            return value
    return None


def _latest_shipment_reference(table: Table, sku: str) -> str | None:
    for seen, entry in enumerate(table.query_all(keys.ledger_of(sku), page_size=50)):
        if seen >= PRICE_LOOK_BACK:
            return None
        if entry.get("reason") == "shipment" and entry.get("reference"):
            return str(entry["reference"])
    return None


def _sale_price(table: Table, order_id: str, sku: str) -> UnitValue | None:
    order = table.get(keys.order_key(order_id))
    for item in (order or {}).get("items", []):
        if item.get("sku") == sku and (value := _money_value(item.get("unitPrice"), "lastSalePrice")):
            return value
    return None


def unit_value(
    table: Table,
    sku: str,
    rows: Sequence[Item],
    shipment_reference: str | None = None,
    *,
    look_back: bool = True,
) -> UnitValue:
    """A unit's value: the policy's unitCost, else the price of its latest sale, else 1 (no currency)."""
    if (cost := _unit_cost(rows)) is not None:
        return cost
    reference = shipment_reference or (_latest_shipment_reference(table, sku) if look_back else None)
    price = _sale_price(table, reference, sku) if reference else None
    return price or DEFAULT_VALUE


@dataclass(frozen=True)
class SkuSales:
    sku: str
    rows: list[Item]
    units: int
    value: UnitValue
    abc_class: AbcClass

    @property
    def sales_value(self) -> Decimal:
        return self.value.amount * self.units


def sales_classes(table: Table, now: datetime | None = None) -> list[SkuSales]:
    """Every SKU with a stock row, its units shipped in the window and its ABC class by sales value.

    One Query of the stock rows, then one ledger Query per SKU (and one GetItem for the price of a
    SKU that sold without a unit cost): O(SKUs) reads, never a Scan.
    """
    now = now or utc_now()
    since = (now - timedelta(days=SALES_WINDOW_DAYS)).isoformat(timespec="microseconds")
    rows_by_sku: dict[str, list[Item]] = defaultdict(list)
    for row in table.query_all(keys.KeyQuery(keys.ALL_STOCK, "gsi1")):
        rows_by_sku[row["sku"]].append(row)
    found: list[tuple[str, int, UnitValue]] = []
    for sku, rows in rows_by_sku.items():
        units, reference = 0, None
        for entry in table.query_all(keys.ledger_since(sku, since)):
            if entry.get("reason") == "shipment":
                units -= int(entry["delta"])
                reference = entry.get("reference") or reference
        value = unit_value(table, sku, rows, reference, look_back=False) if units else _unit_cost(rows)
        found.append((sku, max(units, 0), value or DEFAULT_VALUE))
    classes = classify({sku: value.amount * units for sku, units, value in found})
    return [
        SkuSales(sku, rows_by_sku[sku], units, value, classes[sku]) for sku, units, value in sorted(found)
    ]
