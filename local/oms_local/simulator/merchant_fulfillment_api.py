"""The Merchant Fulfillment API (v0, Buy Shipping) of the local marketplace: the services offered for a
package and the labels sold; the order ships only when the seller confirms it (Orders API)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from oms_local.simulator import contract, shipping
from oms_local.simulator.config import CURRENCY
from oms_local.simulator.entities import PARTIALLY_SHIPPED, UNSHIPPED, Order, ShippingLabel
from oms_local.simulator.market_core import MarketCore, invalid
from oms_local.simulator.ship_from_zone import ship_from_zone


class MerchantFulfillmentApi(MarketCore):
    """getEligibleShipmentServices and createShipment."""

    def _shipment_request(self, operation: str, request: Any) -> tuple[Order, dict[str, Any], Decimal]:
        """The request's order and ShipmentRequestDetails, checked as Amazon checks them, and the
        package's weight in pounds. Refusals are 400s, as Buy Shipping answers them."""
        problems = contract.request_body_problems(operation, request)
        if problems:
            raise invalid("Invalid Input", "; ".join(problems[:3]))
        try:
            details = request["ShipmentRequestDetails"]
            order_id = str(details["AmazonOrderId"])
            items = [(str(item["OrderItemId"]), int(item["Quantity"])) for item in details["ItemList"]]
            weight = details["Weight"]
            weight_pounds = shipping.pounds(float(weight["Value"]), str(weight["Unit"]))
            dimensions = details["PackageDimensions"]
            options = details["ShippingServiceOptions"]
            _ = bool(options["CarrierWillPickUp"]), str(options["DeliveryExperience"])
        except (KeyError, TypeError, ValueError, AttributeError):  # without the models to check against
            raise invalid(
                "Invalid Input", "The body does not match the ShipmentRequestDetails model."
            ) from None
        order = self.orders.get(order_id)
        if order is None:
            raise invalid("Invalid Input", f"Order {order_id} was not found for this seller.")
        if order.afn:
            raise invalid("Invalid Input", f"Order {order_id} is fulfilled by Amazon; it needs no label.")
        if order.status not in (UNSHIPPED, PARTIALLY_SHIPPED):
            raise invalid(
                "Invalid Input", f"Order {order_id} is {order.status}; labels are sold for unshipped orders."
            )
        if weight_pounds <= 0:
            raise invalid("Invalid Input", "Weight.Value must be above 0.")
        if "PredefinedPackageDimensions" not in dimensions and not all(
            float(dimensions.get(side) or 0) > 0 for side in ("Length", "Width", "Height")
        ):
            raise invalid(
                "Invalid Input", "PackageDimensions needs a Length, Width and Height above 0 and a Unit."
            )
        if not items:
            raise invalid("Invalid Input", "ItemList must hold at least one item.")
        units: dict[str, int] = {}
        for item_id, quantity in items:
            line = order.line(item_id)
            if line is None:
                raise invalid("Invalid Input", f"Order {order_id} has no item {item_id}.")
            if quantity < 1:
                raise invalid("Invalid Input", "Each item's Quantity must be at least 1.")
            units[item_id] = units.get(item_id, 0) + quantity
            if units[item_id] > line.unshipped:
                raise invalid(
                    "Invalid Input",
                    f"Item {item_id}: {units[item_id]} units asked for, {line.unshipped} left to ship.",
                )
        return order, details, weight_pounds

    def eligible_shipping_services(self, request: Any) -> dict[str, Any]:
        """getEligibleShipmentServices: the services (cheap and slow to fast and dear) for the package."""
        with self._lock:
            order, details, weight_pounds = self._shipment_request("getEligibleShipmentServices", request)
            now = self.clock()
            services = [
                shipping.service_json(
                    plan,
                    order_id=order.order_id,
                    weight_pounds=weight_pounds,
                    options=details["ShippingServiceOptions"],
                    now=now,
                    currency=CURRENCY,
                    zone=ship_from_zone(details["ShipFromAddress"]),
                )
                for plan in shipping.SERVICES
            ]
        return {
            "payload": {
                "ShippingServiceList": services,
                "RejectedShippingServiceList": [],
                "TemporarilyUnavailableCarrierList": [],
                "TermsAndConditionsNotAcceptedCarrierList": [],
            }
        }

    def create_shipment(self, request: Any) -> dict[str, Any]:
        """createShipment: sell the label of an offered service. The order does not ship until the
        seller confirms the shipment (confirmShipment), as with Amazon."""
        with self._lock:
            order, details, weight_pounds = self._shipment_request("createShipment", request)
            service_id = str(request.get("ShippingServiceId", ""))
            plan = shipping.SERVICE_PLANS.get(service_id)
            if plan is None:
                raise invalid(
                    "Invalid Input",
                    f"ShippingServiceId {service_id!r} is not offered; offered: "
                    + ", ".join(shipping.SERVICE_PLANS),
                )
            now = self.clock()
            offered = now  # what was offered then is what is sold (its ship date and delivery estimate)
            offer_text = request.get("ShippingServiceOfferId")
            if offer_text is not None:
                offer = shipping.read_offer_id(str(offer_text))
                if offer is None or offer["o"] != order.order_id or offer["s"] != service_id:
                    raise invalid(
                        "Invalid Input",
                        "ShippingServiceOfferId is not an offer of this service for this order.",
                    )
                offered = datetime.fromisoformat(offer["t"])
            service = shipping.service_json(
                plan,
                order_id=order.order_id,
                weight_pounds=weight_pounds,
                options=details["ShippingServiceOptions"],
                now=offered,
                currency=CURRENCY,
                zone=ship_from_zone(details["ShipFromAddress"]),
            )
            tracking = shipping.tracking_id(plan, self.rng, self.seller_id)
            ship_to = shipping.address_json(order.address)
            document = shipping.label_pdf(
                plan=plan,
                tracking=tracking,
                ship_from=details["ShipFromAddress"],
                ship_to=ship_to,
                order_id=order.order_id,
            )
            items = [(str(i["OrderItemId"]), int(i["Quantity"])) for i in details["ItemList"]]
            label = ShippingLabel(
                shipment_id=self._uuid(),
                service_id=plan.service_id,
                service_name=plan.name,
                carrier_name=plan.carrier_name,
                carrier_code=plan.carrier_code,
                tracking_id=tracking,
                rate=shipping.rate(plan, weight_pounds),
                ship_date=datetime.fromisoformat(service["ShipDate"]),
                latest_delivery=datetime.fromisoformat(service["LatestEstimatedDeliveryDate"]),
                created=now,
                items=items,
                file_type="application/pdf",
                size_bytes=len(document),
            )
            order.labels.append(label)
        return {
            "payload": {
                "ShipmentId": label.shipment_id,
                "AmazonOrderId": order.order_id,
                "ItemList": [{"OrderItemId": i, "Quantity": n} for i, n in items],
                "ShipFromAddress": details["ShipFromAddress"],
                "ShipToAddress": ship_to,
                "PackageDimensions": details["PackageDimensions"],
                "Weight": details["Weight"],
                "Insurance": shipping.amount_json(Decimal(0), CURRENCY),
                "ShippingService": service,
                "Label": {
                    "Dimensions": {
                        "Length": shipping.LABEL_LENGTH_INCHES,
                        "Width": shipping.LABEL_WIDTH_INCHES,
                        "Unit": "inches",
                    },
                    "FileContents": shipping.file_contents(document, label.file_type),
                    "LabelFormat": "PDF",
                },
                "Status": "Purchased",
                "TrackingId": tracking,
                "CreatedDate": shipping.iso(now),
            }
        }
