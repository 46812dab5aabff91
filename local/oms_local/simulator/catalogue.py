"""What the local marketplace sells and what its buyers put in their baskets.

Products and basket shapes come from real retail data when it is there: the UCI "Online Retail II"
transactions (../shared/datasets/online_retail_II.csv.gz beside the repo, or OMS_RETAIL_DATASET;
CC BY 4.0; Chen, D. (2012), https://doi.org/10.24432/C5CG6D). Only the first few tens of thousands of lines are read, streamed
from the gzip, so start-up stays well under a second. StockCode becomes the SellerSKU,
Description the title, Price the unit price (read as USD) and each invoice a basket of lines whose
products were bought together. The retailer sold to many wholesalers: a line above the consumer
cap is not clipped to the cap (that would make "10 units" the most common line) but replaced by a
quantity drawn from the data's consumer-sized lines. Without the file a small built-in catalogue
plays the same part.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
import random
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from oms_local.template import ROOT

DATASET = Path(
    os.environ.get("OMS_RETAIL_DATASET", ROOT.parent / "shared" / "datasets" / "online_retail_II.csv.gz")
)
DEFAULT_MAX_ROWS = 40_000
MAX_UNITS_PER_LINE = 10

# Real products have a 5-digit code with an optional letter suffix (85123A); everything else in the
# file (POST, DOT, M, C2, D, S, BANK CHARGES, AMAZONFEE, ADJUST, CRUK, PADS, B, TEST001, DCGS...,
# gift_0001_..., SP1002) is postage, fees, discounts, adjustments or tests.
_PRODUCT_CODE = re.compile(r"^\d{5}[A-Za-z]{0,2}$")
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Product:
    sku: str
    title: str
    price: Decimal  # unit price, USD
    asin: str
    fba: bool  # the seller also keeps stock of it in Amazon's fulfilment centres

    @property
    def fn_sku(self) -> str:
        return "X00" + _code(self.sku, "fnsku", 7)

    @property
    def item_size_inches(self) -> tuple[Decimal, Decimal, Decimal]:
        """Length, width, height of the item itself: stable per SKU, a small homeware range."""
        draw = hashlib.sha256(f"size:{self.sku}".encode()).digest()
        length = Decimal(4 + draw[0] % 13)  # 4-16 in
        width = Decimal(2 + draw[1] % max(1, int(length) - 1))  # never longer than the length
        height = Decimal(1 + draw[2] % 8)  # 1-8 in
        return length, width, height

    @property
    def package_size_inches(self) -> tuple[Decimal, Decimal, Decimal]:
        """The item in its shipping carton: half an inch of packing on every side."""
        return tuple(side + 1 for side in self.item_size_inches)  # type: ignore[return-value]

    @property
    def item_weight_pounds(self) -> Decimal:
        draw = hashlib.sha256(f"weight:{self.sku}".encode()).digest()
        return (Decimal(int.from_bytes(draw[:2], "big") % 380 + 20) / 100).quantize(
            Decimal("0.01")
        )  # 0.2-4 lb

    @property
    def package_weight_pounds(self) -> Decimal:
        return self.item_weight_pounds + Decimal("0.15")  # the carton and packing

    def image_colour(self) -> str:
        return "#" + hashlib.sha256(f"colour:{self.sku}".encode()).hexdigest()[:6]


@dataclass
class Catalogue:
    products: dict[str, Product]
    baskets: list[list[tuple[str, int]]]  # lines bought together: (sku, units)
    consumer_quantities: list[int] = field(default_factory=lambda: [1])
    source: str = "built-in"

    def product(self, sku: str) -> Product | None:
        return self.products.get(sku)

    def ensure(self, sku: str, price: Decimal | None = None, title: str | None = None) -> Product:
        """The product with this SKU, listed on the fly if the seller sells one the catalogue lacks."""
        known = self.products.get(sku)
        if known is None:
            known = make_product(sku, title or f"Product {sku}", price or Decimal("19.99"))
            self.products[sku] = known
        return known

    def consumer_quantity(self, units: int, rng: random.Random) -> int:
        if 1 <= units <= MAX_UNITS_PER_LINE:
            return units
        return rng.choice(self.consumer_quantities)


def _code(text: str, salt: str, length: int) -> str:
    number = int.from_bytes(hashlib.sha256(f"{salt}:{text}".encode()).digest()[:8], "big")
    chars = []
    for _ in range(length):
        number, digit = divmod(number, 36)
        chars.append(_BASE36[digit])
    return "".join(chars)


def make_product(sku: str, title: str, price: Decimal) -> Product:
    # About a quarter of the range is also stocked in FBA, chosen stably by the SKU.
    fba = hashlib.sha256(f"fba:{sku}".encode()).digest()[0] < 64
    return Product(sku=sku, title=title, price=price, asin="B0" + _code(sku, "asin", 8), fba=fba)


def load_catalogue(path: Path | None = None, max_rows: int = DEFAULT_MAX_ROWS) -> Catalogue:
    """The catalogue from the retail data set (first `max_rows` lines), or the built-in one."""
    path = path or DATASET
    if not path.exists():
        return builtin_catalogue()
    products: dict[str, Product] = {}
    baskets: dict[str, list[tuple[str, int]]] = {}
    consumer_quantities: list[int] = []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        try:
            invoice_at, code_at, title_at, quantity_at, price_at = (
                header.index(name) for name in ("Invoice", "StockCode", "Description", "Quantity", "Price")
            )
        except ValueError:
            return builtin_catalogue()
        for count, row in enumerate(reader, start=1):
            if count > max_rows:
                break
            invoice, code, title = row[invoice_at], row[code_at].strip(), row[title_at].strip()
            if not invoice[:1].isdigit() or not _PRODUCT_CODE.match(code) or not title:
                continue  # cancellations (C...), bad-debt adjustments (A...), non-products
            try:
                units, price = int(row[quantity_at]), Decimal(row[price_at])
            except (ValueError, InvalidOperation):
                continue
            if units <= 0 or price <= 0:
                continue
            sku = code.upper()
            if sku not in products:
                products[sku] = make_product(
                    sku, " ".join(title.split()).title(), price.quantize(Decimal("0.01"))
                )
            baskets.setdefault(invoice, []).append((sku, units))
            if units <= MAX_UNITS_PER_LINE:
                consumer_quantities.append(units)
    if not products:
        return builtin_catalogue()
    return Catalogue(
        products=products,
        baskets=list(baskets.values()),
        consumer_quantities=consumer_quantities or [1],
        source=f"{path.name} (first {max_rows} lines)",
    )


_BUILTIN = (
    ("85123A", "White Hanging Heart T-Light Holder", "2.95"),
    ("22423", "Regency Cakestand 3 Tier", "12.75"),
    ("85099B", "Jumbo Bag Red Retrospot", "2.08"),
    ("84879", "Assorted Colour Bird Ornament", "1.69"),
    ("47566", "Party Bunting", "4.95"),
    ("20725", "Lunch Bag Red Retrospot", "1.65"),
    ("22720", "Set Of 3 Cake Tins Pantry Design", "4.95"),
    ("21212", "Pack Of 72 Retrospot Cake Cases", "0.55"),
    ("23203", "Jumbo Bag Vintage Doily", "2.08"),
    ("22386", "Jumbo Bag Pink Polkadot", "2.08"),
    ("22960", "Jam Making Set With Jars", "4.25"),
    ("21931", "Jumbo Storage Bag Suki", "2.08"),
)


def builtin_catalogue() -> Catalogue:
    products = {sku: make_product(sku, title, Decimal(price)) for sku, title, price in _BUILTIN}
    skus = list(products)
    rng = random.Random(7)  # noqa: S311 - simulation, not security
    baskets = [
        [(sku, rng.choice((1, 1, 1, 2, 2, 3, 4, 6))) for sku in rng.sample(skus, 4)] for _ in range(60)
    ]
    return Catalogue(products=products, baskets=baskets, consumer_quantities=[1, 1, 1, 2, 2, 3, 4, 6])
