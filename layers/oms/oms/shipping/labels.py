"""Buying a shipping label through Amazon (Merchant Fulfillment, "Buy Shipping", which keeps the seller's
claim protection for late or lost packages): the cheapest service that delivers by the order's promise,
unless the seller names one. The label goes to the documents bucket under buyer/ (it shows the address)."""

from __future__ import annotations

import uuid
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from oms.amazon.client import SpApiClient, SpApiError, region_of
from oms.amazon.merchant_fulfillment_api import (
    Address,
    PackageDimensions,
    PurchasedLabel,
    ShipmentRequestDetails,
    ShippingService,
    Weight,
    cheapest_on_time,
    choose_service,
    chosen_by_rule,
    create_shipment,
    eligible_services,
    meets_promise,
    shipment_request,
)
from oms.amazon.rate_budget import BudgetExhausted
from oms.domain.carriers import OTHER
from oms.domain.carriers import carrier as carrier_for
from oms.domain.orders import Order, ShipmentItem
from oms.domain.products import Dimensions, Package, package_for
from oms.domain.products import Weight as PackageWeight
from oms.domain.shipments import RequestedItem, allocate
from oms.domain.types import ApiModel, Money, UtcDateTime, iso_z, utc_now
from oms.errors import Conflict, NotFound
from oms.shipping.shipments import BoughtLabel
from oms.store import conditional, keys
from oms.store.documents import DocumentStore, document_key
from oms.store.orders import order_from_item
from oms.store.products import ProductStore
from oms.store.table import Item, Table, Write
from oms.warehouse.settings import Address as WarehouseAddress
from oms.warehouse.settings import PackageDefaults, ShippingSettings, ShippingSettingsStore

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
    buy_again: str | None = None,
) -> BoughtLabel:
    """Buy (and store) the label for the units `items` names, or all that remain; checks first that they can ship.
    A purchase whose answer was lost (createShipment's 5xx, a timeout, the function dying) is never sent again
    on its own: the order says so (409) until the seller records the label Amazon sold or says `buy_again` naming that purchase."""
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
    package = (
        package
        or _rule_preset(table, units, order, settings)
        or order_package(table, units, settings.package)[0]
    )
    wanted = {u.order_item_id: u.quantity for u in units}
    holder = uuid.uuid4().hex
    unrecorded = _claim(table, order_id, wanted, holder, buy_again=buy_again)
    if unrecorded is not None:
        return unrecorded  # bought before, but its shipment was never recorded: use it, do not buy again
    try:
        details, service, region = _offer(
            client, order, units, ship_from, package, service_id, ZoneInfo(settings.warehouse.time_zone)
        )
    except BaseException:
        table.delete(keys.label_claim_key(order_id))  # nothing was bought: the next request may try again
        raise
    # from here on a failure may have bought the label: the claim says so until the seller settles it; it is
    # written only while the claim is still ours (one a request left behind expires and another takes it)
    sent = _claim_item(order_id, wanted, SENT, KEEP_BOUGHT, holder=holder)
    try:
        table.transact([conditional.put_if_held(sent, holder)])
    except Conflict:
        raise Conflict(
            f"a label for order {order_id} is being bought right now; try again in a minute"
        ) from None
    try:
        bought = create_shipment(client, details, service, region=region)
    except (SpApiError, BudgetExhausted) as error:
        if isinstance(error, SpApiError) and error.status >= 500:
            raise Conflict(_uncertain(order_id, f"createShipment answered {error.status}", holder)) from None
        table.delete(keys.label_claim_key(order_id))  # refused or throttled before Amazon sold anything
        raise
    except Exception as error:  # a timeout, a dropped connection, an answer that would not parse: unknown
        raise Conflict(
            _uncertain(order_id, f"no answer to createShipment ({type(error).__name__})", holder)
        ) from None
    label = _label(bought, package)
    _keep_bought(table, order_id, wanted, label, holder)  # paid for: never bought twice
    extension = _EXTENSIONS.get(bought.label.file_type, "bin")
    key = document_key("labels", order_id, f"{bought.shipment_id}.{extension}", buyer_data=True)
    documents.put(key, bought.label.content, bought.label.file_type)
    label = replace(label, label_key=key)
    _keep_bought(table, order_id, wanted, label, holder)
    return label


