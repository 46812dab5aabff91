"""Domain events, derived from committed table changes (the stream), never from handlers after a write.

Each event is defined below as a TypedDict named as its `detail-type`: its docstring says when it is
published, its fields (with their descriptions) are the event's `data`. `EVENT_TYPES` lists them all;
docs/events.md is generated from these definitions (`make events-doc`) and `make test` fails when it is
stale. A change yields the events it means; the stream record's id goes along as `metadata.eventId` so
subscribers can drop the rare duplicate (streams and EventBridge both deliver at least once).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypedDict

from oms.domain.types import iso_z
from oms.store.clients import aws_client

SOURCE = "oms"
_PUT_EVENTS_MAX = 10


class OrderSummary(TypedDict):
    """The order as it stands after the change: every order event carries it."""

    orderId: Annotated[str, "Amazon's order id"]
    marketplaceId: Annotated[str, "the marketplace the order was placed on"]
    status: Annotated[str, "the order's status after the change (Pending, Unshipped, PartiallyShipped, ...)"]
    fulfillmentChannel: Annotated[str, "MFN (the seller ships) or AFN (Amazon ships)"]
    purchaseDate: Annotated[str, "when the buyer placed the order (UTC ISO-8601, Z)"]
    latestShipDate: Annotated[
        str | None, "the last moment to ship on time (UTC ISO-8601, Z), if Amazon set one"
    ]


class OrderReceived(OrderSummary):
    """An order is stored for the first time."""

    items: Annotated[
        list[dict[str, Any]],
        "the order's lines as stored: `orderItemId`, `sku`, `quantity`, `quantityShipped`, `quantityShort`, "
        "and `title`, `asin`, `unitPrice` when known (the `OrderItem` schema of docs/openapi.json)",
    ]


class OrderStatusChanged(OrderSummary):
    """An order's status changed."""

    previousStatus: Annotated[str, "the status before the change"]


class OrderCanceled(OrderSummary):
    """An order's status became Canceled (published after its OrderStatusChanged)."""


class StockShortage(OrderSummary):
    """An order became short of stock: some of its units are backordered (an order arrived with too little
    on hand, an order due sooner took its units, or an adjustment took units it held). Once per transition:
    received stock clears the flag, and a later shortage announces again. The alerts rule also sends it to
    the alerts topic."""

    skus: Annotated[dict[str, int], "units short now, per SKU that is short (SKUs with enough are left out)"]


class OrderAtRisk(OrderSummary):
    """A seller-fulfilled order awaiting shipment became at risk of shipping late (little business time left
    before its latest ship date, or the next pickup comes after it). Once per transition; the alerts rule
    also sends it to the alerts topic."""

    latestDeliveryDate: Annotated[str | None, "the delivery promised to the buyer (UTC ISO-8601, Z), if any"]


class OrderLate(OrderSummary):
    """A seller-fulfilled order's latest ship date passed while it was unshipped. Once; the alerts rule also
    sends it to the alerts topic."""

    latestDeliveryDate: Annotated[str | None, "the delivery promised to the buyer (UTC ISO-8601, Z), if any"]


class StockSummary(TypedDict):
    """One SKU's stock at one location as it stands after the change: every stock event carries it."""

    sku: Annotated[str, "the seller's SKU"]
    location: Annotated[str, "the stock location (`default` unless the seller keeps several)"]
    onHand: Annotated[int, "units physically on hand"]
    available: Annotated[int, "units on hand that no order holds (never below 0)"]
    reorderPoint: Annotated[int | None, "the level at or below which the SKU should be reordered, if set"]


class StockLow(StockSummary):
    """A SKU's available units fell to or below its reorder point. Once per fall: staying low announces
    nothing, and a later fall after restocking announces again. The alerts rule also sends it to the alerts
    topic."""


class StockOut(StockSummary):
    """A SKU's available units fell to zero while it still has stock or demand (units on hand, held or
    backordered). Once per fall to zero; the alerts rule also sends it to the alerts topic."""


