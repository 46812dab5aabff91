"""The SKU page's adjustment form (web/js/views/sku.js) in the browser without a stack: an adjustment sent
again after an error keeps its Idempotency-Key, so one that was recorded but whose answer was lost (the API's
500) is not recorded twice when the seller presses the button again (issue 15's fault drill)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import serve_web

ORIGIN = "http://localhost:8089"  # a secure context, as the dashboard is (https, or localhost)
PAGE = '<!doctype html><main><p id="status"></p><div id="alert" hidden></div><div id="here"></div></main>'
ROW = {"sku": "MUG-RED", "location": "default", "onHand": 5, "reserved": 0, "available": 5, "backordered": 0}


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    page = new_page()

    serve_web(page, ORIGIN, PAGE)
    return page


def test_an_adjustment_sent_again_after_a_lost_answer_keeps_its_key(page: Any) -> None:
    sent: list[tuple[Any, str]] = []
    answers = [500, 201, 201]  # the first applied in the API, its answer lost

    def api(route: Any) -> None:
        request = route.request
        sent.append((request.post_data_json, request.headers.get("idempotency-key", "")))
        status = answers.pop(0)
        if status == 500:
            body = '{"error": {"code": "InternalError", "message": "Internal server error", "details": []}}'
        else:
            body = '{"entryId": "e1", "stock": ' + str(ROW).replace("'", '"') + "}"
        route.fulfill(status=status, body=body, content_type="application/json")

    page.route("http://api.test/**", api)
    shown = page.evaluate(
        """async (row) => {
      sessionStorage.setItem("oms.api", "http://api.test");
      sessionStorage.setItem("oms.token", "t0ken");
      const { adjustmentForm } = await import("/js/views/sku.js");
      let recorded = 0;
      document.getElementById("here").append(adjustmentForm(row, async () => { recorded += 1; }));
      const form = document.getElementById("adjust-form");
      const submit = form.querySelector("button[type=submit]");
      // waits for the answer however loaded the machine is (the button is busy while a request is out)
      const until = async (ok) => {
        for (let turn = 0; turn < 1000 && !ok(); turn += 1) await new Promise((resolve) => setTimeout(resolve, 20));
      };
      const answered = () => !submit.disabled && (!form.querySelector("#adjust-problem").hidden || !form.querySelector("#adjust-done").hidden);
      const shown = [];
      form.querySelector("#adjust-units").value = "3";
      form.requestSubmit(); await until(answered);
      shown.push(form.querySelector("#adjust-problem").hidden);
      form.requestSubmit(); await until(answered);  // the seller presses again after the error
      shown.push(form.querySelector("#adjust-done").hidden);
      form.querySelector("#adjust-units").value = "3";
      form.requestSubmit(); await until(() => recorded >= 2);  // recorded: the same figures again are a new adjustment
      return shown;
    }""",
        ROW,
    )
    assert shown == [False, False]  # the error was shown, then the adjustment as recorded
    assert [body for body, _ in sent] == [{"delta": 3, "reason": "receipt"}] * 3
    first, again, new = (key for _, key in sent)
    assert first and again == first
    assert new and new != first