def _keep_bought(table: Table, order_id: str, units: dict[str, int], label: BoughtLabel, holder: str) -> None:
    """The bought label kept on the claim while the claim is still this request's. A slow request whose
    retry was told Amazon may have sold a label finds the claim settled (the seller recorded the label by
    hand, or bought again): it does not put the claim back, which would outlive the recorded shipment."""
    try:
        table.transact(
            [
                conditional.put_if_held(
                    _claim_item(order_id, units, "bought", KEEP_BOUGHT, label, holder=holder), holder
                )
            ]
        )
    except Conflict:
        raise Conflict(
            f"the label purchase for order {order_id} was settled meanwhile (recorded by hand or bought again): "
            "nothing more is recorded by this request"
        ) from None


def _uncertain(order_id: str, what: str, purchase: str) -> str:
    return (
        f"Amazon may have sold a label for order {order_id} ({what}, so it is not bought again here): if "
        "Seller Central shows the label, record it with its carrier and trackingNumber; if not, send this "
        f'again with "buyAgain": "{purchase}" (that purchase; a retry of a request that says it buys at most once)'
    )


def _rule_preset(
    table: Table, units: list[ShipmentItem], order: Order, settings: ShippingSettings
) -> PackageDefaults | None:
    """The package preset an order rule chose, if the setup still has it (else None: the usual package): its
    size, and the units' catalogue weight when the catalogue knows it (else the preset's weight)."""
    chosen = settings.preset(order.handling.package_preset if order.handling else None)
    if chosen is None:
        return None
    box = PackageDefaults(**chosen.model_dump(exclude={"name"}))
    weighed, source = order_package(table, units, settings.package)
    if source == "catalogue":
        box = box.model_copy(update={"weight": weighed.weight, "weight_unit": weighed.weight_unit})
    return box


def _details(
    order: Order, units: list[ShipmentItem], ship_from: WarehouseAddress, package: PackageDefaults
) -> ShipmentRequestDetails:
    return shipment_request(
        order.order_id,
        [(u.order_item_id, u.quantity) for u in units],
        Address.model_validate(ship_from.model_dump()),
        PackageDimensions(
            length=package.length, width=package.width, height=package.height, unit=package.dimension_unit
        ),
        Weight(value=package.weight, unit=package.weight_unit),
    )


def _offer(
    client: SpApiClient,
    order: Order,
    units: list[ShipmentItem],
    ship_from: WarehouseAddress,
    package: PackageDefaults,
    service_id: str | None,
    zone: tzinfo,
) -> tuple[ShipmentRequestDetails, ShippingService, str]:
    """The request, the service chosen among Amazon's offers, and the region (nothing bought yet)."""
    details = _details(order, units, ship_from, package)
    region = region_of(order.marketplace_id)
    handling = order.handling
    service = choose_service(
        eligible_services(client, details, region=region),
        order.latest_delivery_date,
        service_id,
        rule_choice=(handling.carrier, handling.service) if handling else (None, None),
        zone=zone,
    )
    return details, service, region


_BOX_UNITS = {"in": "inches", "cm": "centimeters"}


def order_package(
    table: Table, units: list[ShipmentItem], default: PackageDefaults
) -> tuple[PackageDefaults, str]:
    """The box for these units and where it came from: the catalogue's weights and sizes (domain.products
    .package_for), else the shipping setup's default package."""

    def places(value: float) -> Decimal:  # the setup's floats, to the catalogue's four decimal places
        return max(Decimal(str(value)).quantize(Decimal("0.0001")), Decimal("0.0001"))

    fallback = Package(
        weight=PackageWeight(value=places(default.weight), unit="oz" if default.weight_unit == "oz" else "g"),
        dimensions=Dimensions(
            length=places(default.length),
            width=places(default.width),
            height=places(default.height),
            unit="in" if default.dimension_unit == "inches" else "cm",
        ),
        source="default",
    )
    lines: dict[str, int] = {}
    for unit in units:
        lines[unit.sku] = lines.get(unit.sku, 0) + unit.quantity
    chosen = package_for(list(lines.items()), ProductStore(table).many(lines), fallback)
    if chosen.source == "default":
        return default, "default"
    box = chosen.dimensions
    return (
        PackageDefaults(
            length=float(box.length),
            width=float(box.width),
            height=float(box.height),
            dimension_unit=_BOX_UNITS[box.unit],
            weight=float(chosen.weight.grams.quantize(Decimal("0.1"))),
            weight_unit="g",
        ),
        "catalogue",
    )


