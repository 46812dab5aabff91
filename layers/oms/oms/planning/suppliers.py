"""Suppliers and their terms per SKU: stored, read, and the effective terms the reorder rules use.

A supplier is one item; its terms for each SKU are items under it (found from the SKU through gsi1),
holding the typed terms and the lead times observed on received purchase-order lines (count, mean,
sum of squares), which the receipt updates in its own transaction (`observed_lead_time_writes`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import Field

from oms.domain.supply import (
    LeadTimeSource,
    ObservedLeadTimes,
    SupplierRequest,
    SupplyTerms,
    TermsRequest,
    effective_terms,
    lead_time_explained,
    money_amount,
)
from oms.domain.types import ApiModel, UtcDateTime, iso_z, utc_now
from oms.errors import AlreadyExists, Busy, Conflict, InvalidInput, NotFound
from oms.store import keys
from oms.store.table import Item, Page, Table, Write, back_off

SUPPLIER_ENTITY = "Supplier"
TERMS_ENTITY = "SupplyTerms"
_ATTEMPTS = 30


class ObservedView(ApiModel):
    count: int
    mean_days: float | None
    sd_days: float | None


class EffectiveLeadTime(ApiModel):
    lead_time_days: float
    lead_time_sd: float
    source: LeadTimeSource
    explanation: str


class SkuTerms(TermsRequest):
    """A supplier's terms for a SKU as the API answers them: the typed ones, what was observed, and which
    lead time the reorder rules use."""

    sku: str
    observed: ObservedView
    effective: EffectiveLeadTime
    updated_at: UtcDateTime | None = None


class Supplier(SupplierRequest):
    supplier_id: str
    created_at: UtcDateTime
    updated_at: UtcDateTime
    skus: list[SkuTerms] | None = Field(default=None, description="its terms per SKU (one supplier only)")


def supplier_id_for(idempotency_key: str | None) -> str:
    """A new supplier's id; a retried request (same Idempotency-Key) names the same supplier."""
    if idempotency_key:
        return "SUP-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper()
    return "SUP-" + uuid.uuid4().hex[:10].upper()


def _supplier_item(supplier_id: str, request: SupplierRequest, created_at: str, now: str) -> Item:
    return {
        **keys.supplier_key(supplier_id),
        **keys.supplier_index_keys(supplier_id, created_at),
        "entity": SUPPLIER_ENTITY,
        "supplierId": supplier_id,
        **request.model_dump(mode="json", by_alias=True),
        "createdAt": created_at,
        "updatedAt": now,
    }


def _supplier(item: Mapping[str, Any]) -> Supplier:
    fields = set(Supplier.model_fields) | {f.alias for f in Supplier.model_fields.values() if f.alias}
    return Supplier.model_validate({k: v for k, v in item.items() if k in fields})


def _observed(item: Mapping[str, Any] | None) -> ObservedLeadTimes:
    seen = (item or {}).get("observed") or {}
    return ObservedLeadTimes(
        int(seen.get("count", 0)), float(seen.get("meanDays", 0)), float(seen.get("squares", 0))
    )


def _typed(item: Mapping[str, Any]) -> TermsRequest:
    return TermsRequest.model_validate(item["terms"])


def _sku_terms(item: Mapping[str, Any]) -> SkuTerms:
    typed, observed = _typed(item), _observed(item)
    effective = effective_terms(str(item["supplierId"]), typed, observed)
    return SkuTerms.model_validate(
        {
            **typed.model_dump(by_alias=True),
            "sku": item["sku"],
            "observed": ObservedView(
                count=observed.count,
                mean_days=round(observed.mean_days, 2) if observed.count else None,
                sd_days=round(observed.sd_days, 2) if observed.count > 1 else None,
            ),
            "effective": EffectiveLeadTime(
                lead_time_days=effective.leadTimeDays,
                lead_time_sd=effective.leadTimeSd,
                source=effective.source,
                explanation=lead_time_explained(effective, observed),
            ),
            "updatedAt": item.get("updatedAt"),
        }
    )


