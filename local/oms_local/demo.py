"""Opening stock and a shipping setup for a fresh local stack with simulated buyers, so the demo has
stock to reserve and ship, low-stock rows that mean something, and labels that can be bought.

Only a fresh table is seeded (no stock rows yet): a restarted stack keeps what the seller did.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

from oms.inventory.stock import StockPolicy, adjust_stock, set_policy
from oms.store import keys
from oms.store.table import Table
from oms.warehouse.settings import Address, ShippingSettings, ShippingSettingsStore, Warehouse
from oms_local.simulator.catalogue import Catalogue

FIRST_SKUS = 40  # stocked before the stack is ready: the seller-fulfilled products buyers pick most often

DEMO_WAREHOUSE = Warehouse(
    name="Demo warehouse",
    time_zone="America/Los_Angeles",  # Seattle's, where its address is
    address=Address(
        name="Demo Seller",
        address_line1="410 Terry Ave N",
        city="Seattle",
        state_or_province_code="WA",
        postal_code="98109",
        country_code="US",
        phone="2065550100",
        email="shipping@demo-seller.example",
    ),
)


def _no_page_tokens() -> Any:
    raise RuntimeError("seeding does not page")


def demo_skus(catalogue: Catalogue) -> list[str]:
    """Every seller-fulfilled SKU of the catalogue, the most often bought first."""
    popular = Counter(sku for basket in catalogue.baskets for sku, _ in basket)
    ranked = [sku for sku, _ in popular.most_common()] + sorted(set(catalogue.products) - set(popular))
    return [sku for sku in ranked if (p := catalogue.product(sku)) and not p.fba]


def seed_demo(table_name: str, client: Any, catalogue: Catalogue) -> list[str]:
    """On a fresh table: a demo warehouse and opening stock for the most popular MFN SKUs; returns the
    SKUs still to stock (`stock_rest` does them in the background), or [] when the table is not fresh."""
    table = Table(table_name, _no_page_tokens, client=client)
    if next(table.query_all(keys.KeyQuery(keys.ALL_STOCK, "gsi1"), page_size=1), None) is not None:
        return []
    if table.get(keys.config_key("shipping")) is None:
        ShippingSettingsStore(table).put(
            ShippingSettings(seller_name="Demo Seller", warehouse=DEMO_WAREHOUSE)
        )
    skus = demo_skus(catalogue)
    stock(table, skus[:FIRST_SKUS])
    return skus[FIRST_SKUS:]


def stock(table: Table, skus: list[str], keep_going: Callable[[], bool] = lambda: True) -> int:
    """Policy and opening stock per SKU (a SKU an order already created keeps its row and gets units)."""
    done = 0
    for sku in skus:
        if not keep_going():
            break
        rng = random.Random(sku)  # noqa: S311 - demo figures, stable per SKU
        set_policy(table, sku, StockPolicy(reorder_point=8, safety_stock=3, lead_time_days=7))
        adjust_stock(
            table, sku, rng.randint(4, 60), reason="opening-stock", reference="demo", actor="oms local"
        )
        done += 1
    return done


def stock_rest(table_name: str, client: Any, skus: list[str], keep_going: Callable[[], bool]) -> int:
    return stock(Table(table_name, _no_page_tokens, client=client), skus, keep_going)
