"""The Catalog Items API (getCatalogItem) of the local marketplace: the product's summary, main image
and dimensions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from oms_local.simulator import shapes
from oms_local.simulator.catalogue import Product
from oms_local.simulator.market_core import ApiError, MarketCore, invalid


class CatalogItemsApi(MarketCore):
    """getCatalogItem, and finding a product by ASIN (the image server too)."""

    def product_by_asin(self, asin: str) -> Product | None:
        with self._lock:
            return next((p for p in self.catalogue.products.values() if p.asin == asin), None)

    def catalog_item(
        self, asin: str, marketplace_ids: Sequence[str], included: Iterable[str]
    ) -> dict[str, Any]:
        """getCatalogItem's body (an Item): the product's summary, main image and dimensions."""
        if marketplace_ids != [self.marketplace_id]:
            raise invalid(
                f"marketplaceIds is required and takes this seller's marketplace ({self.marketplace_id})."
            )
        product = self.product_by_asin(asin)
        if product is None:
            raise ApiError(
                404, "NotFound", f"Requested item '{asin}' not found in marketplace {self.marketplace_id}."
            )
        return shapes.catalog_item_json(
            product, self.marketplace_id, frozenset(included), self.image_link(product)
        )
