"""The product catalogue in the single table: one item per SKU (keys.product_key) holding what Amazon said
(`amazon`) and what the seller set (`seller`) side by side, so neither write can undo the other."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from oms.domain.products import Product, ProductDetails, merged
from oms.domain.types import iso_z, utc_now
from oms.store import keys
from oms.store.table import Item, Page, Table, Write

ENTITY = "Product"


def product_from_item(item: Item) -> Product:
    return merged(item["sku"], item.get("amazon"), item.get("seller"))


class ProductStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, sku: str) -> Product | None:
        item = self.table.get(keys.product_key(sku), consistent=True)
        return product_from_item(item) if item else None

    def items(self, skus: Iterable[str]) -> dict[str, Item]:
        """The stored items of these SKUs (absent: never seen), by SKU."""
        wanted = sorted(set(skus))
        found: dict[str, Item] = {}
        for start in range(0, len(wanted), 100):
            for item in self.table.get_many([keys.product_key(s) for s in wanted[start : start + 100]]):
                found[item["sku"]] = item
        return found

    def many(self, skus: Iterable[str]) -> dict[str, Product]:
        return {sku: product_from_item(item) for sku, item in self.items(skus).items()}

    def page(self, *, limit: int, next_token: str | None) -> tuple[list[Product], str | None]:
        page: Page = self.table.query_page(keys.products_by_sku(), limit=limit, next_token=next_token)
        return [product_from_item(i) for i in page.items], page.next_token

    def read_before(self, instant: str, limit: int) -> list[str]:
        """SKUs whose Amazon values were read before `instant`, oldest first."""
        skus = []
        for item in self.table.query_all(keys.products_read_before(instant), page_size=limit):
            skus.append(item["sku"])
            if len(skus) >= limit:
                break
        return skus

    def record_amazon(self, sku: str, amazon: dict[str, Any]) -> None:
        """Amazon's values, as read now; the seller's values are not touched."""
        read_at = iso_z(utc_now())
        self._update(
            sku,
            {**amazon, "readAt": read_at},
            "amazon",
            keys.product_read_index_keys(sku, read_at),
        )

    def set_seller_values(self, sku: str, details: ProductDetails) -> Product:
        """The seller's values replace the seller's previous ones whole; a field left out follows Amazon."""
        values = details.model_dump(mode="json", by_alias=True, exclude_none=True)
        self._update(sku, values, "seller", {})
        found = self.get(sku)
        assert found is not None
        return found

    def _update(self, sku: str, values: dict[str, Any], part: str, index: dict[str, str]) -> None:
        sets = {"entity": ENTITY, "sku": sku, part: values, **keys.product_index_keys(sku), **index}
        names = {f"#a{i}": name for i, name in enumerate(sets)}
        self.table.transact(
            [
                Write(
                    "Update",
                    key=keys.product_key(sku),
                    update="SET " + ", ".join(f"{n} = :v{i}" for i, n in enumerate(names)),
                    names=names,
                    values={f":v{i}": value for i, value in enumerate(sets.values())},
                )
            ]
        )
