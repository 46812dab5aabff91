"""The marketplace's records in Amazon's JSON: Orders API v2026-01-01 `Order`, the ORDER_CHANGE
notification, Listings Items `Item` and FBA Inventory `InventorySummary`.

Field names and required fields follow the official models (contracts/sp-api-models); the tests check
every shape produced here against them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from oms_local.simulator.config import CURRENCY, MARKETPLACE_NAME
from oms_local.simulator.entities import (
    CANCELED,
    FULFILLMENT_STATUS,
    PARTIALLY_SHIPPED,
    PENDING,
    PENDING_AVAILABILITY,
    FbaStock,
    Line,
    Listing,
    Order,
)

# Orders API v2026-01-01 includedData: without them an order carries only its basic information
# (ids, times, programs, sales channel, items with their products).
INCLUDED_DATA = (
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
)
LISTING_DATA = (
    "summaries",
    "attributes",
    "issues",
    "offers",
    "fulfillmentAvailability",
    "procurement",
    "relationships",
    "productTypes",
)


def iso(moment: datetime) -> str:
    """Orders API times: UTC, whole seconds, Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(moment: datetime) -> str:
    """Notification times: UTC, milliseconds, Z (as in Amazon's examples)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def money(amount: Decimal) -> dict[str, str]:
    return {"amount": str(amount.quantize(Decimal("0.01"))), "currencyCode": CURRENCY}


def window(bounds: tuple[datetime, datetime]) -> dict[str, str]:
    return {"earliestDateTime": iso(bounds[0]), "latestDateTime": iso(bounds[1])}


def _programs(order: Order) -> list[str]:
    programs = []
    if order.prime:
        programs.append("PRIME")
    if order.business:
        programs.append("AMAZON_BUSINESS")
    if order.preorder:
        programs.append("PREORDER")
    return programs


def _shipping_charge(order: Order) -> Decimal:
    if order.prime or order.afn or sum((line.total for line in order.lines), Decimal(0)) >= 35:
        return Decimal(0)
    return Decimal("5.99")


def order_json(
    order: Order, marketplace_id: str, included: set[str] | frozenset[str] = frozenset()
) -> dict[str, Any]:
    """One Order as getOrder and searchOrders answer it, with the includedData sections asked for."""
    body: dict[str, Any] = {
        "orderId": order.order_id,
        "createdTime": iso(order.created),
        "lastUpdatedTime": iso(order.updated),
    }
    programs = _programs(order)
    if programs:
        body["programs"] = programs
    body["salesChannel"] = {
        "channelName": "AMAZON",
        "marketplaceId": marketplace_id,
        "marketplaceName": MARKETPLACE_NAME,
    }
    pii_visible = order.status not in (PENDING, PENDING_AVAILABILITY)  # Amazon shows no PII before payment
    if "BUYER" in included and pii_visible:
        buyer: dict[str, Any] = {"buyerName": order.buyer.name, "buyerEmail": order.buyer.email}
        if order.buyer.company:
            buyer["buyerCompanyName"] = order.buyer.company
        body["buyer"] = buyer
    if "RECIPIENT" in included and pii_visible:
        address: dict[str, Any] = {"name": order.address.name, "addressLine1": order.address.line1}
        if order.address.line2:
            address["addressLine2"] = order.address.line2
        if order.address.company:
            address["companyName"] = order.address.company
        address.update(
            {
                "city": order.address.city,
                "stateOrRegion": order.address.state,
                "postalCode": order.address.postal_code,
                "countryCode": order.address.country_code,
                "phone": order.address.phone,
                "addressType": order.address.address_type,
            }
        )
        body["recipient"] = {"deliveryAddress": address}
    if "PROCEEDS" in included:
        items_total = sum((line.total for line in order.lines), Decimal(0))
        shipping = _shipping_charge(order)
        breakdowns = [{"type": "ITEM", "subtotal": money(items_total)}]
        if shipping:
            breakdowns.append({"type": "SHIPPING", "subtotal": money(shipping)})
        body["proceeds"] = {"grandTotal": money(items_total + shipping), "breakdowns": breakdowns}
    if "FULFILLMENT" in included:
        body["fulfillment"] = {
            "fulfillmentStatus": FULFILLMENT_STATUS[order.status],
            "fulfilledBy": "AMAZON" if order.afn else "MERCHANT",
            "fulfillmentServiceLevel": order.service_level,
            "shipByWindow": window(order.ship_window),
            "deliverByWindow": window(order.delivery_window),
        }
    body["orderItems"] = [_item_json(line, order, included) for line in order.lines]
    if "PACKAGES" in included and not order.afn and order.packages:  # packages: FBM orders only
        body["packages"] = [
            {
                "packageReferenceId": package.reference_id,
                "createdTime": iso(package.created),
                "packageStatus": {"status": "SHIPPED"},
                "carrier": package.carrier_name or package.carrier_code,
                "shipTime": iso(package.ship_date),
                **({"shippingService": package.shipping_method} if package.shipping_method else {}),
                "trackingNumber": package.tracking_number,
                "packageItems": [
                    {"orderItemId": item_id, "quantity": units} for item_id, units in package.items
                ],
            }
            for package in order.packages
        ]
    return body


def _item_json(line: Line, order: Order, included: set[str] | frozenset[str]) -> dict[str, Any]:
    price: dict[str, Any] = {"unitPrice": money(line.unit_price)}
    if order.business:
        price["priceDesignation"] = "BUSINESS_PRICE"
    item: dict[str, Any] = {
        "orderItemId": line.order_item_id,
        "quantityOrdered": line.quantity,
        "product": {
            "asin": line.product.asin,
            "title": line.product.title,
            "sellerSku": line.product.sku,
            "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
            "price": price,
        },
    }
    if "PROCEEDS" in included:
        item["proceeds"] = {
            "proceedsTotal": money(line.total),
            "breakdowns": [{"type": "ITEM", "subtotal": money(line.total)}],
        }
    if "CANCELLATION" in included and (line.cancel_requested or line.canceled_by):
        cancellation: dict[str, Any] = {}
        if line.cancel_requested:
            cancellation["cancellationRequest"] = {
                "requester": "BUYER",
                "cancelReason": line.cancel_reason or "",
            }
        if line.canceled_by:
            cancellation["cancellationExecution"] = {
                "cancelledBy": line.canceled_by,
                "cancelReason": line.cancel_reason or "",
            }
        item["cancellation"] = cancellation
    if "FULFILLMENT" in included:
        unfulfilled = 0 if order.status == CANCELED else line.unshipped
        item["fulfillment"] = {"quantityFulfilled": line.shipped, "quantityUnfulfilled": unfulfilled}
    return item


# ---------------------------------------------------------------------------------- notifications


def order_change(
    order: Order,
    *,
    change_type: str,
    reason: str,
    when: datetime,
    published: datetime,
    seller_id: str,
    marketplace_id: str,
    application_id: str,
    subscription_id: str,
    notification_id: str,
) -> dict[str, Any]:
    """An ORDER_CHANGE notification (OrderLevel) for the order as it is now.

    EventTime and TimeOfOrderChange are the time of the change; PublishTime is when Amazon sent it,
    a moment later (a late delivery keeps both: the delay happens on the way).
    """
    ship_from, ship_by = order.ship_window
    summary: dict[str, Any] = {
        "MarketplaceId": marketplace_id,
        "OrderStatus": order.status,
        "PurchaseDate": iso_ms(order.created),
        "DestinationPostalCode": order.address.postal_code,
        "FulfillmentType": order.fulfillment_type,
        "OrderType": "Preorder" if order.preorder else "StandardOrder",
        "NumberOfItemsShipped": order.units_shipped,
        "NumberOfItemsUnshipped": 0 if order.status == CANCELED else order.units - order.units_shipped,
    }
    if not order.afn:  # delivery dates: seller-fulfilled orders only
        summary["EarliestDeliveryDate"] = iso_ms(order.delivery_window[0])
        if order.status not in (PENDING_AVAILABILITY, PENDING, CANCELED):
            summary["LatestDeliveryDate"] = iso_ms(order.delivery_window[1])
    summary["EarliestShipDate"] = iso_ms(ship_from)
    summary["LatestShipDate"] = iso_ms(ship_by)
    programs = (["Prime"] if order.prime else []) + (["Business"] if order.business else [])
    if programs:
        summary["OrderPrograms"] = programs
    items = []
    for line in order.lines:
        item: dict[str, Any] = {
            "OrderItemId": line.order_item_id,
            "SellerSKU": line.product.sku,
            "SupplySourceId": None,
        }
        if order.status == PARTIALLY_SHIPPED:  # only when the items' statuses differ
            item["OrderItemStatus"] = "Shipped" if line.unshipped == 0 else "Unshipped"
        item.update(
            {
                "Quantity": line.quantity,
                "QuantityShipped": line.shipped,
                "IsBuyerRequestedCancel": line.cancel_requested,
            }
        )
        if not order.afn:
            item["ItemEarliestDeliveryDate"] = iso_ms(order.delivery_window[0])
            item["ItemLatestDeliveryDate"] = iso_ms(order.delivery_window[1])
        items.append(item)
    summary["OrderItems"] = items
    return {
        "NotificationVersion": "1.0",
        "NotificationType": "ORDER_CHANGE",
        "PayloadVersion": "1.0",
        "EventTime": iso_ms(when),
        "Payload": {
            "OrderChangeNotification": {
                "NotificationLevel": "OrderLevel",
                "SellerId": seller_id,
                "AmazonOrderId": order.order_id,
                "OrderChangeType": change_type,
                "OrderChangeTrigger": {"TimeOfOrderChange": iso_ms(when), "ChangeReason": reason},
                "Summary": summary,
            }
        },
        "NotificationMetadata": {
            "ApplicationId": application_id,
            "SubscriptionId": subscription_id,
            "PublishTime": iso_ms(published),
            "NotificationId": notification_id,
        },
    }


# ---------------------------------------------------------------------------------- listings, FBA


def listing_json(
    listing: Listing,
    marketplace_id: str,
    included: set[str] | frozenset[str],
    fba: FbaStock | None = None,
    image_link: str | None = None,
) -> dict[str, Any]:
    """A Listings Items `Item` with the includedData asked for (default: summaries)."""
    product = listing.product
    body: dict[str, Any] = {"sku": product.sku}
    if "summaries" in included:
        buyable = listing.quantity > 0 or (fba is not None and fba.fulfillable > 0)
        summary: dict[str, Any] = {
            "marketplaceId": marketplace_id,
            "asin": product.asin,
            "productType": "PRODUCT",
            "conditionType": "new_new",
            "status": ["BUYABLE", "DISCOVERABLE"] if buyable else ["DISCOVERABLE"],
        }
        if fba is not None:
            summary["fnSku"] = product.fn_sku
        summary.update(
            {
                "itemName": product.title,
                "createdDate": iso(listing.created),
                "lastUpdatedDate": iso(listing.updated),
            }
        )
        if image_link:
            summary["mainImage"] = {"link": image_link, "height": IMAGE_PIXELS, "width": IMAGE_PIXELS}
        body["summaries"] = [summary]
    if "attributes" in included:
        body["attributes"] = {
            "item_name": [{"value": product.title, "marketplace_id": marketplace_id}],
            "condition_type": [{"value": "new_new", "marketplace_id": marketplace_id}],
            "fulfillment_availability": [
                {"fulfillment_channel_code": "DEFAULT", "quantity": listing.quantity}
            ],
            **listing.attributes,
        }
    if "issues" in included:
        body["issues"] = []
    if "offers" in included:
        body["offers"] = [
            {"marketplaceId": marketplace_id, "offerType": "B2C", "price": money(product.price)}
        ]
    if "fulfillmentAvailability" in included:
        availability: list[dict[str, Any]] = [
            {"fulfillmentChannelCode": "DEFAULT", "quantity": listing.quantity}
        ]
        if fba is not None:
            availability.append({"fulfillmentChannelCode": "AMAZON_NA", "quantity": fba.fulfillable})
        body["fulfillmentAvailability"] = availability
    if "productTypes" in included:
        body["productTypes"] = [{"marketplaceId": marketplace_id, "productType": "PRODUCT"}]
    if "procurement" in included:
        body["procurement"] = []
    if "relationships" in included:
        body["relationships"] = [{"marketplaceId": marketplace_id, "relationships": []}]
    return body


def inventory_summary(stock: FbaStock, details: bool) -> dict[str, Any]:
    product = stock.product
    summary: dict[str, Any] = {
        "asin": product.asin,
        "fnSku": product.fn_sku,
        "sellerSku": product.sku,
        "condition": "NewItem",
    }
    if details:
        summary["inventoryDetails"] = {
            "fulfillableQuantity": stock.fulfillable,
            "inboundWorkingQuantity": stock.inbound_working,
            "inboundShippedQuantity": stock.inbound_shipped,
            "inboundReceivingQuantity": stock.inbound_receiving,
            "reservedQuantity": {
                "totalReservedQuantity": stock.reserved,
                "pendingCustomerOrderQuantity": stock.reserved_orders,
                "pendingTransshipmentQuantity": 0,
                "fcProcessingQuantity": stock.reserved_processing,
            },
            "researchingQuantity": {
                "totalResearchingQuantity": stock.researching,
                "researchingQuantityBreakdown": [
                    {"name": "researchingQuantityInShortTerm", "quantity": stock.researching},
                    {"name": "researchingQuantityInMidTerm", "quantity": 0},
                    {"name": "researchingQuantityInLongTerm", "quantity": 0},
                ],
            },
            "unfulfillableQuantity": {
                "totalUnfulfillableQuantity": stock.unfulfillable,
                "customerDamagedQuantity": stock.unfulfillable,
                "warehouseDamagedQuantity": 0,
                "distributorDamagedQuantity": 0,
                "carrierDamagedQuantity": 0,
                "defectiveQuantity": 0,
                "expiredQuantity": 0,
            },
        }
    if stock.updated is not None:
        summary["lastUpdatedTime"] = iso(stock.updated)
    summary["productName"] = product.title
    summary["totalQuantity"] = stock.total
    return summary


IMAGE_PIXELS = 500
CATALOG_DATA = ("summaries", "images", "dimensions", "identifiers")


def _dimensions(size: tuple[Decimal, Decimal, Decimal], pounds: Decimal) -> dict[str, Any]:
    length, width, height = size
    return {
        "length": {"unit": "inches", "value": float(length)},
        "width": {"unit": "inches", "value": float(width)},
        "height": {"unit": "inches", "value": float(height)},
        "weight": {"unit": "pounds", "value": float(pounds)},
    }


def catalog_item_json(
    product: Any, marketplace_id: str, included: set[str] | frozenset[str], image_link: str
) -> dict[str, Any]:
    """getCatalogItem's Item (Catalog Items API 2022-04-01) with the includedData asked for."""
    body: dict[str, Any] = {"asin": product.asin}
    if "summaries" in included:
        body["summaries"] = [
            {
                "marketplaceId": marketplace_id,
                "brand": "Local Marketplace Homeware",
                "itemName": product.title,
                "manufacturer": "Local Marketplace Homeware",
            }
        ]
    if "images" in included:
        body["images"] = [
            {
                "marketplaceId": marketplace_id,
                "images": [
                    {"variant": "MAIN", "link": image_link, "height": IMAGE_PIXELS, "width": IMAGE_PIXELS}
                ],
            }
        ]
    if "dimensions" in included:
        body["dimensions"] = [
            {
                "marketplaceId": marketplace_id,
                "item": _dimensions(product.item_size_inches, product.item_weight_pounds),
                "package": _dimensions(product.package_size_inches, product.package_weight_pounds),
            }
        ]
    if "identifiers" in included:
        body["identifiers"] = [
            {
                "marketplaceId": marketplace_id,
                "identifiers": [{"identifierType": "SKU", "identifier": product.sku}],
            }
        ]
    return body


def product_image_svg(title: str, colour: str) -> str:
    """A square picture of the product for the dashboard: its initials on its colour."""
    words = [w for w in title.split() if w[:1].isalnum()]
    initials = "".join(w[0] for w in words[:2]).upper() or "?"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{IMAGE_PIXELS}" height="{IMAGE_PIXELS}" '
        f'viewBox="0 0 100 100"><rect width="100" height="100" rx="12" fill="{colour}"/>'
        f'<text x="50" y="62" font-size="36" font-family="sans-serif" text-anchor="middle" fill="#fff">'
        f"{initials}</text></svg>"
    )