class ReorderDue(TypedDict):
    """The nightly plan found a SKU due for reordering: its available units plus units on order are at or
    below its reorder point, and its order quantity is above zero. Once per time it becomes due: staying
    due announces nothing, and a later fall after restocking announces again."""

    sku: Annotated[str, "the seller's SKU"]
    available: Annotated[int, "units available to sell, over all locations"]
    onOrder: Annotated[int, "units ordered from suppliers and not yet received"]
    reorderPoint: Annotated[
        int, "the plan's reorder point: daily demand x (lead time + review period) + safety stock"
    ]
    safetyStock: Annotated[int, "the plan's safety stock"]
    orderQuantity: Annotated[int, "the units to order now, rounded up to the case pack and the minimum order"]
    supplier: Annotated[str | None, "the supplier to order from, once suppliers exist"]


class ReturnSummary(TypedDict):
    """The return as it stands after the change: every return event carries it."""

    returnId: Annotated[str, "the return's id here"]
    orderId: Annotated[str, "Amazon's order id of the returned units"]
    source: Annotated[str, "amazon, fba, or seller (recorded outside Amazon's flow)"]
    amazonRmaId: Annotated[str | None, "Amazon's RMA id, when Amazon authorized the return"]
    status: Annotated[str, "the return's state after the change (requested, authorized, ..., closed)"]
    items: Annotated[
        list[dict[str, Any]],
        "the returned units: `sku`, `quantity`, `reason` (FBA: `disposition`, `fulfillmentCenterId`, `forRemoval`)",
    ]


class ReturnRequested(ReturnSummary):
    """A return is stored for the first time (recorded by the seller, or found in Amazon's reports)."""


class ReturnReceived(ReturnSummary):
    """Units of a return arrived and were graded: once per receipt (a retried receipt announces nothing)."""

    receipt: Annotated[
        dict[str, Any],
        "the receipt: `receiptId`, `at`, `items` [`sku`, `quantity`, `grade`, `location`, `disposition`]",
    ]
    refundDueBy: Annotated[str | None, "the refund's deadline: two business days after the first receipt"]


class RefundAtRisk(ReturnSummary):
    """A received return's refund came near its deadline unrefunded: less than the warehouse's at-risk share
    of the working time from the first receipt to refundDueBy is left. Once per transition (a refund clears
    it)."""

    receivedAt: Annotated[str | None, "the first receipt (UTC ISO-8601, Z): the refund clock started then"]
    refundDueBy: Annotated[str | None, "the refund's deadline: two business days after the first receipt"]


class RefundLate(ReturnSummary):
    """A received return's refundDueBy passed before it was refunded. Once; the alerts rule also sends it to
    the alerts topic."""

    receivedAt: Annotated[str | None, "the first receipt (UTC ISO-8601, Z): the refund clock started then"]
    refundDueBy: Annotated[str | None, "the refund's deadline: two business days after the first receipt"]


class ReturnDecisionAtRisk(ReturnSummary):
    """A return request waiting for the seller's decision (authorize or decline) came near its deadline: less
    than the warehouse's at-risk share of the 24 hours is left. Once per transition (an answer clears it)."""

    requestedAt: Annotated[str | None, "when the buyer asked (UTC ISO-8601, Z): the 24 hours started then"]
    decisionDueBy: Annotated[str | None, "answer by then: 24 hours after the request (Amazon's rule)"]


class ReturnDecisionLate(ReturnSummary):
    """A return request's decisionDueBy passed before the seller authorized or declined it. Once; the alerts
    rule also sends it to the alerts topic."""

    requestedAt: Annotated[str | None, "when the buyer asked (UTC ISO-8601, Z): the 24 hours started then"]
    decisionDueBy: Annotated[str | None, "answer by then: 24 hours after the request (Amazon's rule)"]


class RefundIssued(ReturnSummary):
    """Amazon accepted the return's refund (the order adjustment's processing report shows no error): the buyer
    is refunded and the return is refunded, so the refund clock stops. Once per refund."""

    refund: Annotated[
        dict[str, Any],
        "the refund: `refundId`, `status` (submitted, or confirmed when Amazon's finances showed it first), "
        "`amount`, `lines` [`sku`, `quantity`, `components`, `restockingFee`, `amount`], `feedId`",
    ]