class Suppliers:
    def __init__(self, table: Table) -> None:
        self._table = table

    def create(self, request: SupplierRequest, *, supplier_id: str) -> tuple[Supplier, bool]:
        """(the supplier, True) when made now; (the one this id made before, False) on a retry."""
        now = iso_z(utc_now())
        try:
            self._table.transact(
                [Write.put_new({**_supplier_item(supplier_id, request, now, now), "version": 1})]
            )
        except AlreadyExists:
            return self.get(supplier_id), False
        return self.get(supplier_id), True

    def item(self, supplier_id: str, *, consistent: bool = True) -> Item:
        item = self._table.get(keys.supplier_key(supplier_id), consistent=consistent)
        if item is None:
            raise NotFound(f"no supplier {supplier_id}")
        return item

    def get(self, supplier_id: str) -> Supplier:
        supplier = _supplier(self.item(supplier_id))
        terms = [
            _sku_terms(i) for i in self._table.query_all(keys.terms_of_supplier(supplier_id), consistent=True)
        ]
        return supplier.model_copy(update={"skus": terms})

    def list(self, *, limit: int, next_token: str | None) -> Page:
        page = self._table.query_page(keys.suppliers(), limit=limit, next_token=next_token)
        page.items = [
            _supplier(i).model_dump(mode="json", by_alias=True, exclude={"skus"}) for i in page.items
        ]
        return page

    def replace(self, supplier_id: str, request: SupplierRequest) -> Supplier:
        for attempt in range(_ATTEMPTS):
            current = self.item(supplier_id)
            item = _supplier_item(supplier_id, request, current["createdAt"], iso_z(utc_now()))
            try:
                self._table.transact([Write.put_versioned(item, int(current.get("version", 0)))])
            except Conflict:
                back_off(attempt)
                continue
            return self.get(supplier_id)
        raise Busy(f"supplier {supplier_id} is changing too fast; try again")

    def put_terms(self, supplier_id: str, sku: str, terms: TermsRequest) -> SkuTerms:
        """Set the typed terms of a SKU (the observed lead times stay). Money in the supplier's currency."""
        supplier = self.item(supplier_id)
        if terms.unit_cost is not None:
            money_amount(terms.unit_cost, "unitCost")
            if terms.unit_cost.currency_code != supplier["currencyCode"]:
                raise InvalidInput.for_field(
                    "unitCost.currencyCode", f"the supplier invoices in {supplier['currencyCode']}"
                )
        for attempt in range(_ATTEMPTS):
            current = self._table.get(keys.supply_terms_key(supplier_id, sku), consistent=True)
            now = iso_z(utc_now())
            item = {
                **(current or {}),
                **keys.supply_terms_key(supplier_id, sku),
                **keys.supply_terms_index_keys(sku, supplier_id),
                "entity": TERMS_ENTITY,
                "supplierId": supplier_id,
                "sku": sku,
                "terms": terms.model_dump(mode="json", by_alias=True),
                "createdAt": (current or {}).get("createdAt") or now,
                "updatedAt": now,
            }
            version = int(current.get("version", 0)) if current else None
            try:
                self._table.transact([Write.put_versioned(item, version)])
            except Conflict:
                back_off(attempt)
                continue
            return _sku_terms(item)
        raise Busy(f"the terms of {sku} are changing too fast; try again")

    def lead_times(self, supplier_id: str, skus: Sequence[str]) -> dict[str, float]:
        """The lead time used now (observed or typed) for each SKU the supplier has terms for."""
        items = self._table.get_many([keys.supply_terms_key(supplier_id, sku) for sku in sorted(set(skus))])
        return {
            str(i["sku"]): effective_terms(supplier_id, _typed(i), _observed(i)).leadTimeDays for i in items
        }

    def terms_item(self, supplier_id: str, sku: str) -> Item | None:
        return self._table.get(keys.supply_terms_key(supplier_id, sku), consistent=True)


def observed_lead_time_writes(table: Table, supplier_id: str, lead_times: Mapping[str, float]) -> list[Write]:
    """Each SKU's terms with one more observed lead time, versioned, for the receipt's transaction."""
    writes = []
    for sku, days in sorted(lead_times.items()):
        current = table.get(keys.supply_terms_key(supplier_id, sku), consistent=True)
        if current is None:  # a PO line needs the terms (oms.planning.purchase_orders); removed since
            continue
        seen = _observed(current).with_sample(days)
        item = {
            **current,
            "observed": {"count": seen.count, "meanDays": seen.mean_days, "squares": seen.squares},
        }
        writes.append(Write.put_versioned(item, int(current.get("version", 0))))
    return writes


def supply_terms(table: Table, sku: str) -> SupplyTerms | None:
    """The terms a SKU is reordered on: its preferred supplier's, else those set first; None without any.
    The lead time is observed once `OBSERVED_AFTER` lines were received from that supplier, else typed."""
    items = list(table.query_all(keys.suppliers_of_sku(sku)))
    if not items:
        return None
    chosen = min(
        items, key=lambda i: (not _typed(i).preferred, str(i.get("createdAt", "")), str(i["supplierId"]))
    )
    return effective_terms(str(chosen["supplierId"]), _typed(chosen), _observed(chosen))


def units_on_order(table: Table, sku: str) -> int:
    """Units of the SKU on sent purchase orders, not yet received nor cancelled (0 when none)."""
    item = table.get(keys.on_order_key(sku))
    return max(int(item.get("units", 0)), 0) if item else 0


def units_on_order_of(table: Table, skus: list[str]) -> dict[str, int]:
    """The same for many SKUs at once (a page of stock rows): one batch read."""
    unique = sorted(set(skus))
    found = table.get_many([keys.on_order_key(sku) for sku in unique], consistent=False) if unique else []
    return dict.fromkeys(unique, 0) | {str(i["sku"]): max(int(i.get("units", 0)), 0) for i in found}
