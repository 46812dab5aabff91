"""The documents a subscriber or a newcomer reads say what the code does: docs/events.md is generated from
the event definitions and current, every event published is one defined there with exactly its fields, and
every file the README and docs/ point at is in the repository."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_type_hints

from pydantic import TypeAdapter

from oms import events
from oms.events import EVENT_TYPES, events_from_change
from oms.store.table import from_dynamo
from oms_local import events_doc
from tests.conftest import load_event

WHEN = datetime(2026, 11, 26, 10, tzinfo=UTC)  # the moment the changes were committed
ROOT = Path(__file__).resolve().parents[2]
EVENTS_DOC = ROOT / "docs" / "events.md"


def _stream_images() -> list[dict[str, Any]]:
    """The order as the stream delivers it (events/publish_events/order_changes.json), new image first."""
    records = load_event("publish_events/order_changes.json")["Records"]
    return [from_dynamo(r["dynamodb"]["NewImage"]) for r in records if "NewImage" in r["dynamodb"]]


def _everything_a_seller_hears_about() -> list[events.DomainEvent]:
    """One committed change for each thing that happens: an order arrives, falls short of stock, runs late
    and is canceled; a SKU falls to its reorder point, then to nothing; a return is recorded, waits too long
    for a decision, then is received and waits for its refund; an order rule sends a webhook and notifies; a
    purchase order is sent, then received; a package is confirmed to Amazon; a webhook subscription is disabled."""
    order = _stream_images()[0]
    held = {"SellerSKUID1": {"needed": 2, "shipped": 0, "short": 2}}
    short = {**order, "flags": ["stockShortage"], "stockHeld": held}
    at_risk = {**short, "flags": ["stockShortage", "atRisk"], "latestDeliveryDate": "2026-12-01T07:59:59Z"}
    late = {**at_risk, "flags": ["stockShortage", "atRisk", "late"]}
    canceled = {**late, "status": "Canceled"}
    stock = {"entity": "Stock", "sku": "SellerSKUID1", "location": "default", "onHand": 10, "reserved": 0}
    low = {**stock, "onHand": 4, "reorderPoint": 5}
    out = {**low, "reserved": 4}
    changes = [(None, order), (order, short), (short, at_risk), (at_risk, late), (late, canceled)]
    changes += [({**stock, "reorderPoint": 5}, low), (low, out)]
    plan = {"entity": "StockPlan", "sku": "SellerSKUID1", "available": 0, "onOrder": 0, "supplier": None}
    figures = {name: {"value": 6, "formula": "", "inputs": {}} for name in ("reorderPoint", "safetyStock")}
    due = {**plan, **figures, "orderQuantity": {"value": 12, "formula": "", "inputs": {}}, "reorderDue": True}
    changes += [({**due, "reorderDue": False}, due)]  # the nightly plan finds the SKU due
    requested = {
        "entity": "Return",
        "returnId": "R1",
        "orderId": order["orderId"],
        "source": "seller",
        "amazonRmaId": None,
        "status": "requested",
        "items": [{"sku": "SellerSKUID1", "quantity": 1, "reason": "DEFECTIVE"}],
    }
    receipt = {
        "receiptId": "K1",
        "at": "2026-12-01T10:00:00Z",
        "items": [{"sku": "SellerSKUID1", "quantity": 1, "grade": "sellable", "location": "default"}],
    }
    received = {
        **requested,
        "status": "restocked",
        "receipts": [receipt],
        "receivedAt": "2026-12-01T10:00:00Z",
        "refundDueBy": "2026-12-03T23:00:00Z",
        "flags": [],
    }
    waiting = {**requested, "requestedAt": "2026-11-30T10:00:00Z", "decisionDueBy": "2026-12-01T10:00:00Z"}
    decision_at_risk = {**waiting, "flags": ["decisionAtRisk"]}
    decision_late = {**waiting, "flags": ["decisionAtRisk", "decisionLate"]}
    changes += [(waiting, decision_at_risk), (decision_at_risk, decision_late)]
    refund_at_risk = {**received, "flags": ["refundAtRisk"]}
    refund_late = {**received, "flags": ["refundAtRisk", "refundLate"]}
    pending = {**refund_late, "refund": {"refundId": "F1", "status": "pending", "attempt": 1}}
    refused = {**pending, "refund": {**pending["refund"], "status": "refused", "reason": "18028: too much"}}
    retried = {**refused, "refund": {"refundId": "F2", "status": "pending", "attempt": 2}}
    issued = {**retried, "status": "refunded", "refund": {**retried["refund"], "status": "submitted"}}
    changes += [
        (None, requested),
        (requested, received),
        (received, refund_at_risk),
        (refund_at_risk, refund_late),
        (refund_late, pending),
        (pending, refused),
        (refused, retried),
        (retried, issued),
    ]
    draft = {
        "entity": "PurchaseOrder",
        "poId": "PO-1",
        "supplierId": "SUP-1",
        "supplierName": "Mug Works",
        "status": "draft",
        "lines": [{"sku": "SellerSKUID1", "quantity": 12, "received": 0, "cancelled": 0}],
        "total": {"amount": "28.80", "currencyCode": "USD"},
        "receipts": [],
    }
    po_sent = {**draft, "status": "sent", "sentAt": "2026-11-26T10:00:00Z"}
    po_receipt = {"receiptId": "P1", "at": "2026-12-08T10:00:00Z", "actor": "user:a", "lines": []}
    po_received = {**po_sent, "status": "partially-received", "receipts": [po_receipt]}
    changes += [(None, draft), (draft, po_sent), (po_sent, po_received)]
    summary = dict(events.order_summary(order))
    rule_action = {"entity": "RuleAction", "ruleId": "rule1", "ruleName": "Heavy to UPS", "order": summary}
    changes += [
        (None, {**rule_action, "action": {"type": "sendWebhook"}}),
        (None, {**rule_action, "action": {"type": "notify", "message": "a heavy order"}}),
    ]
    generic = {
        "entity": "IntegrationEvent",
        "integrationId": "int_0123456789abcdef",
        "deliveryId": "msg_1",
        "receivedAt": "2026-12-01T10:00:00Z",
        "payload": {"hello": "world"},
    }
    changes += [(None, generic)]
    subscribed = {
        "entity": "WebhookSubscription",
        "subscriptionId": "sub_1",
        "url": "https://x.example/in",
        "enabled": True,
    }
    gone = {
        **subscribed,
        "enabled": False,
        "disabled": {"reason": "the receiver answered 410 Gone", "at": "2026-12-01T10:00:00Z"},
    }
    changes += [(subscribed, gone)]  # a webhook subscriber's receiver answers 410
    package = {
        "entity": "Shipment",
        "orderId": order["orderId"],
        "shipmentId": "1",
        "carrier": "UPS",
        "carrierName": "UPS",
        "trackingNumber": "1Z999AA10123456784",
        "service": "Ground",
        "shipDate": "2026-11-26T15:00:00Z",
        "items": [{"orderItemId": "1", "sku": "SellerSKUID1", "quantity": 1}],
        "confirmation": {"status": "retrying", "attempts": 1},
    }
    confirmed = {
        **package,
        "confirmation": {"status": "confirmed", "attempts": 2, "confirmedAt": "2026-11-26T15:05:00Z"},
    }
    changes += [(None, package), (package, confirmed), (confirmed, {**confirmed, "labelKey": "x"})]
    thread = {
        "entity": "MessageThread",
        "threadId": "3f2a",
        "orderId": "112-1234567-7654321",
        "status": "awaiting",
        "waitingSince": "2026-11-30T10:00:00Z",
        "dueAt": "2026-12-01T10:00:00Z",
        "flags": [],
    }
    message_at_risk = {**thread, "flags": ["atRisk"]}
    changes += [(thread, message_at_risk), (message_at_risk, {**thread, "flags": ["late"]})]
    return [e for old, new in changes for e in events_from_change(old, new, event_id="r", occurred_at=WHEN)]


def test_docs_events_md_is_what_the_definitions_generate():
    assert events_doc.render() == EVENTS_DOC.read_text(), "docs/events.md is stale: run `make events-doc`"


def test_every_event_published_is_defined_with_exactly_the_fields_it_carries():
    published = _everything_a_seller_hears_about()
    defined = {cls.__name__: cls for cls in EVENT_TYPES}

    assert {e.detail_type for e in published} == set(defined), (
        "each defined event is published by some change"
    )
    for event in published:
        definition = defined[event.detail_type]
        assert list(event.data) == list(get_type_hints(definition)), event.detail_type
        TypeAdapter(definition).validate_python(json.loads(json.dumps(event.data)), strict=True)


def test_the_doc_has_a_section_for_every_event_with_every_field_and_its_meaning():
    doc = EVENTS_DOC.read_text()
    for cls in (*events.SUMMARY_TYPES, *EVENT_TYPES):
        section = re.search(
            rf"^## {events_doc._title(cls) if cls in events.SUMMARY_TYPES else cls.__name__}\n"
            r"(.*?)(?=^## |\Z)",
            doc,
            re.S | re.M,
        )
        assert section, f"no section for {cls.__name__}"
        assert " ".join((cls.__doc__ or "").split())[:40] in " ".join(section.group(1).split())
    stock_rows = re.findall(r"^\| `(\w+)` \| (.+?) \| (.+?) \|$", doc, re.M)
    assert ("available", "integer", "units on hand that no order holds (never below 0)") in stock_rows
    assert [n for n, _, _ in stock_rows].count("latestDeliveryDate") == 2  # OrderAtRisk and OrderLate


def test_the_type_of_each_field_reads_as_json():
    from typing import Annotated

    assert events_doc.json_type(Annotated[str | None, "x"]) == "string or null"
    assert events_doc.json_type(list[dict[str, Any]]) == "array of object"
    assert events_doc.json_type(dict[str, int]) == "object (integer values)"


# Paths that start at the repository's root: its top-level files and folders.
_TOP = sorted((p.name for p in ROOT.iterdir() if not p.name.startswith(".")), key=len, reverse=True)
_PATH = re.compile(r"(?<![\w./-])((?:" + "|".join(re.escape(t) for t in _TOP) + r")(?:/[\w.<>*{}-]*)*)")
# A document named without its folder (`API.md`) must be one of the repository's; a file under a folder that is
# not the repository's (`shared/sp-api-models/README.md`) is outside it. `../` marks a path beside the repository.
_DOCUMENT = re.compile(r"(?<![\w./-])([\w-]+\.md)\b")
_FOREIGN_FILE = re.compile(r"(?<![\w./-])((?:[\w-]+/)+[\w.-]*\.[a-z]{2,4})\b")


def _mentioned_paths(text: str) -> set[str]:
    return {m.rstrip(".,:;)") for m in _PATH.findall(text)}


def _missing_paths(text: str) -> list[str]:
    missing = []
    for path in sorted(_mentioned_paths(text)):
        known = re.split(r"[<*{]", path)[0]  # `functions/<name>/app.py`: the part before the placeholder
        if not (ROOT / known).exists():
            missing.append(path)
    files = {p.name for p in ROOT.rglob("*") if ".venv" not in p.parts and ".git" not in p.parts}
    missing += sorted({name for name in _DOCUMENT.findall(text) if name not in files})
    missing += sorted({path for path in _FOREIGN_FILE.findall(text) if path.split("/")[0] not in _TOP})
    return missing


def test_every_file_the_readme_and_docs_point_at_is_in_the_repository():
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        assert _missing_paths(doc.read_text()) == [], doc.name


def test_the_path_check_finds_a_file_that_is_not_there():
    assert _missing_paths(
        "Routes follow API.md and shared/sp-api-models/README.md; see docs/nowhere.md."
    ) == [
        "docs/nowhere.md",
        "API.md",
        "shared/sp-api-models/README.md",
    ]
    assert (
        _missing_paths("`functions/<name>/app.py`, contracts/sp-api-models/README.md, docs/events.md.") == []
    )