class RefundRefused(ReturnSummary):
    """Amazon refused the return's refund (or it could not be sent): the reason is on the return, which still
    awaits its refund; POST /returns/{returnId}/refund sends it again. Once per refused attempt; the alerts
    rule also sends it to the alerts topic."""

    refund: Annotated[dict[str, Any], "the refund, with `reason` (Amazon's words) and `attempt`"]
    refundDueBy: Annotated[str | None, "the refund's deadline: two business days after the first receipt"]


class PurchaseOrderSummary(TypedDict):
    """The purchase order as it stands after the change: every purchase-order event carries it."""

    poId: Annotated[str, "the purchase order's id here"]
    supplierId: Annotated[str, "the supplier's id here"]
    supplierName: Annotated[str, "the supplier's name"]
    status: Annotated[str, "draft, sent, partially-received, received or closed"]
    lines: Annotated[
        list[dict[str, Any]],
        "the lines: `sku`, `supplierSku`, `quantity`, `unitCost`, `received`, `cancelled`, `leadTimeDays`",
    ]
    total: Annotated[dict[str, Any], "units ordered times their unit cost (money: `amount`, `currencyCode`)"]


class PurchaseOrderSent(PurchaseOrderSummary):
    """A draft purchase order was sent to its supplier: its units are on order from now. Once."""

    sentAt: Annotated[str | None, "when it was sent (UTC ISO-8601, Z)"]


class PurchaseOrderReceived(PurchaseOrderSummary):
    """Units of a purchase order arrived and are on hand (reason `receipt` in the ledger): once per receipt (a
    retried receipt announces nothing)."""

    receipt: Annotated[
        dict[str, Any], "the receipt: `receiptId`, `at`, `actor`, `lines` [`sku`, `quantity`, `location`]"
    ]


class RuleMatched(OrderSummary):
    """One of the seller's order rules matched an order and its action says to send a webhook: subscribe to
    it (POST /webhooks/subscriptions, or a bus rule) to hear of the orders your rules pick out. Once per
    order change the rule reacted to."""

    ruleId: Annotated[str, "the rule's id (GET /rules/{ruleId})"]
    ruleName: Annotated[str, "the rule's name, as the seller wrote it"]


class RuleNotification(OrderSummary):
    """One of the seller's order rules matched an order and its action says to notify the seller: the alerts
    rule sends it to the alerts topic (e-mail). Once per order change the rule reacted to."""

    ruleId: Annotated[str, "the rule's id (GET /rules/{ruleId})"]
    ruleName: Annotated[str, "the rule's name, as the seller wrote it"]
    message: Annotated[str, "the message the rule's action gives"]


class IntegrationEventReceived(TypedDict):
    """A generic integration's webhook was verified and stored (POST /webhooks/{integrationId}). Once per
    delivery id: a sender's retry of the same delivery announces nothing."""

    integrationId: Annotated[str, "the integration that sent it (POST /integrations)"]
    deliveryId: Annotated[
        str, "the sender's delivery id (webhook-id, X-Shopify-Webhook-Id, X-GitHub-Delivery)"
    ]
    receivedAt: Annotated[str, "when the webhook arrived (UTC ISO-8601, Z)"]
    payload: Annotated[Any, "the JSON body as the sender sent it"]


class ShipmentConfirmed(TypedDict):
    """Amazon accepted a seller-fulfilled package's confirmation (carrier and tracking): the buyer can now track
    it. Once per package, however many attempts the confirmation took."""

    orderId: Annotated[str, "Amazon's order id"]
    shipmentId: Annotated[str, "the package within the order (an order may ship in several)"]
    carrier: Annotated[str, "Amazon's carrier code (UPS, USPS, Other, ...)"]
    carrierName: Annotated[str, "the carrier's name as the buyer sees it"]
    trackingNumber: Annotated[str, "the package's tracking number"]
    service: Annotated[str | None, "the carrier's service, if known"]
    shipDate: Annotated[str, "when the package left (UTC ISO-8601, Z)"]
    items: Annotated[list[dict[str, Any]], "what the package holds: `orderItemId`, `sku`, `quantity`"]
    confirmedAt: Annotated[str | None, "when Amazon accepted the confirmation (UTC ISO-8601, Z)"]