class DeliveryWindow(ApiModel):
    earliest: UtcDateTime | None = None
    latest: UtcDateTime | None = None


class RateQuote(ApiModel):
    """One Buy Shipping service for the package, as the seller compares them."""

    shipping_service_id: str
    carrier: str
    service: str
    price: Money
    delivery_window: DeliveryWindow
    ship_date: UtcDateTime
    meets_promise: bool  # Amazon's latest estimate is no later than the order's latest delivery date
    cheapest_on_time: bool  # the one a label is bought with unless the seller or a rule names another
    chosen_by_rule: bool = False  # an order rule chose it: bought unless it breaks the delivery promise
    needs_more_inputs: bool  # e.g. hazmat details: cannot be bought through this API


class PricedPackage(PackageDefaults):
    source: Literal["given", "preset", "catalogue", "default"]


class Rates(ApiModel):
    items: list[RateQuote]
    latest_delivery_date: UtcDateTime | None
    package: PricedPackage


def shipping_rates(
    table: Table, client: SpApiClient, order_id: str, *, package: PackageDefaults | None = None
) -> Rates:
    """The services Amazon offers for the order's unshipped units, cheapest first, each marked whether it
    keeps the delivery promise, and the cheapest that does marked (the one buy_label buys by default)."""
    current = table.get(keys.order_key(order_id), consistent=True)
    if current is None:
        raise NotFound(f"order {order_id} is not known here")
    order = order_from_item(current)
    units = allocate(order, None)
    settings = ShippingSettingsStore(table).get()
    ship_from = settings.warehouse.address
    if ship_from is None:
        raise Conflict(
            "the warehouse has no ship-from address: set warehouse.address with PUT /settings/shipping"
        )
    preset = _rule_preset(table, units, order, settings)
    if package:
        box, source = package, "given"
    elif preset:
        box, source = preset, "preset"
    else:
        box, source = order_package(table, units, settings.package)
    services = eligible_services(
        client, _details(order, units, ship_from, box), region=region_of(order.marketplace_id)
    )
    best = cheapest_on_time(services, order.latest_delivery_date)
    rule_choice = (order.handling.carrier, order.handling.service) if order.handling else (None, None)
    ranked = sorted(
        services,
        key=lambda s: (s.rate.amount, s.latest_estimated_delivery_date or datetime.max.replace(tzinfo=UTC)),
    )
    return Rates(
        items=[
            RateQuote(
                shipping_service_id=s.service_id,
                carrier=s.carrier_name,
                service=s.service_name,
                price=s.rate.money(),
                delivery_window=DeliveryWindow(
                    earliest=s.earliest_estimated_delivery_date, latest=s.latest_estimated_delivery_date
                ),
                ship_date=s.ship_date,
                meets_promise=meets_promise(s, order.latest_delivery_date),
                cheapest_on_time=best is not None and s.service_id == best.service_id,
                chosen_by_rule=bool(order.handling) and chosen_by_rule(s, *rule_choice),
                needs_more_inputs=s.requires_additional_seller_inputs,
            )
            for s in ranked
        ],
        latest_delivery_date=order.latest_delivery_date,
        package=PricedPackage(**box.model_dump(), source=source),
    )


def _label(bought: PurchasedLabel, package: PackageDefaults) -> BoughtLabel:
    return BoughtLabel(
        carrier=found.code if (found := carrier_for(bought.carrier_name)) else OTHER,
        carrier_name=bought.carrier_name,
        tracking_number=bought.tracking_id,
        service=bought.service_name,
        amazon_shipment_id=bought.shipment_id,
        label_key="",
        rate=bought.rate,
        estimated_delivery=bought.latest_delivery_date,
        weight_grams=package.weight_grams,
    )


