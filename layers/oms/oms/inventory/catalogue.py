"""The product catalogue: read once from Amazon when a SKU is first seen, refreshed rarely.

First sight comes from the table stream (function read_catalogue): every new order or stock row names its
SKUs (the stream's INSERTs only: later changes name no new SKU, so they do not invoke it); those without
Amazon's values yet are read (getListingsItem for the ASIN, name and main image, then getCatalogItem for
the package's size and weight) under the shared rate budget. Intake never
waits for Amazon, and the title is there seconds after the first notification, long before the backstop.
The same function, on a daily schedule, re-reads the products read longest ago (REFRESH_AFTER).

A throttled or failed read raises, so its stream record is reported and retried; a SKU Amazon does not
list is recorded as such (listedOnAmazon false) and read again when a buyer orders it, or by the refresh.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from oms.amazon.catalog_api import AmazonProduct, read_product
from oms.amazon.client import SpApiClient, SpApiError, region_of
from oms.amazon.rate_budget import BudgetExhausted
from oms.domain.types import iso_z, utc_now
from oms.observability import logger
from oms.store.products import ProductStore
from oms.store.table import Table, from_dynamo

REFRESH_AFTER = timedelta(days=30)
REFRESH_PER_RUN = 200  # 400 SP-API reads: under two minutes at getCatalogItem's 2 a second
_NAMING_SKUS = frozenset({"Order", "Stock"})


@dataclass
class CatalogueReport:
    read: int = 0  # products Amazon described (or said it does not list)
    refused: int = 0  # reads Amazon refused for good (e.g. 400, 403): read again when next seen (INSERTs)
    known: int = 0  # SKUs already in the catalogue

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _sightings(records: Iterable[Mapping[str, Any]]) -> Iterator[tuple[str, str, str]]:
    """(SKU, sequence number, entity) for every SKU an order's items or a stock row names, in order."""
    for record in records:
        change = record.get("dynamodb", {})
        if not change.get("NewImage"):
            continue
        new = from_dynamo(change["NewImage"])
        if new.get("entity") not in _NAMING_SKUS:
            continue
        sequence = str(change.get("SequenceNumber", ""))
        skus = (
            [new.get("sku")] if new["entity"] == "Stock" else [i.get("sku") for i in new.get("items") or []]
        )
        for sku in skus:
            if sku:
                yield str(sku), sequence, str(new["entity"])


def skus_in_records(records: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """SKU -> sequence number of the first record naming it (orders' items, stock rows), in order."""
    found: dict[str, str] = {}
    for sku, sequence, _ in _sightings(records):
        found.setdefault(sku, sequence)
    return found


def skus_ordered(records: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """SKUs a buyer ordered in these records: Amazon lists them now, whatever it said before."""
    return frozenset(sku for sku, _, entity in _sightings(records) if entity == "Order")


def amazon_values(product: AmazonProduct | None) -> dict[str, Any]:
    """What is stored of Amazon's answer (the product's API shapes; pounds and inches as Amazon gives)."""
    if product is None:
        return {"listed": False}
    values: dict[str, Any] = {
        "listed": True,
        "asin": product.asin,
        "title": (product.title or "")[:500] or None,
        "imageUrl": product.image_url,
    }
    if product.weight_pounds is not None:
        values["weight"] = {"value": product.weight_pounds, "unit": "lb"}
    if product.dimensions_inches is not None:
        length, width, height = product.dimensions_inches
        values["dimensions"] = {"length": length, "width": width, "height": height, "unit": "in"}
    return values


class CatalogueReader:
    def __init__(self, table: Table, client: SpApiClient, *, seller_id: str, marketplace_id: str) -> None:
        if not seller_id:
            raise RuntimeError(
                "SELLER_ID is not set: give the stack your merchant token (template parameter SellerId)"
            )
        self.store = ProductStore(table)
        self.client, self.seller_id, self.marketplace_id = client, seller_id, marketplace_id
        self.region = region_of(marketplace_id)

    def read(self, sku: str) -> None:
        found = read_product(
            self.client,
            seller_id=self.seller_id,
            sku=sku,
            marketplace_id=self.marketplace_id,
            region=self.region,
        )
        self.store.record_amazon(sku, amazon_values(found))

    def read_unknown(
        self,
        skus: Mapping[str, str],
        report: CatalogueReport,
        *,
        keep_going: Callable[[], bool] = lambda: True,
        ordered: Collection[str] = frozenset(),
    ) -> str | None:
        """Read the SKUs Amazon was never read for, and those it did not list then but a buyer ordered
        now (a stock row often comes before the listing); the sequence number to retry from when one fails."""
        stored = self.store.items(skus)
        for sku, sequence in skus.items():
            amazon = stored.get(sku, {}).get("amazon")
            if amazon is not None and (amazon.get("listed", True) or sku not in ordered):
                report.known += 1
                continue
            if not keep_going():
                return sequence
            try:
                self.read(sku)
            except SpApiError as error:
                if error.retryable:
                    logger.warning(
                        "reading a product failed for now; retried from its record", extra={"sku": sku}
                    )
                    return sequence
                # refused for good (e.g. 400, 403): counted; the SKU is read again when next seen
                logger.warning(
                    "Amazon refused to describe a product", extra={"sku": sku, "error": str(error)}
                )
                report.refused += 1
                continue
            except Exception:
                logger.exception(
                    "reading a product from Amazon failed; retried from its record", extra={"sku": sku}
                )
                return sequence
            report.read += 1
        return None

    def refresh(self, report: CatalogueReport, *, limit: int = REFRESH_PER_RUN) -> None:
        """Re-read the products read longest ago (over REFRESH_AFTER); a failure leaves the rest for tomorrow."""
        for sku in self.store.read_before(iso_z(utc_now() - REFRESH_AFTER), limit):
            try:
                self.read(sku)
            except (SpApiError, BudgetExhausted) as error:
                if isinstance(error, SpApiError) and not error.retryable:
                    report.refused += 1
                    continue
                logger.warning("the refresh stops for today: Amazon is busy", extra={"sku": sku})
                return
            report.read += 1
