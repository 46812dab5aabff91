"""Opening stock and a shipping setup for a fresh local stack with simulated buyers, so the demo has
stock to reserve and ship, low-stock rows that mean something, and labels that can be bought.

Only a fresh table is seeded (no stock rows yet): a restarted stack keeps what the seller did.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from oms.shipping_settings import Address, ShippingSettings, ShippingSettingsStore, Warehouse
from oms.stock import StockPolicy, adjust_stock, set_policy
from oms.store import keys
from oms.store.table import Table
from oms_local.simulator.catalogue import Catalogue

DEMO_SKUS = 40  # the seller-fulfilled products buyers pick most often

DEMO_WAREHOUSE = Warehouse(
    name="Demo warehouse",
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


def seed_demo(table_name: str, client: Any, catalogue: Catalogue, *, seed: int = 7) -> int:
    """Stock and policies for the most popular MFN SKUs; returns how many SKUs were seeded (0: not fresh)."""
    table = Table(table_name, _no_page_tokens, client=client)
    if next(table.query_all(keys.KeyQuery(keys.ALL_STOCK, "gsi1"), page_size=1), None) is not None:
        return 0
    if table.get(keys.config_key("shipping")) is None:
        ShippingSettingsStore(table).put(
            ShippingSettings(seller_name="Demo Seller", warehouse=DEMO_WAREHOUSE)
        )
    popular = Counter(sku for basket in catalogue.baskets for sku, _ in basket)
    mfn = [sku for sku, _ in popular.most_common() if (p := catalogue.product(sku)) and not p.fba]
    mfn = mfn[:DEMO_SKUS] or [p.sku for p in catalogue.products.values() if not p.fba][:DEMO_SKUS]
    rng = random.Random(seed)  # noqa: S311 - demo figures, not secrets
    for sku in mfn:
        set_policy(table, sku, StockPolicy(reorder_point=8, safety_stock=3, lead_time_days=7))
        adjust_stock(
            table, sku, rng.randint(4, 60), reason="opening-stock", reference="demo", actor="oms local"
        )
    return len(mfn)
