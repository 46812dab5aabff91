"""A webhook receiver for the OMS's deliveries: verifies each one (Standard Webhooks) and prints it.

    pip install standardwebhooks
    WEBHOOK_SECRET=whsec_... python3 examples/webhook_receiver.py 8000

Answer 2xx quickly (do the work afterwards): anything else, or no answer within 5 seconds, is retried
(5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 24 h); 410 Gone unsubscribes you. Retries carry the same webhook-id,
so keep the ids you have handled and skip repeats.
"""

from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

MAX_BODY = 256 * 1024
seen: set[str] = set()


def verify(body: bytes, headers: dict[str, str], secret: str) -> dict[str, Any] | None:
    """The delivery's event if it is signed with `secret` within the last 5 minutes, else None."""
    try:
        event: dict[str, Any] = Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return None
    return event


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.send_response(413)
            self.end_headers()
            return
        body = self.rfile.read(length)
        event = verify(body, dict(self.headers.items()), os.environ["WEBHOOK_SECRET"])
        if event is None:
            self.send_response(401)
            self.end_headers()
            return
        self.send_response(204)
        self.end_headers()
        delivery_id = self.headers["webhook-id"]
        if delivery_id not in seen:  # a retry of a delivery already handled
            seen.add(delivery_id)
            print(event["type"], json.dumps(event["data"]), flush=True)


if __name__ == "__main__":
    HTTPServer(("0.0.0.0", int(sys.argv[1]) if len(sys.argv) > 1 else 8000), Receiver).serve_forever()  # noqa: S104
