"""Shipping routes: ship an order (buy a label or record tracking), retry its confirmation, carriers, the
shipping setup, pick batches and end-of-day forms."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Annotated, Any, Literal
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field, model_validator

from oms.amazon.client import default_client
from oms.api.paging import ListPage
from oms.domain.carriers import CARRIERS
from oms.domain.orders import Order
from oms.domain.products import skus_of
from oms.domain.shipments import RequestedItem
from oms.domain.types import ApiModel, UtcDateTime, utc_now
from oms.errors import InvalidInput, NotFound
from oms.orders.views import OrderView, ShipmentView, order_view
from oms.settings import get_settings
from oms.shipping.batches import Batch, create_batch, get_batch, list_batches, orders_in_pick_group
from oms.shipping.end_of_day import end_of_day_form, form_json, shipping_spend, store_form
from oms.shipping.labels import Rates, buy_label, label_recorded, settled_by_hand, shipping_rates
from oms.shipping.shipments import BoughtLabel, Recorded, confirm, confirm_now, ship
from oms.store import keys
from oms.store.default import default_table
from oms.store.documents import default_documents
from oms.store.orders import order_from_item
from oms.store.products import ProductStore
from oms.warehouse.settings import (
    CompleteShippingSettings,
    PackageDefaults,
    ShippingSettings,
    ShippingSettingsStore,
)

router = APIGatewayRouter()
OrderId = Annotated[str, Path(min_length=1, max_length=64)]


class ShipmentRequest(ApiModel):
    """Either `buyLabel: true` (Amazon Buy Shipping) or a `carrier` and `trackingNumber` bought elsewhere."""

    buy_label: bool = False
    carrier: str | None = Field(default=None, max_length=40)
    carrier_name: str | None = Field(default=None, max_length=80)  # with carrier "Other"
    tracking_number: str | None = Field(default=None, max_length=60)
    service: str | None = Field(default=None, max_length=80)
    ship_date: UtcDateTime | None = None
    items: list[RequestedItem] | None = Field(default=None, max_length=100)  # a split shipment
    shipping_service_id: str | None = Field(default=None, max_length=100)  # with buyLabel: this service
    package: PackageDefaults | None = None  # with buyLabel: the box (default: the shipping setup's)
    weight_grams: int | None = Field(default=None, gt=0, le=1_000_000)
    multi_order_package: bool = False  # one box holds several orders: their tracking number is shared
    # with buyLabel, after a 409 saying Amazon may have sold a label: the seller found none for the purchase it
    # names, buy now (naming it, a retry of this request cannot buy a second time)
    buy_again: str | None = Field(default=None, max_length=64)  # the purchase a 409 named

    @model_validator(mode="after")
    def _one_way(self) -> ShipmentRequest:
        if self.buy_label:
            if self.tracking_number:
                raise ValueError("give either buyLabel or a trackingNumber, not both")
        elif not self.carrier or not self.tracking_number:
            raise ValueError("give a carrier and a trackingNumber, or buyLabel: true")
        return self


class ShipmentAnswer(ApiModel):
    shipment: ShipmentView
    order: OrderView


@router.post(
    "/orders/<orderId>/shipments",
    summary="Ship an MFN order (all or some units)",
    tags=["shipping"],
    responses={
        201: {"description": "recorded (and confirmed to Amazon, or queued to be)"},
        409: {
            "description": "not MFN, canceled, fully shipped, more units than remain, the tracking number "
            "is another order's (without multiOrderPackage), or Amazon may have sold a label whose answer was "
            "lost (record it by hand, or send again with buyAgain)"
        },
        422: {"description": "Amazon refused the label or the ship-from address"},
        503: {"description": "Amazon is busy or the rate budget is spent; nothing was changed"},
    },
)
def post_shipment(orderId: OrderId, body: ShipmentRequest) -> tuple[ShipmentAnswer, int]:
    table, order_id = default_table(), unquote(orderId)
    package: BoughtLabel | Recorded
    if body.buy_label:
        client = default_client()
        package = buy_label(
            table,
            client,
            default_documents(),
            order_id,
            items=body.items,
            service_id=body.shipping_service_id,
            package=body.package,
            buy_again=body.buy_again,
        )
    else:
        client = _client_or_none()
        package = Recorded(
            body.carrier or "", body.tracking_number or "", body.service, body.weight_grams, body.carrier_name
        )
    order, shipment = ship(
        table,
        order_id,
        package,
        items=body.items,
        ship_date=body.ship_date,
        multi_order_package=body.multi_order_package,
        # the label's claim settled with the recording: a bought label's, or one whose purchase lost its answer
        settles=partial(label_recorded, order_id)
        if body.buy_label
        else partial(settled_by_hand, table, order_id),
    )
    order, shipment = confirm_now(table, client, order, shipment)  # the queue retries what this leaves
    return _answer(order, shipment.shipment_id), 201


@router.post(
    "/orders/<orderId>/shipments/<shipmentId>/confirm",
    summary="Confirm a queued shipment to Amazon now",
    tags=["shipping"],
)
def post_confirm(
    orderId: OrderId, shipmentId: Annotated[str, Path(min_length=1, max_length=20)]
) -> ShipmentAnswer:
    table, order_id = default_table(), unquote(orderId)
    confirm(table, default_client(), order_id, shipmentId)
    item = table.get(keys.order_key(order_id), consistent=True)
    if item is None:
        raise NotFound(f"order {order_id} is not known here")
    return _answer(order_from_item(item), shipmentId)


@router.get(
    "/orders/<orderId>/rates",
    summary="The services Amazon offers for the order's package, cheapest first, the cheapest on-time marked",
    tags=["shipping"],
)
def get_rates(
    orderId: OrderId,
    weight: Annotated[
        float | None, Query(gt=0, description="package weight (default: the catalogue's)")
    ] = None,
    weight_unit: Annotated[Literal["oz", "g"], Query(alias="weightUnit")] = "oz",
    length: Annotated[float | None, Query(gt=0)] = None,
    width: Annotated[float | None, Query(gt=0)] = None,
    height: Annotated[float | None, Query(gt=0)] = None,
    dimension_unit: Annotated[Literal["inches", "centimeters"], Query(alias="dimensionUnit")] = "inches",
) -> Rates:
    sizes = {"weight": weight, "length": length, "width": width, "height": height}
    package = None
    if any(v is not None for v in sizes.values()):
        missing = [name for name, value in sizes.items() if value is None]
        if missing:
            raise InvalidInput.for_field(missing[0], "a given package needs weight, length, width and height")
        package = PackageDefaults(
            weight=weight or 0,
            weight_unit=weight_unit,
            length=length or 0,
            width=width or 0,
            height=height or 0,
            dimension_unit=dimension_unit,
        )
    return shipping_rates(default_table(), default_client(), unquote(orderId), package=package)


def _answer(order: Order, shipment_id: str) -> ShipmentAnswer:
    table = default_table()
    products = ProductStore(table).many(skus_of([order]))
    view = order_view(order, ShippingSettingsStore(table).get(), utc_now(), links=True, products=products)
    shipment = next((s for s in view.shipments if s.shipment_id == shipment_id), None)
    if shipment is None:
        raise NotFound(f"order {order.order_id} has no shipment {shipment_id}")
    return ShipmentAnswer(shipment=shipment, order=view)


def _client_or_none() -> Any:
    """Locally and deployed the SP-API secret is there; without it a shipment is still recorded and queued."""
    try:
        return default_client() if get_settings().spapi_secret_arn else None
    except Exception:
        return None


@router.get(
    "/carriers", summary="Carrier codes Amazon accepts, with an example tracking number", tags=["shipping"]
)
def get_carriers() -> ListPage:
    settings = ShippingSettingsStore(default_table()).get()
    set_up = {c.code: c for c in settings.carriers}
    items = [
        {
            "code": c.code,
            "name": c.name,
            "example": c.example,
            "setUp": c.code in set_up,
            **(
                set_up[c.code].model_dump(mode="json", by_alias=True, exclude={"code"})
                if c.code in set_up
                else {}
            ),
        }
        for c in CARRIERS.values()
    ]
    return ListPage(items=items)


@router.get(
    "/settings/shipping",
    summary="The shipping setup: warehouse calendar, carriers, pickups",
    tags=["shipping"],
)
def get_shipping_settings() -> ShippingSettings:
    return ShippingSettingsStore(default_table()).get(fresh=True)


@router.put(
    "/settings/shipping",
    summary="Replace the whole shipping setup (every field, as GET gives it; 400 names what is missing)",
    tags=["shipping"],
    responses={200: {"description": "the saved setup"}, 409: {"description": "changed meanwhile; try again"}},
)
def put_shipping_settings(body: CompleteShippingSettings) -> ShippingSettings:
    whole = ShippingSettings.model_validate(body.model_dump(mode="json", by_alias=True))
    return ShippingSettingsStore(default_table()).put(whole)


@router.patch(
    "/settings/shipping",
    summary="Change parts of the shipping setup (JSON merge patch, RFC 7386; the result is checked whole)",
    tags=["shipping"],
    responses={200: {"description": "the saved setup"}, 409: {"description": "changed meanwhile; try again"}},
)
def patch_shipping_settings(
    body: Annotated[
        dict[str, Any],
        Body(description='e.g. {"warehouse": {"closes": "17:00:00"}}; null removes optional text'),
    ],
) -> ShippingSettings:
    return ShippingSettingsStore(default_table()).patch(body)


class BatchRequest(ApiModel):
    order_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, min_length=1, max_length=200
    )
    pick_group: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="or every order an order rule added to this pick group that waits to be picked "
        "(not on hold, not in a batch yet)",
    )
    force: bool = False  # batch orders already in a batch again (they move to the new one)

    @model_validator(mode="after")
    def _one_way(self) -> BatchRequest:
        if (self.order_ids is None) == (self.pick_group is None):
            raise ValueError("give either orderIds or pickGroup")
        return self


@router.post(
    "/batches",
    summary="Group orders for picking: pick list and packing slips (PDF)",
    tags=["shipping"],
    responses={
        201: {"description": "the batch with links to its PDFs"},
        404: {"description": "an order is not known here"},
        409: {"description": "an order is not awaiting shipment, or already in a batch (without force)"},
    },
)
def post_batch(body: BatchRequest) -> tuple[Batch, int]:
    order_ids = body.order_ids or orders_in_pick_group(default_table(), body.pick_group or "", utc_now())
    batch = create_batch(
        default_table(),
        default_documents(),
        order_ids,
        client=_client_or_none(),
        force=body.force,
        retention_days=get_settings().buyer_data_retention_days,
    )
    return batch, 201


@router.get("/batches", summary="Pick batches, newest first, with links to their PDFs", tags=["shipping"])
def get_batches(
    limit: Annotated[int | None, Query(ge=1, le=100)] = None,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=4096)] = None,
) -> ListPage:
    items, token = list_batches(
        default_table(), default_documents(), limit=limit or 20, next_token=next_token
    )
    return ListPage(items=items, next_token=token)


@router.get("/batches/<batchId>", summary="One batch with fresh links to its PDFs", tags=["shipping"])
def get_one_batch(batchId: Annotated[str, Path(min_length=1, max_length=64)]) -> Batch:
    return get_batch(default_table(), default_documents(), batchId)


@router.get(
    "/reports/shipping-spend",
    summary="What labels bought through Amazon cost, per currency and carrier, over warehouse days",
    tags=["shipping"],
)
def get_shipping_spend(
    day_from: Annotated[date, Query(alias="from", description="first warehouse-local day")],
    day_to: Annotated[date, Query(alias="to", description="last warehouse-local day")],
) -> dict[str, Any]:
    return shipping_spend(default_table(), day_from, day_to)


@router.get(
    "/reports/end-of-day",
    summary="The day's packages per carrier (manifest): JSON, CSV or PDF",
    tags=["shipping"],
)
def get_end_of_day(
    day: Annotated[
        date | None,
        Query(alias="date", description="warehouse-local day (default: the carrier's next pickup day)"),
    ] = None,
    carrier: Annotated[str | None, Query(description="carrier code (default: the default carrier)")] = None,
    format: Annotated[Literal["json", "csv", "pdf"], Query()] = "json",
) -> Any:
    table = default_table()
    settings = ShippingSettingsStore(table).get()
    code = carrier or settings.default_carrier
    if day is None:  # the form the packages recorded now go on: the carrier's next pickup
        day = settings.calendar.local(settings.pickup(code).next_pickup(settings.calendar, utc_now())).date()
    form = end_of_day_form(table, day, code, settings)
    if format == "csv":
        from oms.shipping.paperwork import end_of_day_csv

        return Response(
            status_code=200,
            content_type="text/csv; charset=utf-8",
            body=end_of_day_csv(form),
            headers={
                "Content-Disposition": f'attachment; filename="end-of-day-{day}-{form.carrier_code}.csv"'
            },
        )
    links = store_form(table, default_documents(), form) if format == "pdf" else {}
    return form_json(form, links)
