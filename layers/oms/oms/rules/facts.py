"""What the rules may test on an order, read from the order, the catalogue and (only when a rule asks
where the order goes) the buyer's address."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

from oms.domain.orders import Order
from oms.domain.products import Product
from oms.domain.rules import OrderFacts, Rule

Destination = Callable[[Order], Mapping[str, str] | None]

DESTINATION_FIELDS = frozenset({"country", "state"})


def needs_destination(rules: Sequence[Rule]) -> bool:
    """Whether any enabled rule tests where the order goes (the address is buyer data: read only then)."""
    return any(c.field in DESTINATION_FIELDS for r in rules if r.enabled for c in r.conditions)


def weight_kg(order: Order, products: Mapping[str, Product]) -> Decimal | None:
    """The units' catalogue weights summed; unknown when any SKU has no weight (a rule then does not guess)."""
    grams = Decimal(0)
    for item in order.items:
        product = products.get(item.sku)
        if product is None or product.weight is None:
            return None
        grams += product.weight.grams * item.quantity
    return grams / 1000 if order.items else None


def facts_of(
    order: Order, products: Mapping[str, Product], destination: Mapping[str, str] | None = None
) -> OrderFacts:
    total = order.order_total
    return OrderFacts(
        channel=order.fulfillment_channel.value,
        marketplace=order.marketplace_id,
        status=order.status.value,
        sku=tuple(dict.fromkeys(item.sku for item in order.items)),
        quantity=sum(item.quantity for item in order.items),
        order_value=Decimal(total.amount) if total is not None else None,
        country=(destination or {}).get("countryCode"),
        state=(destination or {}).get("stateOrRegion"),
        prime=order.is_prime,
        ship_service_level=order.ship_service_level,
        weight_kg=weight_kg(order, products),
        tags=tuple(order.handling.tags) if order.handling else (),
        ship_by=order.latest_ship_date,
    )