class WebhookDisabled(TypedDict):
    """A webhook subscription was disabled by its deliveries: the receiver answered 410 Gone, or every delivery
    failed for 24 hours. Nothing more is sent to it until the seller enables it again
    (PATCH /webhooks/subscriptions/{subscriptionId} with `enabled` true); the alerts rule also sends it to
    the alerts topic."""

    subscriptionId: Annotated[str, "the subscription"]
    url: Annotated[str, "where its deliveries went"]
    reason: Annotated[str, "why it was disabled, in words"]
    disabledAt: Annotated[str, "when (UTC ISO-8601, Z)"]


class ThreadSummary(TypedDict):
    """A buyer-message thread's clock as it stands after the change (no buyer data: read the thread)."""

    threadId: Annotated[str, "the thread's id (GET /messages/{threadId})"]
    orderId: Annotated[str, "Amazon's order id the buyer wrote about"]
    status: Annotated[str, "awaiting, answered or no-response-needed"]
    waitingSince: Annotated[
        str | None, "the oldest unanswered message (UTC ISO-8601, Z): the 24 hours run from it"
    ]
    dueAt: Annotated[
        str | None, "answer by then: 24 hours after waitingSince, weekends and holidays included"
    ]


class MessageAtRisk(ThreadSummary):
    """A buyer's message waits for an answer with less than the at-risk hours (default 6) of its 24 left.
    Once per transition (an answer, or no response needed, clears it)."""


class MessageLate(ThreadSummary):
    """A buyer's message was not answered within 24 hours: it counts against the late response rate. Once;
    the alerts rule also sends it to the alerts topic."""


# Every event a subscriber can receive, in the order docs/events.md lists them.
EVENT_TYPES: tuple[type, ...] = (
    OrderReceived,
    OrderStatusChanged,
    OrderCanceled,
    StockShortage,
    OrderAtRisk,
    OrderLate,
    StockLow,
    StockOut,
    ReorderDue,
    ReturnRequested,
    ReturnReceived,
    RefundAtRisk,
    RefundLate,
    ReturnDecisionAtRisk,
    ReturnDecisionLate,
    RefundIssued,
    RefundRefused,
    PurchaseOrderSent,
    PurchaseOrderReceived,
    RuleMatched,
    RuleNotification,
    IntegrationEventReceived,
    ShipmentConfirmed,
    WebhookDisabled,
    MessageAtRisk,
    MessageLate,
)


def when_published(event_type: type) -> str:
    """An event's one line: the first sentence of its docstring (docs/events.md's "when" column, and the
    description the webhooks page shows beside each event a subscription may name)."""
    paragraph = " ".join((event_type.__doc__ or "").split())
    return paragraph.split(". ")[0].rstrip(".")


# The shared parts the events above extend, documented once.
SUMMARY_TYPES: tuple[type, ...] = (
    OrderSummary,
    StockSummary,
    ReturnSummary,
    PurchaseOrderSummary,
    ThreadSummary,
)

Emit = Callable[[type, Mapping[str, Any]], None]


@dataclass(frozen=True)
class DomainEvent:
    detail_type: str
    data: dict[str, Any]
    event_id: str
    occurred_at: datetime

    def entry(self, bus_name: str) -> dict[str, Any]:
        detail = {
            "metadata": {"eventId": self.event_id, "occurredAt": iso_z(self.occurred_at)},
            "data": self.data,
        }
        return {
            "Source": SOURCE,
            "DetailType": self.detail_type,
            "Detail": json.dumps(detail, separators=(",", ":"), default=str),
            "EventBusName": bus_name,
            "Time": self.occurred_at,
        }


def _field(item: Mapping[str, Any], key: str) -> Any:
    """A stored attribute as the stream gave it (None when absent): the events pass it on unchanged."""
    return item.get(key)


