"""A reply whose sending was interrupted, in the dashboard: the function died after SES took the mail (the
API's own send path, run here against the local stack's tables and SES, the death injected after SES), so
the inbox and the thread say the reply may have been sent, and the seller settles it with one button."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from oms.care.replies import send_reply
from oms.store.table import Table
from oms_local import harness
from tests.browser.conftest import Api, wait_until_loaded
from tests.browser.test_messages import written

__all__ = ["written"]
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


class FunctionDied(Exception):
    pass


class DiesAfterSesAccepts:
    def __init__(self, ses: Any) -> None:
        self.ses = ses

    def send_raw_email(self, **request: Any) -> dict[str, Any]:
        self.ses.send_raw_email(**request)
        raise FunctionDied()


def _no_paging() -> Any:
    raise RuntimeError("no paging here")


def _interrupted_reply(outputs: dict[str, Any], thread_id: str, text: str) -> None:
    dynamodb, ses = harness.aws_client(outputs, "dynamodb"), harness.aws_client(outputs, "ses")
    (buyer_data,) = [n for n in dynamodb.list_tables()["TableNames"] if "BuyerData" in n]
    (sender,) = [i for i in ses.list_identities()["Identities"] if "@" in i]
    with pytest.raises(FunctionDied):
        send_reply(
            Table(outputs["TableName"], _no_paging, client=dynamodb),
            Table(buyer_data, _no_paging, client=dynamodb),
            DiesAfterSesAccepts(ses),
            thread_id,
            text,
            sender=sender,
            now=datetime.now(UTC) - timedelta(minutes=3),  # it died three minutes ago
        )


def test_a_reply_that_may_have_been_sent_is_shown_so_and_settled_as_sent(
    signed_in: Callable[..., Any], api: Api, outputs: dict[str, Any], written: dict[str, str]
) -> None:
    thread_id = written["threadId"]
    _interrupted_reply(outputs, thread_id, "Your parcel left today.")

    page = signed_in("#/messages")
    row = page.locator(f'#messages-waiting tr[data-thread-id="{thread_id}"]')
    assert "a reply may have been sent" in row.inner_text()
    row.locator("a.thread-link").click()
    wait_until_loaded(page)
    doubt = page.locator("ol.messages li.message-out")
    assert "may have been sent" in doubt.inner_text() and "Seller Central" in doubt.inner_text()
    doubt.locator("button.settle-sent").click()
    page.wait_for_selector("#thread-done:not([hidden])")
    assert "clock stopped" in page.locator("#thread-done").inner_text()
    assert "Answered" in page.locator(".thread-facts").inner_text()
    assert page.locator("button.settle-sent").count() == 0
    thread = api.ok("GET", f"/messages/{thread_id}")
    (reply,) = [m for m in thread["messages"] if m["direction"] == "out"]
    assert (thread["status"], thread["replyInDoubt"], reply["status"]) == ("answered", False, "sent")
    assert page.script_errors == []
