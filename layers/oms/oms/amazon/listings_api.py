"""Listings Items API v2021-08-01 (patchListingsItem, searchListingsItems): the merchant-fulfilled
quantity of a listing, written and read back. Shapes follow
contracts/sp-api-models/listings-items-api-model/listingsItems_2021-08-01.json; fields not read here are
ignored, so Amazon may add fields freely.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# A quantity-only patch does not depend on the listing's product type; Amazon accepts "PRODUCT" for it.
PRODUCT_TYPE = "PRODUCT"
MERCHANT_CHANNEL = "DEFAULT"  # fulfillment_channel_code of merchant-fulfilled (MFN) availability
SEARCH_BATCH = 20  # searchListingsItems: at most 20 identifiers, and 20 items a page


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


def quantity_patch(quantity: int) -> dict[str, Any]:
    """The ListingsItemPatchRequest that sets the merchant-fulfilled quantity and nothing else.

    `merge` (not `replace`) keeps the listing's other fulfillment_availability fields, such as
    lead_time_to_ship_max_days (the handling time), as the seller set them.
    """
    return {
        "productType": PRODUCT_TYPE,
        "patches": [
            {
                "op": "merge",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": MERCHANT_CHANNEL, "quantity": quantity}],
            }
        ],
    }


class Issue(_Model):
    code: str
    message: str
    severity: str


class SubmissionResponse(_Model):
    """patchListingsItem's answer: ACCEPTED means Amazon took the change for processing."""

    sku: str
    status: Literal["ACCEPTED", "INVALID", "VALID"]
    submission_id: str = Field(alias="submissionId")
    issues: list[Issue] = Field(default_factory=list)


class FulfillmentAvailability(_Model):
    channel: str = Field(alias="fulfillmentChannelCode")
    quantity: int | None = None


class ListingsItem(_Model):
    sku: str
    fulfillment_availability: list[FulfillmentAvailability] = Field(
        default_factory=list, alias="fulfillmentAvailability"
    )

    @property
    def merchant_quantity(self) -> int | None:
        """The merchant-fulfilled quantity Amazon shows; None when the listing has none."""
        return next(
            (a.quantity for a in self.fulfillment_availability if a.channel == MERCHANT_CHANNEL), None
        )


class Pagination(_Model):
    next_token: str | None = Field(default=None, alias="nextToken")


class ListingsSearchResults(_Model):
    """searchListingsItems' answer (ItemSearchResults)."""

    number_of_results: int = Field(alias="numberOfResults")
    items: list[ListingsItem]
    pagination: Pagination | None = None