def order_summary(order: Mapping[str, Any]) -> OrderSummary:
    """The order event's summary of a stored order item (also kept with a rule's action, oms.rules.run)."""
    return OrderSummary(
        orderId=_field(order, "orderId"),
        marketplaceId=_field(order, "marketplaceId"),
        status=_field(order, "status"),
        fulfillmentChannel=_field(order, "fulfillmentChannel"),
        purchaseDate=_field(order, "purchaseDate"),
        latestShipDate=_field(order, "latestShipDate"),
    )


def events_from_change(
    old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, *, event_id: str, occurred_at: datetime
) -> list[DomainEvent]:
    """What a committed change of one item means to the outside world."""
    entity = (new or old or {}).get("entity")
    events: list[DomainEvent] = []

    def emit(event_type: type, data: Mapping[str, Any]) -> None:
        detail_type = event_type.__name__
        events.append(DomainEvent(detail_type, dict(data), f"{event_id}:{detail_type}", occurred_at))

    if entity == "Stock" and new is not None:
        emit_stock_crossings(old or {}, new, emit)

    if entity == "Return" and new is not None:
        emit_return_changes(old, new, emit)

    if entity == "PurchaseOrder" and new is not None:
        emit_purchase_order_changes(old, new, emit)
    if entity == "RuleAction" and old is None and new is not None:
        emit_rule_action(new, emit)
    if entity == "IntegrationEvent" and new is not None and old is None:
        emit(
            IntegrationEventReceived,
            IntegrationEventReceived(
                integrationId=_field(new, "integrationId"),
                deliveryId=_field(new, "deliveryId"),
                receivedAt=_field(new, "receivedAt"),
                payload=new.get("payload"),
            ),
        )
    if (
        entity == "StockPlan"
        and new is not None
        and new.get("reorderDue")
        and not (old or {}).get("reorderDue")
    ):
        emit(
            ReorderDue,
            ReorderDue(
                sku=_field(new, "sku"),
                available=int(new.get("available", 0)),
                onOrder=int(new.get("onOrder", 0)),
                reorderPoint=int(new["reorderPoint"]["value"]),
                safetyStock=int(new["safetyStock"]["value"]),
                orderQuantity=int(new["orderQuantity"]["value"]),
                supplier=_field(new, "supplier"),
            ),
        )

    if entity == "Shipment" and new is not None:
        confirmed = (new.get("confirmation") or {}).get("status") == "confirmed"
        if confirmed and ((old or {}).get("confirmation") or {}).get("status") != "confirmed":
            emit(
                ShipmentConfirmed,
                ShipmentConfirmed(
                    orderId=new["orderId"],
                    shipmentId=new["shipmentId"],
                    carrier=new["carrier"],
                    carrierName=new.get("carrierName", new["carrier"]),
                    trackingNumber=new["trackingNumber"],
                    service=new.get("service"),
                    shipDate=new["shipDate"],
                    items=new.get("items", []),
                    confirmedAt=new["confirmation"].get("confirmedAt"),
                ),
            )

    if entity == "WebhookSubscription" and new is not None:
        disabled = new.get("disabled")
        if disabled and not (old or {}).get("disabled"):
            emit(
                WebhookDisabled,
                WebhookDisabled(
                    subscriptionId=new["subscriptionId"],
                    url=new["url"],
                    reason=disabled["reason"],
                    disabledAt=disabled["at"],
                ),
            )

    if entity == "MessageThread" and new is not None:
        raised = set(new.get("flags") or []) - set((old or {}).get("flags") or [])
        summary = ThreadSummary(
            threadId=_field(new, "threadId"),
            orderId=_field(new, "orderId"),
            status=_field(new, "status"),
            waitingSince=_field(new, "waitingSince"),
            dueAt=_field(new, "dueAt"),
        )
        if "atRisk" in raised:
            emit(MessageAtRisk, MessageAtRisk(**summary))
        if "late" in raised:
            emit(MessageLate, MessageLate(**summary))

    if entity == "Order" and new is not None:
        if "stockShortage" in (new.get("flags") or []) and "stockShortage" not in (
            (old or {}).get("flags") or []
        ):
            short = {sku: h["short"] for sku, h in (new.get("stockHeld") or {}).items() if h.get("short")}
            emit(StockShortage, StockShortage(**order_summary(new), skus=short))
        before_flags = set((old or {}).get("flags") or [])
        if "atRisk" in (new.get("flags") or []) and "atRisk" not in before_flags:
            emit(
                OrderAtRisk,
                OrderAtRisk(**order_summary(new), latestDeliveryDate=new.get("latestDeliveryDate")),
            )
        if "late" in (new.get("flags") or []) and "late" not in before_flags:
            emit(
                OrderLate,
                OrderLate(**order_summary(new), latestDeliveryDate=new.get("latestDeliveryDate")),
            )
        if old is None:
            emit(OrderReceived, OrderReceived(**order_summary(new), items=new.get("items", [])))
        elif old.get("status") != new.get("status"):
            emit(
                OrderStatusChanged,
                OrderStatusChanged(**order_summary(new), previousStatus=_field(old, "status")),
            )
            if new.get("status") == "Canceled":
                emit(OrderCanceled, OrderCanceled(**order_summary(new)))
    return events


