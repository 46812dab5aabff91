"""Reply templates: the seller's standard answers with variables filled from the order, one text per
language, kept in the table and edited through the API (and the dashboard).

Variables are written `{{name}}`: orderId, items (titles, or SKUs, with quantities), trackingNumber,
carrier, expectedDelivery (the latest promised delivery day, or the carrier's estimate, as a date in the
warehouse's zone), returnInstructions. A variable the order cannot fill (no shipment yet) is refused at
sending (400 naming it): a buyer never reads an empty blank.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from oms.domain.orders import Order
from oms.domain.types import ApiModel
from oms.errors import InvalidInput, NotFound
from oms.store import keys
from oms.store.orders import OrderRepository
from oms.store.table import Item, Table
from oms.warehouse.settings import ShippingSettingsStore

VARIABLES = ("orderId", "items", "trackingNumber", "carrier", "expectedDelivery", "returnInstructions")
_VARIABLE = re.compile(r"\{\{\s*(\w+)\s*\}\}")
DEFAULT_LANGUAGE = "en"
RETURN_INSTRUCTIONS = {
    "en": "You can return it from Your Orders on Amazon: choose the order, then Return or replace items.",
    "de": "Sie können den Artikel unter Meine Bestellungen bei Amazon zurücksenden: Bestellung wählen, "
    "dann Artikel zurücksenden.",
    "fr": "Vous pouvez le retourner depuis Vos commandes sur Amazon : choisissez la commande, puis "
    "Retourner ou remplacer des articles.",
    "es": "Puede devolverlo desde Mis pedidos en Amazon: elija el pedido y luego Devolver o reemplazar productos.",
}


class Template(ApiModel):
    """A reply template: per language (ISO 639-1 code) its text with `{{variables}}`."""

    name: str = Field(min_length=1, max_length=100)
    intent: str | None = Field(
        default=None, max_length=40, description="the buyer's intent it answers, e.g. where-is-my-order"
    )
    bodies: dict[str, str] = Field(min_length=1, description='per language, e.g. {"en": "...", "de": "..."}')

    @field_validator("bodies")
    @classmethod
    def _known_variables(cls, bodies: dict[str, str]) -> dict[str, str]:
        for language, text in bodies.items():
            if not re.fullmatch(r"[a-z]{2}(-[A-Z]{2})?", language):
                raise ValueError(f"{language!r} is not a language code like en or de")
            if not text.strip() or len(text) > 4000:
                raise ValueError(f"the {language} text needs 1 to 4,000 characters")
            unknown = sorted(set(_VARIABLE.findall(text)) - set(VARIABLES))
            if unknown:
                raise ValueError(f"unknown variable(s) {', '.join(unknown)}; known: {', '.join(VARIABLES)}")
        return bodies


class Templates:
    def __init__(self, table: Table) -> None:
        self.table = table

    def put(self, template_id: str, template: Template) -> dict[str, Any]:
        body = template.model_dump(mode="json", by_alias=True, exclude_none=True)
        self.table.put(
            {
                **keys.reply_template_key(template_id),
                "entity": "ReplyTemplate",
                "templateId": template_id,
                **body,
            }
        )
        return {"templateId": template_id, **body}

    def get(self, template_id: str) -> dict[str, Any]:
        item = self.table.get(keys.reply_template_key(template_id))
        if item is None:
            raise NotFound(f"template {template_id} is not known here")
        return _view(item)

    def list(self) -> list[dict[str, Any]]:
        return [_view(i) for i in self.table.query_all(keys.reply_templates())]

    def delete(self, template_id: str) -> None:
        self.get(template_id)
        self.table.delete(keys.reply_template_key(template_id))


def _view(item: Item) -> dict[str, Any]:
    return {k: item[k] for k in ("templateId", "name", "intent", "bodies") if k in item}


def order_facts(order: Order, zone: str, language: str) -> dict[str, str | None]:
    """What the variables stand for on this order (None: the order has none yet)."""
    shipment = order.shipments[-1] if order.shipments else None
    delivery: datetime | None = (
        shipment.estimated_delivery if shipment else None
    ) or order.latest_delivery_date
    items = ", ".join(
        f"{line.quantity} x {line.title or line.sku}" for line in order.items if line.quantity > 0
    )
    return {
        "orderId": order.order_id,
        "items": items or None,
        "trackingNumber": shipment.tracking_number if shipment else None,
        "carrier": (shipment.carrier_name or shipment.carrier) if shipment else None,
        "expectedDelivery": delivery.astimezone(ZoneInfo(zone)).strftime("%A %-d %B %Y")
        if delivery
        else None,
        "returnInstructions": RETURN_INSTRUCTIONS.get(language[:2], RETURN_INSTRUCTIONS[DEFAULT_LANGUAGE]),
    }


def render(text: str, facts: dict[str, str | None]) -> str:
    missing = sorted({name for name in _VARIABLE.findall(text) if not facts.get(name)})
    if missing:
        raise InvalidInput.for_field(
            "templateId", f"this order has no {', '.join(missing)} yet to fill the template with"
        )
    return _VARIABLE.sub(lambda m: str(facts[m.group(1)]), text)


def fill_template(table: Table, thread_id: str, template_id: str, language: str | None) -> str:
    """The template's text in `language` (a locale tag, e.g. de-DE; else its language, else English, else its
    first) filled from the thread's order."""
    from oms.care.locale import body_in

    thread = table.get(keys.thread_key(thread_id))
    if thread is None:
        raise NotFound(f"thread {thread_id} is not known here")
    template = Templates(table).get(template_id)
    chosen, text = body_in(template["bodies"], language)
    order = OrderRepository(table).get(str(thread["orderId"]))
    zone = ShippingSettingsStore(table).get().warehouse.time_zone
    return render(text, order_facts(order, zone, chosen))
