"""Customer care through the local stack: a buyer writes about their order in the local marketplace (`oms
simulate message`), the mail lands in the documents bucket where SES's receipt rule would put it, the
bucket's notification goes through the buyer-messages queue to ingest_messages, and the message appears
threaded on its order; a reply goes out through SES (moto records it) and stops the clock.

A stack of its own (`oms local --no-simulator`: the local SP-API answers, no background buyers).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from oms_local import harness
from tests.e2e.support import Api, RunningStack, oms, wait_for

pytestmark = pytest.mark.e2e

TIMEOUT = 60
SKU = f"CARE-MUG-{uuid.uuid4().hex[:6].upper()}"


def _threads(api: Api, order_id: str) -> list[dict[str, Any]]:
    answer = api.get("/messages", params={"orderId": order_id})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_a_buyer_s_message_appears_threaded_on_its_order_and_a_reply_stops_the_clock(
    stack: RunningStack,
) -> None:
    api = Api(stack.outputs)
    where = ("--port", str(stack.port), "--state-dir", str(stack.state_dir))
    placed = oms("simulate", "order", "--sku", SKU, "--quantity", "1", *where)
    assert placed.returncode == 0, placed.stderr
    order_id = placed.stdout.strip()
    assert wait_for(lambda: api.get(f"/orders/{order_id}").status_code == 200, TIMEOUT, interval=0.25)

    started = time.monotonic()
    wrote = oms("simulate", "message", "--order", order_id, "--intent", "where-is-my-order", *where)
    assert wrote.returncode == 0, wrote.stderr
    buyer = json.loads(wrote.stdout)
    assert wait_for(lambda: _threads(api, order_id), TIMEOUT, interval=0.25), "the message never appeared"
    print(f"a buyer's message appeared on its order {time.monotonic() - started:.1f}s after it was written")

    (thread,) = _threads(api, order_id)
    assert (thread["status"], thread["buyerAlias"]) == ("awaiting", buyer["from"])
    due = datetime.fromisoformat(thread["dueAt"].replace("Z", "+00:00"))
    assert timedelta(hours=23, minutes=58) < due - datetime.now(UTC) <= timedelta(hours=24)
    full = api.get(f"/messages/{thread['threadId']}").json()
    (message,) = full["messages"]
    assert message["text"].startswith("Hello, I ordered") and "Where is my order?" in message["text"]

    # the same buyer writes again: the same thread
    again = oms("simulate", "message", "--order", order_id, "--intent", "question", *where)
    assert again.returncode == 0, again.stderr
    assert wait_for(lambda: _threads(api, order_id)[0]["messagesIn"] == 2, TIMEOUT, interval=0.25)
    assert len(_threads(api, order_id)) == 1

    ses = harness.aws_client(stack.outputs, "ses")
    sent_before = ses.get_send_quota()["SentLast24Hours"]
    refused = api.request(
        "POST", f"/messages/{thread['threadId']}/replies", json={"body": "Use code SAVE10 for a discount!"}
    )
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["message"] == "no-marketing"
    replied = api.request(
        "POST",
        f"/messages/{thread['threadId']}/replies",
        json={"body": "Your parcel leaves our warehouse today."},
    )
    assert replied.status_code == 201, replied.text
    assert ses.get_send_quota()["SentLast24Hours"] == sent_before + 1  # the 422 sent nothing

    (answered,) = _threads(api, order_id)
    assert (answered["status"], answered["dueAt"], answered["flags"]) == ("answered", None, [])
    directions = [m["direction"] for m in api.get(f"/messages/{thread['threadId']}").json()["messages"]]
    assert directions == ["in", "in", "out"]
