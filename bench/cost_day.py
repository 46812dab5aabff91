"""The seller's side of the cost bench's day (bench/cost.py): what a seller does with the product while
the simulator's buyers order, all through the real API function in process, as API Gateway calls it.

- once (billed as one-time work, amortised over a month of orders): the shipping setup saved, stock received
  for each SKU the first time an order needs it, two order rules defined, one webhook subscription to a
  loopback receiver (the template parameter `WebhooksAllowLoopback`, as the local stack sets it);
- shipping: each seller-fulfilled order the seller ships gets its label bought through Buy Shipping
  (`POST /orders/{id}/shipments {"buyLabel": true}`; a two-package order ships some units first, the rest
  later), which records the shipment and confirms it at Amazon; the end-of-day form is read once per
  carrier at the day's end;
- returns: a share of shipped orders comes back: recorded (`POST /returns`), received and graded (most
  units sellable, back on hand; some damaged, written off), refunded through Amazon's feed
  (`submit_refunds` from the stream, Amazon's FEED_PROCESSING_FINISHED through intake);
- care: a share of buyers write (the simulator's raw mail, stored in the documents bucket as SES would;
  S3 -> queue -> `ingest_messages`); the seller reads the inbox and the thread and sends the suggested reply;
- the dashboard's usual reads per order (`DASHBOARD_READS_PER_ORDER`: the order list, the order's page,
  the stock page).

Rates are stated beside each constant; they are the bench's assumptions, not measurements."""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from oms_local.shipping_setup import shipping_setup  # noqa: F401 - cost.py takes it from here

ROOT = Path(__file__).resolve().parents[1]

RETURN_SHARE = 0.10  # of shipped seller-fulfilled orders (apparel runs 20-30%, home goods 5-10%)
DAMAGED_SHARE = 0.25  # of returns: graded damaged and written off instead of restocked
MESSAGE_SHARE = 0.10  # of orders: the buyer writes once (the simulator's buyers write about one in ten)
STOCK_RECEIVED = 500  # units received per SKU the first time an order needs it
# The dashboard's reads per order: the ship-today list opened once per 5 orders, each order's page twice
# (before and after shipping), the stock page once per 10 orders.
DASHBOARD_READS_PER_ORDER = {"order list": 0.2, "order page": 2.0, "stock": 0.1}
RULES = [
    {
        "name": "Heavy to UPS",
        "conditions": [{"field": "weightLb", "op": "gte", "value": 5}],
        "actions": [{"type": "addTag", "tag": "heavy"}, {"type": "chooseShipping", "carrier": "UPS"}],
    },
    {
        "name": "Prime first",
        "conditions": [{"field": "prime", "op": "eq", "value": True}],
        "actions": [{"type": "addTag", "tag": "prime"}, {"type": "sendWebhook"}],
    },
]
WEBHOOK_EVENTS = ["OrderReceived", "ShipmentConfirmed", "OrderCanceled", "RefundIssued", "RuleMatched"]


def api_event(
    method: str, path: str, body: Any = None, query: dict[str, str] | None = None
) -> dict[str, Any]:
    """An authorized API Gateway proxy event (the shape of events/api/get_order.json: a signed-in admin)."""
    event: dict[str, Any] = json.loads((ROOT / "events" / "api" / "get_order.json").read_text())
    headers = {**event["headers"], "Content-Type": "application/json"}
    event.update(
        httpMethod=method,
        path=path,
        body=None if body is None else json.dumps(body),
        queryStringParameters=query or None,
        multiValueQueryStringParameters={k: [v] for k, v in (query or {}).items()} or None,
        pathParameters={"proxy": path.lstrip("/")},
        headers=headers,
        multiValueHeaders={k: [v] for k, v in headers.items()},
    )
    return event


class LoopbackReceiver:
    """The subscriber's endpoint: answers every delivery 204 and counts them (and their event types)."""

    def __init__(self) -> None:
        self.deliveries: list[str] = []
        received = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with contextlib.suppress(ValueError, AttributeError):
                    received.append(str(json.loads(body).get("type")))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def __enter__(self) -> LoopbackReceiver:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