# --- one purchase per order at a time; a bought label is kept until its shipment is recorded ----------

SENT = "sent"  # createShipment was sent and its answer not recorded: Amazon may have sold the label
# Nothing is sent while a claim is "buying" (it becomes "sent" first, only while still held), so a claim left
# by a request that died before sending frees the order after a minute
BUYING = timedelta(minutes=1)
KEEP_BOUGHT = timedelta(days=2)


def _claim_item(
    order_id: str,
    units: dict[str, int],
    status: str,
    lasts: timedelta,
    label: BoughtLabel | None = None,
    *,
    holder: str = "",
) -> Item:
    return {
        **keys.label_claim_key(order_id),
        "entity": "LabelClaim",
        "status": status,
        "holder": holder,
        "units": units,
        keys.TTL_ATTRIBUTE: int((utc_now() + lasts).timestamp()),
        **({"label": _label_item(label)} if label else {}),
    }


def _label_item(label: BoughtLabel) -> dict[str, Any]:
    return {
        **asdict(label),
        "rate": label.rate.model_dump(mode="json", by_alias=True) if label.rate else None,
        "estimated_delivery": iso_z(label.estimated_delivery) if label.estimated_delivery else None,
    }


def _label_of(item: dict[str, Any]) -> BoughtLabel:
    return BoughtLabel(
        **{
            **item,
            "rate": Money.model_validate(item["rate"]) if item.get("rate") else None,
            "estimated_delivery": datetime.fromisoformat(item["estimated_delivery"])
            if item.get("estimated_delivery")
            else None,
        }
    )


def _claim(
    table: Table, order_id: str, units: dict[str, int], holder: str, *, buy_again: str | None = None
) -> BoughtLabel | None:
    """Take the order's purchase slot; or the label a failed request bought for these units (None: buy)."""
    try:
        table.transact(
            [
                conditional.put_unless_live(
                    _claim_item(order_id, units, "buying", BUYING, holder=holder), int(utc_now().timestamp())
                )
            ]
        )
        return None
    except Conflict:
        held = table.get(keys.label_claim_key(order_id), consistent=True) or {}
    label = held.get("label")
    if held.get("status") == "bought" and label and held.get("units") == units:
        return _label_of(label)
    if label:
        raise Conflict(
            f"a label bought for other units of order {order_id} ({label['carrier_name']} "
            f"{label['tracking_number']}) is not recorded yet: record it with its carrier, trackingNumber and items"
        )
    if held.get("status") == SENT:
        if buy_again and buy_again == held.get("holder"):  # the seller found no label for that purchase
            table.put(_claim_item(order_id, units, "buying", BUYING, holder=holder))
            return None
        raise Conflict(
            _uncertain(order_id, "an earlier purchase got no answer", str(held.get("holder") or ""))
        )
    raise Conflict(f"a label for order {order_id} is being bought right now; try again in a minute")


def settled_by_hand(table: Table, order_id: str) -> list[Write]:
    """The seller records the order's shipment by hand: a purchase whose answer was lost is settled, in the
    recording's own transaction (`ship(settles=...)`, read again on each of its attempts), as for a bought label.
    Only while the claim is the one read here: a purchase the seller started again meanwhile (buyAgain) stays."""
    held = table.get(keys.label_claim_key(order_id), consistent=True)
    if held is None or held.get("status") != SENT:
        return []
    return [conditional.delete_if_held(keys.label_claim_key(order_id), str(held.get("holder") or ""))]


def label_recorded(order_id: str) -> list[Write]:
    """The bought label's shipment is recorded: the order is free for its next label. A write of the recording's
    own transaction (`ship(settles=...)`): a claim deleted after it could fail (throttled) and outlive the
    recorded shipment, and the seller's retry finds the order shipped (found by the fault drill)."""
    return [Write.delete(keys.label_claim_key(order_id))]
