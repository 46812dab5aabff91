"""The FBA Inventory API (getInventorySummaries) of the local marketplace, and the control that sets a
SKU's FBA quantities."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from oms_local.simulator import shapes
from oms_local.simulator.entities import FbaStock
from oms_local.simulator.market_core import MarketCore, _encode_token, _maybe_iso, _read_token

INVENTORY_TOKEN_LIFETIME = timedelta(seconds=30)
INVENTORY_PAGE_SIZE = 50


class FbaInventoryApi(MarketCore):
    """getInventorySummaries, and set_fba_stock (control)."""

    def inventory_summaries(
        self,
        *,
        skus: Sequence[str] = (),
        start: datetime | None = None,
        details: bool = False,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """getInventorySummaries' body: FBA stock by SKU, 50 a page."""
        fingerprint = hashlib.sha256(
            json.dumps([sorted(skus), _maybe_iso(start), details]).encode()
        ).hexdigest()[:16]
        with self._lock:
            now = self.clock()
            after = ""
            if next_token:
                token = _read_token(next_token, "nextToken", fingerprint, INVENTORY_TOKEN_LIFETIME, now)
                after = str(token.get("a", ""))
            wanted = set(skus)
            rows = sorted(
                (
                    stock
                    for sku, stock in self.fba.items()
                    if (not wanted or sku in wanted)
                    and (start is None or (stock.updated is not None and stock.updated >= start))
                    and sku > after
                ),
                key=lambda stock: stock.product.sku,
            )
            page = rows[:INVENTORY_PAGE_SIZE]
            body: dict[str, Any] = {
                "payload": {
                    "granularity": {"granularityType": "Marketplace", "granularityId": self.marketplace_id},
                    "inventorySummaries": [shapes.inventory_summary(stock, details) for stock in page],
                }
            }
            if len(rows) > len(page):
                body["pagination"] = {
                    "nextToken": _encode_token(
                        {"a": page[-1].product.sku, "f": fingerprint, "t": now.isoformat()}
                    )
                }
            return body

    def set_fba_stock(self, sku: str, **quantities: int) -> dict[str, Any]:
        """Control: set FBA quantities of a SKU (fulfillable, inbound_shipped, ...), stocking it in FBA."""
        with self._lock:
            now = self.clock()
            product = self.catalogue.ensure(sku)
            self._list(product, now)
            stock = self.fba.get(sku) or FbaStock(product, fulfillable=0)
            for name, value in quantities.items():
                if not hasattr(stock, name) or name in ("product", "updated") or value < 0:
                    raise ValueError(f"cannot set {name}={value!r}")
                setattr(stock, name, int(value))
            stock.updated = now
            self.fba[sku] = stock
            return shapes.inventory_summary(stock, details=True)
