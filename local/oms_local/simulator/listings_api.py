"""The Listings Items API of the local marketplace: get, search and patch the seller's listings; a
fulfillment_availability patch sets the MFN quantity buyers see."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from oms_local.simulator import contract, shapes
from oms_local.simulator.entities import Listing
from oms_local.simulator.market_core import (
    SEARCH_TOKEN_LIFETIME,
    ApiError,
    MarketCore,
    _encode_token,
    _read_token,
)


class ListingsApi(MarketCore):
    """getListingsItem, searchListingsItems and patchListingsItem."""

    def get_listing(
        self, seller_id: str, sku: str, included: Iterable[str] = ("summaries",)
    ) -> dict[str, Any]:
        """getListingsItem's body (an Item)."""
        self._seller(seller_id)
        with self._lock:
            listing = self.listings.get(sku)
            if listing is None:
                raise ApiError(
                    404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace {self.marketplace_id}"
                )
            return shapes.listing_json(
                listing,
                self.marketplace_id,
                frozenset(included),
                self.fba.get(sku),
                image_link=self.image_link(listing.product),
            )

    def listing_quantity(self, sku: str) -> int | None:
        with self._lock:
            listing = self.listings.get(sku)
            return None if listing is None else listing.quantity

    def search_listings(
        self,
        seller_id: str,
        *,
        identifiers: Sequence[str] = (),
        identifiers_type: str | None = None,
        included: Iterable[str] = ("summaries",),
        page_size: int = 10,
        page_token: str | None = None,
    ) -> dict[str, Any]:
        """searchListingsItems' body (ItemSearchResults): the seller's listings by SKU (or ASIN), in SKU order."""
        self._seller(seller_id)
        included = frozenset(included)
        fingerprint = hashlib.sha256(
            json.dumps([sorted(identifiers), identifiers_type, sorted(included), page_size]).encode()
        ).hexdigest()[:16]
        with self._lock:
            now = self.clock()
            offset = 0
            if page_token:
                offset = int(
                    _read_token(page_token, "pageToken", fingerprint, SEARCH_TOKEN_LIFETIME, now).get("o", 0)
                )
            wanted = set(identifiers)
            found = sorted(
                (
                    listing
                    for listing in self.listings.values()
                    if not wanted
                    or (listing.product.asin if identifiers_type == "ASIN" else listing.product.sku) in wanted
                ),
                key=lambda listing: listing.product.sku,
            )
            page = found[offset : offset + page_size]
            body: dict[str, Any] = {
                "numberOfResults": len(found),
                "items": [
                    shapes.listing_json(
                        listing, self.marketplace_id, included, self.fba.get(listing.product.sku)
                    )
                    for listing in page
                ],
            }
            if offset + page_size < len(found):
                body["pagination"] = {
                    "nextToken": _encode_token(
                        {"o": offset + page_size, "f": fingerprint, "t": now.isoformat()}
                    )
                }
            return body

    def patch_listing(
        self,
        seller_id: str,
        sku: str,
        request: Any,
        *,
        included: Iterable[str] = ("issues",),
        preview: bool = False,
    ) -> dict[str, Any]:
        """patchListingsItem: JSON patches of top-level attributes; fulfillment_availability sets the MFN quantity."""
        self._seller(seller_id)
        problems = contract.request_body_problems("patchListingsItem", request)
        if not problems and not (isinstance(request, dict) and isinstance(request.get("patches"), list)):
            problems = ["the body must hold a list of patches"]  # only reachable without the models
        if problems:
            raise ApiError(400, "InvalidInput", "Invalid input", "; ".join(problems[:3]))
        issues: list[dict[str, Any]] = []
        changes: list[tuple[str, str, list[dict[str, Any]]]] = []
        for patch in request["patches"]:
            path, op, value = str(patch.get("path", "")), patch.get("op"), patch.get("value") or []
            name = path.removeprefix("/attributes/")
            if not path.startswith("/attributes/") or not name or "/" in name:
                issues.append(
                    _issue("Only top-level attributes (/attributes/<name>) can be patched.", name or path)
                )
                continue
            if name == "fulfillment_availability" and op != "delete":
                entries = [v for v in value if v.get("fulfillment_channel_code") == "DEFAULT"]
                quantities = [v.get("quantity") for v in entries]
                if not entries or not all(
                    isinstance(q, int) and not isinstance(q, bool) and q >= 0 for q in quantities
                ):
                    issues.append(
                        _issue(
                            "fulfillment_availability needs fulfillment_channel_code DEFAULT "
                            "and a quantity that is a whole number of at least 0.",
                            name,
                        )
                    )
                    continue
            changes.append((name, op, value))
        status = "INVALID" if issues else ("VALID" if preview else "ACCEPTED")
        included = frozenset(included)
        with self._lock:
            now = self.clock()
            product = self.catalogue.product(sku)
            if status == "ACCEPTED":
                product = self.catalogue.ensure(sku)  # a SKU the catalogue lacks is listed by the patch
                listing = self._list(product, now)
                for name, op, value in changes:
                    self._apply(listing, name, op, value)
                listing.updated = now
            body: dict[str, Any] = {"sku": sku, "status": status, "submissionId": uuid.uuid4().hex}
            if "issues" in included:
                body["issues"] = issues
            if "identifiers" in included:
                body["identifiers"] = (
                    [{"marketplaceId": self.marketplace_id, "asin": product.asin}] if product else []
                )
            return body

    @staticmethod
    def _apply(listing: Listing, name: str, op: str, value: list[dict[str, Any]]) -> None:
        if name == "fulfillment_availability":
            if op == "delete":
                listing.quantity = 0
            else:
                listing.quantity = next(
                    int(v["quantity"]) for v in value if v.get("fulfillment_channel_code") == "DEFAULT"
                )
            return
        if op == "delete":
            listing.attributes.pop(name, None)
        elif op == "merge" and isinstance(listing.attributes.get(name), list):
            listing.attributes[name] = [*listing.attributes[name], *value]  # type: ignore[misc]
        else:
            listing.attributes[name] = value


def _issue(message: str, attribute: str) -> dict[str, Any]:
    return {
        "code": "90220",
        "message": message,
        "severity": "ERROR",
        "attributeNames": [attribute],
        "categories": ["INVALID_ATTRIBUTE"],
    }
