"""Buying a shipping label through Amazon (Merchant Fulfillment, "Buy Shipping", which keeps the seller's
claim protection for late or lost packages): the cheapest service that delivers by the order's promise,
unless the seller names one. The label goes to the documents bucket under buyer/ (it shows the address)."""

from __future__ import annotations

from oms.amazon.client import SpApiClient, region_of
from oms.amazon.merchant_fulfillment_api import (
    Address,
    PackageDimensions,
    Weight,
    choose_service,
    create_shipment,
    eligible_services,
    shipment_request,
)
from oms.domain.carriers import CARRIERS
from oms.domain.shipments import RequestedItem, allocate
from oms.errors import Conflict, NotFound
from oms.orders import order_from_item
from oms.shipments import BoughtLabel
from oms.shipping_settings import PackageDefaults, ShippingSettingsStore
from oms.store import keys
from oms.store.documents import DocumentStore, document_key
from oms.store.table import Table

_EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "application/zpl": "zpl"}


def buy_label(
    table: Table,
    client: SpApiClient,
    documents: DocumentStore,
    order_id: str,
    *,
    items: list[RequestedItem] | None = None,
    service_id: str | None = None,
    package: PackageDefaults | None = None,
) -> BoughtLabel:
    """Buy (and store) the label for the units `items` names, or all that remain; checks first that they can ship."""
    current = table.get(keys.order_key(order_id), consistent=True)
    if current is None:
        raise NotFound(f"order {order_id} is not known here")
    order = order_from_item(current)
    units = allocate(order, items)  # nothing is bought for an order that cannot ship
    settings = ShippingSettingsStore(table).get()
    ship_from = settings.warehouse.address
    if ship_from is None:
        raise Conflict(
            "the warehouse has no ship-from address: set warehouse.address with PUT /settings/shipping"
        )
    package = package or settings.package
    details = shipment_request(
        order_id,
        [(u.order_item_id, u.quantity) for u in units],
        Address.model_validate(ship_from.model_dump()),
        PackageDimensions(
            length=package.length, width=package.width, height=package.height, unit=package.dimension_unit
        ),
        Weight(value=package.weight, unit=package.weight_unit),
    )
    region = region_of(order.marketplace_id)
    service = choose_service(
        eligible_services(client, details, region=region), order.latest_delivery_date, service_id
    )
    bought = create_shipment(client, details, service, region=region)
    extension = _EXTENSIONS.get(bought.label.file_type, "bin")
    key = document_key("labels", order_id, f"{bought.shipment_id}.{extension}", buyer_data=True)
    documents.put(key, bought.label.content, bought.label.file_type)
    code = _carrier_code(bought.carrier_name)
    return BoughtLabel(
        carrier=code,
        carrier_name=bought.carrier_name,
        tracking_number=bought.tracking_id,
        service=bought.service_name,
        amazon_shipment_id=bought.shipment_id,
        label_key=key,
        rate=bought.rate,
        estimated_delivery=bought.latest_delivery_date,
        weight_grams=package.weight_grams,
    )


def _carrier_code(name: str) -> str:
    """Amazon's carrier name ("UPS", "UPS®", "United States Postal Service") as a carrier code, else "Other"."""
    plain = "".join(c for c in name.lower() if c.isalnum())
    for known in CARRIERS.values():
        if plain in (
            "".join(c for c in known.code.lower() if c.isalnum()),
            "".join(c for c in known.name.lower() if c.isalnum()),
        ):
            return known.code
    return "Other"
