"""Threads: one per order and buyer alias, with Amazon's 24-hour clock, and how the seller reads them.

The thread item (main table) holds the clock and no PII; reading a thread joins its messages and the
buyer's alias from the buyer-data table (gone after the purge: the thread then shows no alias or text).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from oms.care.mail import buyer_id_for
from oms.errors import NotFound
from oms.store import keys
from oms.store.table import Item, Page, Table

RESPONSE_HOURS = 24  # Amazon: every buyer message answered within 24 hours, weekends and holidays included
THREAD_FIELDS = (
    "threadId",
    "orderId",
    "status",
    "waitingSince",
    "dueAt",
    "firstMessageAt",
    "lastMessageAt",
    "messagesIn",
    "messagesOut",
    "intent",
    "flags",
    "answeredAt",
    "pendingClocks",  # the sort keys of the unanswered messages' clocks (oms.care.clock)
    # replies recorded as sending and not yet known sent (oms.care.replies): messageId, startedAt, answers
    "sendingReplies",
)
VIEW_FIELDS = tuple(name for name in THREAD_FIELDS if name not in ("pendingClocks", "sendingReplies"))


class ThreadStatus(StrEnum):
    AWAITING = "awaiting"
    ANSWERED = "answered"
    NO_RESPONSE_NEEDED = "no-response-needed"


def thread_item(fields: dict[str, Any]) -> Item:
    """The thread as stored: its fields with the keys its state puts it under."""
    awaiting = fields["status"] == ThreadStatus.AWAITING.value
    body = {name: fields[name] for name in THREAD_FIELDS if fields.get(name) is not None}
    body.setdefault("flags", [])
    return {
        **keys.thread_key(fields["threadId"]),
        **keys.thread_index_keys(
            thread_id=fields["threadId"],
            order_id=fields["orderId"],
            awaiting=awaiting,
            due_at=str(fields.get("dueAt") or ""),
            last_at=str(fields["lastMessageAt"]),
        ),
        "entity": "MessageThread",
        **({"version": fields["version"]} if "version" in fields else {}),
        **body,
    }


def thread_view(item: Item, buyer: Item | None) -> dict[str, Any]:
    view: dict[str, Any] = {name: item.get(name) for name in VIEW_FIELDS}
    view["flags"] = list(item.get("flags") or [])
    view["messagesIn"] = int(item.get("messagesIn") or 0)
    view["messagesOut"] = int(item.get("messagesOut") or 0)
    if view["status"] != ThreadStatus.AWAITING.value:
        view["dueAt"] = None
    # a reply handed to SES whose outcome was never recorded (an interrupted send): the seller settles it
    view["replyInDoubt"] = bool(item.get("sendingReplies"))
    view["buyerAlias"] = buyer.get("buyerAlias") if buyer else None
    view["buyerId"] = buyer_id_for(str(view["buyerAlias"])) if view["buyerAlias"] else None
    return view


class Threads:
    def __init__(self, table: Table, buyer_table: Table) -> None:
        self.table = table
        self.buyer_table = buyer_table

    def _views(self, items: list[Item]) -> list[dict[str, Any]]:
        buyers = (
            {
                b["threadId"]: b
                for b in self.buyer_table.get_many(
                    [keys.thread_buyer_key(i["threadId"]) for i in items], consistent=False
                )
            }
            if items
            else {}
        )
        return [thread_view(i, buyers.get(i["threadId"])) for i in items]

    def list(
        self, *, status: ThreadStatus | None, order_id: str | None, limit: int, next_token: str | None
    ) -> Page:
        """Waiting threads by time left (late first), then the others newest first; or an order's threads."""
        if order_id is not None:
            page = self.table.query_page(
                keys.threads_of_order(order_id), limit=limit, next_token=next_token, scope=f"status={status}"
            )
            items = [i for i in page.items if status is None or i.get("status") == status.value]
            return Page(self._views(items), page.next_token)
        if status is ThreadStatus.AWAITING:
            page = self.table.query_page(keys.threads_awaiting(), limit=limit, next_token=next_token)
            return Page(self._views(page.items), page.next_token)
        if status is not None:
            page = self.table.query_page(
                keys.threads_closed(), limit=limit, next_token=next_token, scope=status
            )
            return Page(
                self._views([i for i in page.items if i.get("status") == status.value]), page.next_token
            )
        # every thread: the waiting ones first (by due time), then the closed ones
        if next_token is None or not next_token.startswith("closed:"):
            page = self.table.query_page(keys.threads_awaiting(), limit=limit, next_token=next_token)
            if page.next_token is not None or len(page.items) == limit:
                return Page(self._views(page.items), page.next_token or "closed:")
            rest = self.table.query_page(keys.threads_closed(), limit=limit - len(page.items))
            return Page(
                self._views(page.items + rest.items), f"closed:{rest.next_token}" if rest.next_token else None
            )
        page = self.table.query_page(keys.threads_closed(), limit=limit, next_token=next_token[7:] or None)
        return Page(self._views(page.items), f"closed:{page.next_token}" if page.next_token else None)

    def get(self, thread_id: str) -> dict[str, Any]:
        item = self.table.get(keys.thread_key(thread_id))
        if item is None:
            raise NotFound(f"thread {thread_id} is not known here")
        view = thread_view(item, self.buyer_table.get(keys.thread_buyer_key(thread_id)))
        view["messages"] = [
            {
                name: message.get(name)
                for name in (
                    "messageId",
                    "direction",
                    "from",
                    "subject",
                    "text",
                    "intent",
                    "receivedAt",
                    "sentAt",
                    "status",
                    "attachments",
                )
                if message.get(name) is not None
            }
            # within one second (S3 dates mail to the second) the buyer's own Date header orders the buyer's
            # messages, and a reply comes after them: it answers what was there (the buyer's clock, in the Date
            # header, may run ahead of ours, so it cannot order a reply against a message)
            for message in sorted(
                self.buyer_table.query_all(keys.thread_messages(thread_id)),
                key=lambda m: (
                    str(m.get("receivedAt")),
                    "~" if m.get("direction") == "out" else str(m.get("sentAt") or ""),
                ),
            )
        ]
        return view

    def of_buyer(self, buyer_id: str) -> Sequence[dict[str, Any]]:
        """Every thread of one buyer (across their orders), newest first; empty once their data is purged."""
        markers = list(self.buyer_table.query_all(keys.buyer_threads(buyer_id)))
        items = (
            self.table.get_many([keys.thread_key(m["threadId"]) for m in markers], consistent=False)
            if markers
            else []
        )
        views = self._views(items)
        return sorted(views, key=lambda t: str(t.get("lastMessageAt")), reverse=True)

    def quarantined(self, *, limit: int, next_token: str | None) -> Page:
        page = self.buyer_table.query_page(keys.quarantined(), limit=limit, next_token=next_token)
        fields = ("quarantineId", "receivedAt", "reason", "detail", "from", "subject", "mailKey")
        return Page([{f: i.get(f) for f in fields} for i in page.items], page.next_token)