def emit_rule_action(entry: Mapping[str, Any], emit: Emit) -> None:
    """RuleMatched for a rule's sendWebhook action, RuleNotification for its notify action (the order as the
    rule saw it rides along on the action's timeline entry)."""
    action = entry.get("action") or {}
    order = order_summary(entry.get("order") or {})
    rule = {"ruleId": _field(entry, "ruleId"), "ruleName": _field(entry, "ruleName")}
    if action.get("type") == "sendWebhook":
        emit(RuleMatched, RuleMatched(**order, **rule))  # type: ignore[typeddict-item]
    elif action.get("type") == "notify":
        emit(RuleNotification, RuleNotification(**order, **rule, message=str(action.get("message", ""))))  # type: ignore[typeddict-item]


def _return_summary(ret: Mapping[str, Any]) -> ReturnSummary:
    return ReturnSummary(
        returnId=_field(ret, "returnId"),
        orderId=_field(ret, "orderId"),
        source=_field(ret, "source"),
        amazonRmaId=_field(ret, "amazonRmaId"),
        status=_field(ret, "status"),
        items=ret.get("items") or [],
    )


def emit_return_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any], emit: Emit) -> None:
    """ReturnRequested when a return is first stored; ReturnReceived for each receipt it gains; RefundAtRisk,
    RefundLate, ReturnDecisionAtRisk and ReturnDecisionLate when a clock raises that flag."""
    if old is None:
        emit(ReturnRequested, ReturnRequested(**_return_summary(new)))
    known = {r.get("receiptId") for r in (old or {}).get("receipts") or []}
    for receipt in new.get("receipts") or []:
        if receipt.get("receiptId") not in known:
            emit(
                ReturnReceived,
                ReturnReceived(
                    **_return_summary(new), receipt=receipt, refundDueBy=_field(new, "refundDueBy")
                ),
            )
    raised = set(new.get("flags") or []) - set((old or {}).get("flags") or [])
    received_at, due = _field(new, "receivedAt"), _field(new, "refundDueBy")
    if "refundAtRisk" in raised:
        emit(RefundAtRisk, RefundAtRisk(**_return_summary(new), receivedAt=received_at, refundDueBy=due))
    if "refundLate" in raised:
        emit(RefundLate, RefundLate(**_return_summary(new), receivedAt=received_at, refundDueBy=due))
    requested_at, decide_by = _field(new, "requestedAt"), _field(new, "decisionDueBy")
    if "decisionAtRisk" in raised:
        emit(
            ReturnDecisionAtRisk,
            ReturnDecisionAtRisk(**_return_summary(new), requestedAt=requested_at, decisionDueBy=decide_by),
        )
    if "decisionLate" in raised:
        emit(
            ReturnDecisionLate,
            ReturnDecisionLate(**_return_summary(new), requestedAt=requested_at, decisionDueBy=decide_by),
        )
    emit_refund_changes(old, new, emit)


_ISSUED = ("submitted", "confirmed")


def emit_refund_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any], emit: Emit) -> None:
    """RefundIssued when Amazon accepts a refund; RefundRefused when an attempt is refused."""
    before, after = (old or {}).get("refund") or {}, new.get("refund") or {}
    same = before.get("refundId") == after.get("refundId")
    if after.get("status") in _ISSUED and not (same and before.get("status") in _ISSUED):
        emit(RefundIssued, RefundIssued(**_return_summary(new), refund=after))
    if after.get("status") == "refused" and not (same and before.get("status") == "refused"):
        emit(
            RefundRefused,
            RefundRefused(**_return_summary(new), refund=after, refundDueBy=_field(new, "refundDueBy")),
        )


def _purchaseorder_summary(po: Mapping[str, Any]) -> PurchaseOrderSummary:
    return PurchaseOrderSummary(
        poId=_field(po, "poId"),
        supplierId=_field(po, "supplierId"),
        supplierName=_field(po, "supplierName"),
        status=_field(po, "status"),
        lines=po.get("lines") or [],
        total=po.get("total") or {},
    )


def emit_purchase_order_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any], emit: Emit) -> None:
    """PurchaseOrderSent when it first carries sentAt; PurchaseOrderReceived for each receipt it gains."""
    if new.get("sentAt") and not (old or {}).get("sentAt"):
        emit(
            PurchaseOrderSent, PurchaseOrderSent(**_purchaseorder_summary(new), sentAt=_field(new, "sentAt"))
        )
    known = {r.get("receiptId") for r in (old or {}).get("receipts") or []}
    for receipt in new.get("receipts") or []:
        if receipt.get("receiptId") not in known:
            emit(PurchaseOrderReceived, PurchaseOrderReceived(**_purchaseorder_summary(new), receipt=receipt))


def _available(row: Mapping[str, Any]) -> int:
    return max(int(row.get("onHand", 0)) - int(row.get("reserved", 0)), 0)


def _stock_summary(row: Mapping[str, Any]) -> StockSummary:
    return StockSummary(
        sku=_field(row, "sku"),
        location=_field(row, "location"),
        onHand=int(row.get("onHand", 0)),
        available=_available(row),
        reorderPoint=_field(row, "reorderPoint"),
    )


def emit_stock_crossings(old: Mapping[str, Any], new: Mapping[str, Any], emit: Emit) -> None:
    """StockLow once per fall to or below the reorder point; StockOut once per fall to zero available."""
    before, after = (_available(old) if old else None), _available(new)
    point = new.get("reorderPoint")
    was_low = (
        old
        and old.get("reorderPoint") is not None
        and before is not None
        and before <= int(old["reorderPoint"])
    )
    if point is not None and after <= int(point) and not was_low:
        emit(StockLow, StockLow(**_stock_summary(new)))
    if (
        after == 0
        and (before is None or before > 0)
        and int(new.get("onHand", 0)) + int(new.get("reserved", 0)) + int(new.get("backordered", 0)) > 0
    ):
        emit(StockOut, StockOut(**_stock_summary(new)))


@dataclass
class PublishResult:
    failed_from: int | None  # index of the first event EventBridge did not take, if any


class EventPublisher:
    def __init__(self, bus_name: str, client: Any = None) -> None:
        self.bus_name = bus_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws_client("events")
        return self._client

    def publish(self, events: Sequence[DomainEvent]) -> PublishResult:
        """Publish in order, 10 per call; stops at the first refused event so order is kept on retry."""
        for start in range(0, len(events), _PUT_EVENTS_MAX):
            chunk = events[start : start + _PUT_EVENTS_MAX]
            answer = self.client.put_events(Entries=[e.entry(self.bus_name) for e in chunk])
            if answer.get("FailedEntryCount", 0):
                for offset, result in enumerate(answer["Entries"]):
                    if "ErrorCode" in result:
                        return PublishResult(start + offset)
        return PublishResult(None)
