"""The returns pages' own rules (web/js/returns-common.js, receiving.js, return-actions.js, sku-returns.js,
words.js), in the browser without a stack: which list a return is on and in what order, what a scan finds,
the receipt's idempotency key, the refund Amazon refused with its reason and a retry, the return-rate card.
The returns here are in the API's shapes (docs/openapi.json's Return, and API.md's contract for the fields
the routes built beside the dashboard add: decisionDueBy, trackingId, refund.refusal, the return rates)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import serve_web

ORIGIN = "http://dashboard.test"
PAGE = '<!doctype html><main><p id="status"></p><div id="alert" hidden></div><div id="here"></div></main>'
NOW = "2026-12-07T15:00:00Z"  # the instant the page's clock is set to; every time below is from it

SETUP = """async () => {
  window.common = await import("/js/returns-common.js");
  window.words = await import("/js/words.js");
  window.receiving = await import("/js/receiving.js");
  window.actions = await import("/js/return-actions.js");
  window.skuReturns = await import("/js/sku-returns.js");
  window.ret = (returnId, status, extra = {}) => ({ returnId, orderId: "111-0000000-0000001", source: "amazon",
    status, items: [{ sku: "MUG", quantity: 2, reason: "CR-DEFECTIVE" }], requestedAt: "2026-12-05T10:00:00Z",
    receipts: [], flags: [], ...extra });
  // waits for what a click leads to (an answer through the route, a redraw) however loaded the machine is;
  // the page's clock is fixed, so it counts turns, not milliseconds: 20 s at most
  window.until = async (ok, what) => {
    for (let turn = 0; turn < 1000; turn += 1) {
      if (ok()) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`never happened: ${what}`);
  };
}"""


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    page = new_page()
    page.clock.set_fixed_time(NOW)

    serve_web(page, ORIGIN, PAGE)
    page.evaluate(SETUP)
    return page


def test_each_return_is_listed_where_the_seller_works_it_most_urgent_first(page: Any) -> None:
    lists = page.evaluate(
        """() => {
      const all = [
        ret("R-LATER", "restocked", { refundDueBy: "2026-12-09T23:00:00Z" }),
        ret("R-OVERDUE", "written-off", { refundDueBy: "2026-12-06T23:00:00Z", flags: ["refundAtRisk", "refundLate"] }),
        ret("R-SOON", "graded", { refundDueBy: "2026-12-07T20:00:00Z", refund: { status: "refused" } }),
        ret("R-ASKED-LATE", "requested", { decisionDueBy: "2026-12-08T09:00:00Z" }),
        ret("R-ASKED-SOON", "requested", { decisionDueBy: "2026-12-07T18:00:00Z" }),
        ret("R-ASKED-NO-DUE", "requested", { requestedAt: "2026-12-07T10:00:00Z" }),
        ret("R-WAY", "in-transit", { requestedAt: "2026-12-04T10:00:00Z" }),
        ret("R-AUTH", "authorized"),
        ret("R-FBA", "received", { source: "fba" }),
        ret("R-DONE", "refunded"),
        ret("R-CLOSED", "closed"),
        ret("R-AUTH", "authorized"),
      ];
      const lists = common.sections(all);
      return Object.fromEntries(Object.entries(lists).map(([k, v]) => [k, v.map((r) => r.returnId)]));
    }"""
    )
    assert lists == {
        # decisionDueBy, or 24 hours after the request when the API gives none (10:00 + 24 h = the 8th 10:00)
        "decide": ["R-ASKED-SOON", "R-ASKED-LATE", "R-ASKED-NO-DUE"],
        "arriving": ["R-WAY", "R-AUTH"],  # oldest request first; listed once
        "refund": ["R-OVERDUE", "R-SOON", "R-LATER"],  # overdue first, then least time left
        "fba": ["R-FBA"],
    }


def test_time_left_reads_as_words(page: Any) -> None:
    said = page.evaluate(
        """() => ["2026-12-07T20:00:00Z", "2026-12-10T15:00:00Z", "2026-12-07T14:00:00Z", "2026-12-07T15:20:00Z",
                  "2026-12-08T14:31:00Z", "2026-12-07T16:40:00Z"]
          .map((iso) => common.timeLeft(iso))"""
    )
    assert said == [
        "5 hours left",
        "3 days left",
        "overdue by 1 hour",
        "20 min left",
        "23 hours left",  # 23 h 31 min: not rounded up to the 24 hours the buyer's clock no longer has
        "1 hour left",  # 1 h 40 min
    ]


def test_a_scan_finds_a_return_by_any_of_its_numbers(page: Any) -> None:
    found = page.evaluate(
        """() => {
      const r = ret("RET-ABC", "authorized", { amazonRmaId: "DkT9xQ2bRRMA", trackingId: "9400111899223100001234" });
      return ["ret-abc", " DkT9xQ2bRRMA ", "111-0000000-0000001", "9400111899223100001234",
              "420123459400111899223100001234", "4201234594001118992231000012", "77779400111899223100001234", "RET-AB", "", "111-0000000-0000002"]
        .map((text) => common.matchesScan(r, text));
    }"""
    )
    # its id (any case), Amazon's RMA id (spaces a scanner adds), its order, its tracking number, and a USPS
    # label's barcode (420 + ZIP before the tracking number); not a cut number, another barcode ending in
    # the number, a prefix of the id, nothing, or another order
    assert found == [True, True, True, True, True, False, False, False, False, False]


def test_amazon_s_reason_codes_read_as_the_buyer_meant_them(page: Any) -> None:
    said = page.evaluate(
        """() => ["CR-DEFECTIVE", "DAMAGED_BY_CARRIER", "AMZ-PG-APP-TOO-LARGE", "CR-SWITCHEROO", "CR-SOMETHING_NEW", null]
          .map((code) => words.returnReason(code))"""
    )
    assert said == [
        "Defective or does not work",
        "Damaged in transit",
        "Too large",
        "Wrong item sent",
        "Something new",  # an unknown code is still shown, in words
        "No reason given",
    ]


def test_units_still_to_receive_and_why_none_can_be(page: Any) -> None:
    answer = page.evaluate(
        """() => {
      const partly = ret("R1", "restocked", { items: [{ sku: "MUG", quantity: 3 }, { sku: "CUP", quantity: 1 }],
        receipts: [{ receiptId: "a", items: [{ sku: "MUG", quantity: 2, grade: "sellable" }] }] });
      return {
        left: common.unitsToReceive(partly),
        partly: receiving.notReceivable(partly),
        requested: receiving.notReceivable(ret("R2", "requested")),
        fba: receiving.notReceivable(ret("R3", "received", { source: "fba" })),
        refunded: receiving.notReceivable(ret("R4", "refunded")),
      };
    }"""
    )
    assert answer["left"] == [
        {"sku": "MUG", "returned": 3, "received": 2, "left": 1},
        {"sku": "CUP", "returned": 1, "received": 0, "left": 1},
    ]
    assert answer["partly"] is None
    assert "authorize it before receiving" in answer["requested"]
    assert "Amazon's warehouse" in answer["fba"]
    assert answer["refunded"] == "Nothing to receive: this return is refunded."


def test_the_receipt_key_is_the_same_for_the_same_parcel_and_lines_only(page: Any) -> None:
    keys = page.evaluate(
        """async () => {
      const lines = [{ sku: "MUG", quantity: 2, grade: "sellable", location: "B-2" }];
      const r = ret("R1", "authorized");
      const after = ret("R1", "graded", { receipts: [{ receiptId: "k", items: [] }] });
      return [
        await common.receiptKey(r, lines),
        await common.receiptKey(ret("R1", "authorized"), [{ ...lines[0] }]),
        await common.receiptKey(r, [{ ...lines[0], grade: "damaged" }]),
        await common.receiptKey(after, lines),
        await common.receiptKey(ret("R2", "authorized"), lines),
      ];
    }"""
    )
    assert keys[0] == keys[1] and keys[0].startswith("scan-") and len(keys[0]) <= 200
    assert len(set(keys)) == 4  # other grades, a later parcel of the same return, another return


def test_the_receiving_form_refuses_more_units_than_are_still_to_come(page: Any) -> None:
    problem = page.evaluate(
        """() => {
      const r = ret("R1", "authorized");
      const form = receiving.receiveForm(r, () => {});
      document.getElementById("here").append(form);
      form.querySelector("[name=quantity]").value = "3";
      form.requestSubmit();
      return { text: form.querySelector("[role=alert]").textContent, invalid: form.querySelector("[name=quantity]").getAttribute("aria-invalid") };
    }"""
    )
    assert problem == {"text": "Only 2 units of MUG still to receive.", "invalid": "true"}


def test_a_refund_amazon_refused_shows_its_reason_and_can_be_tried_again(page: Any) -> None:
    cells = page.evaluate(
        """() => {
      const text = (r) => actions.refundCell(r, () => {}).textContent;
      const buttons = (r) => [...actions.refundCell(r, () => {}).querySelectorAll("button")].map((b) => b.textContent);
      const refused = ret("R1", "restocked", { refund: { status: "refused", amount: { amount: "19.99", currencyCode: "USD" },
        refusal: { code: "AmountTooHigh", message: "The adjustment is more than the order's payment" } } });
      const sent = ret("R2", "restocked", { refund: { status: "submitted", amount: { amount: "19.99", currencyCode: "USD" } } });
      const none = ret("R3", "restocked");
      return { refused: text(refused), refusedButtons: buttons(refused), sent: text(sent), sentButtons: buttons(sent), noneButtons: buttons(none) };
    }"""
    )
    assert "Refund refused by Amazon" in cells["refused"]
    assert (
        "Amazon's reason: The adjustment is more than the order's payment (AmountTooHigh)" in cells["refused"]
    )
    assert cells["refusedButtons"] == ["Try the refund again"]
    assert cells["sent"] == "Refund sent to Amazon 19.99 USD" and cells["sentButtons"] == []
    assert cells["noneButtons"] == ["Refund"]


def test_the_return_rate_card_puts_the_sku_beside_the_seller_s_average(page: Any) -> None:
    card = page.evaluate(
        """() => {
      const answer = { days: 30, from: "2026-11-07T00:00:00Z", to: "2026-12-07T00:00:00Z",
        seller: { unitsShipped: 400, unitsReturned: 12, rate: 0.03 },
        items: [{ sku: "OTHER", unitsShipped: 100, unitsReturned: 1, rate: 0.01, reasons: [], flagged: false },
                { sku: "MUG", unitsShipped: 40, unitsReturned: 6, rate: 0.15, flagged: true,
                  reasons: [{ reason: "CR-UNWANTED_ITEM", units: 1 }, { reason: "CR-DEFECTIVE", units: 5 }] }] };
      const card = (figures) => {
        const element = skuReturns.rateCard(figures);
        return { text: element.innerText || element.textContent, flagged: Boolean(element.querySelector('[data-flag="returnRate"]')),
                 reasons: [...element.querySelectorAll(".reasons li")].map((li) => li.textContent) };
      };
      return { mug: card(skuReturns.rateOf(answer, "MUG")), other: card(skuReturns.rateOf(answer, "OTHER")),
               none: card(skuReturns.rateOf(answer, "NEVER-SOLD")) };
    }"""
    )
    assert card["mug"]["flagged"] and not card["other"]["flagged"] and not card["none"]["flagged"]
    assert (
        "6 of 40 units" in card["mug"]["text"]
        and "Your average: 3.0% (12 of 400 units)" in card["mug"]["text"]
    )
    assert card["mug"]["reasons"] == [
        "Defective or does not work: 5 units",
        "No longer needed: 1 unit",
    ]  # most first
    assert "No units shipped or returned in this window" in card["none"]["text"]
    shown = page.evaluate(
        """async () => {
      const { rateText } = common;
      return [rateText({ unitsShipped: 40, unitsReturned: 6, rate: 0.15 }), rateText({ unitsShipped: 0, unitsReturned: 0, rate: null })];
    }"""
    )
    assert shown == ["15.0% (6 of 40 units)", "no units shipped"]


def test_the_decision_and_refund_buttons_send_the_contract_s_requests_once(page: Any) -> None:
    """Authorize, close with a reason and refund, as API.md words them, one request per click however many
    clicks; the answer (the return) is what the page redraws from."""
    sent: list[dict[str, Any]] = []

    def api(route: Any) -> None:
        request = route.request
        sent.append(
            {
                "method": request.method,
                "path": request.url.removeprefix("http://api.test"),
                "body": request.post_data_json,
                "key": bool(request.headers.get("idempotency-key")),
                "token": request.headers.get("authorization"),
            }
        )
        status = 202 if request.url.endswith("/refund") else 200
        body = '{"returnId": "R1", "orderId": "111-0000000-0000001", "status": "authorized", "items": []}'
        route.fulfill(status=status, body=body, content_type="application/json")

    page.route("http://api.test/**", api)
    redrawn = page.evaluate(
        """async () => {
      sessionStorage.setItem("oms.api", "http://api.test");
      sessionStorage.setItem("oms.token", "t0ken");
      window.confirm = () => true;
      const done = [];
      const redraw = (answer, text) => { done.push([answer.status, text]); };
      const here = document.getElementById("here");
      const authorize = actions.authorizeButton(ret("R1", "requested"), redraw);
      const close = actions.closeControl(ret("R1", "requested"), redraw);
      const refund = actions.refundCell(ret("R1", "restocked"), redraw);
      here.append(authorize, close, refund);
      authorize.click(); authorize.click();
      await until(() => done.length >= 1, "authorized");
      close.querySelector(".close-open").click();
      close.querySelector("select").value = "Never came back";
      close.querySelector("form").requestSubmit();
      await until(() => done.length >= 2, "closed");
      refund.querySelector("button").click();
      await until(() => done.length >= 3, "refund sent");
      await new Promise((resolve) => setTimeout(resolve, 100));  // a second request, were one sent, shows
      return done;
    }"""
    )
    assert [(s["method"], s["path"], s["body"]) for s in sent] == [
        ("POST", "/returns/R1/authorize", None),
        ("POST", "/returns/R1/close", {"reason": "Never came back"}),
        ("POST", "/returns/R1/refund", {}),
    ]
    assert all(s["token"] == "Bearer t0ken" for s in sent) and sent[2]["key"]
    assert [text for _, text in redrawn] == [
        "Return R1 authorized.",
        "Return R1 closed: Never came back.",
        "Refund being sent to Amazon (return R1).",
    ]


def test_a_restocking_fee_or_fewer_units_go_with_the_refund_and_wrong_ones_send_nothing(page: Any) -> None:
    sent: list[Any] = []

    def api(route: Any) -> None:
        sent.append(route.request.post_data_json)
        body = '{"returnId": "R1", "orderId": "111-0000000-0000001", "status": "restocked", "items": []}'
        route.fulfill(status=202, body=body, content_type="application/json")

    page.route("http://api.test/**", api)
    asked = page.evaluate(
        """async () => {
      sessionStorage.setItem("oms.api", "http://api.test");
      sessionStorage.setItem("oms.token", "t0ken");
      const questions = [];
      window.confirm = (text) => { questions.push(text); return true; };
      let fee = false;
      let answered = 0;
      const redraw = () => { answered += 1; };
      const cell = actions.refundCell(ret("R1", "restocked"), redraw, { amount: () => fee });
      document.getElementById("here").append(cell);
      cell.querySelector("button").click();  // the fee is not a valid amount: nothing is asked or sent
      fee = { amount: "4.50", currencyCode: "USD" };
      cell.querySelector("button").click();
      await until(() => answered >= 1, "the refund with a fee answered");
      // a partial refund: 1 of the 2 mugs received, no fee
      const part = actions.refundCell(ret("R1", "restocked"), redraw, { amount: () => null, units: () => [{ sku: "MUG", quantity: 1 }] });
      document.getElementById("here").append(part);
      part.querySelector("button").click();
      await until(() => answered >= 2, "the partial refund answered");
      const wrong = actions.refundCell(ret("R1", "restocked"), redraw, { units: () => false });
      document.getElementById("here").append(wrong);
      wrong.querySelector("button").click();  // units not valid: nothing asked or sent
      return questions;
    }"""
    )
    assert asked == [
        "Refund the buyer of order 111-0000000-0000001 less a restocking fee of 4.50 USD through Amazon?",
        "Refund the buyer of order 111-0000000-0000001 for 1 \u00d7 MUG through Amazon?",
    ]
    assert sent == [
        {"restockingFee": {"amount": "4.50", "currencyCode": "USD"}},
        {"items": [{"sku": "MUG", "quantity": 1}]},
    ]


def test_an_fba_return_says_what_amazon_s_warehouse_found_and_what_to_remove(page: Any) -> None:
    texts = page.evaluate(
        """() => {
      const fba = (item) => common.itemsText(ret("F1", "received", { source: "fba", items: [item] })).textContent;
      return [
        fba({ sku: "MUG", quantity: 1, reason: "DEFECTIVE", disposition: "CUSTOMER_DAMAGED", fulfillmentCenterId: "PHX7", forRemoval: true }),
        fba({ sku: "MUG", quantity: 2, reason: "UNWANTED_ITEM", disposition: "SELLABLE", forRemoval: false }),
        fba({ sku: "MUG", quantity: 1, reason: "DEFECTIVE", disposition: "DEFECTIVE" }),
      ];
    }"""
    )
    times = "\u00d7"  # the multiplication sign of "1 x MUG"
    assert texts == [
        f"1 {times} MUG (Defective or does not work) \u00b7 Damaged by the buyer at PHX7, to remove",
        f"2 {times} MUG (No longer needed) \u00b7 Sellable (back in Amazon's stock)",
        f"1 {times} MUG (Defective or does not work) \u00b7 Defective, to remove",  # from the disposition
    ]


def test_a_return_s_state_is_worded_per_unit_once_some_came_back(page: Any) -> None:
    states = page.evaluate(
        """() => {
      const receipt = (lines) => ({ receiptId: "RC-1", at: "2026-12-06T10:00:00Z", actor: "seller",
        items: lines.map(([quantity, grade, disposition]) => ({ sku: "MUG", quantity, grade, location: "default", disposition })) });
      const split = [receipt([[1, "sellable", "restocked"], [1, "damaged", "written-off"]])];
      return [
        // one return's page: its receipts
        common.returnState(ret("R-1", "restocked", { receipts: split })),
        // a list: no receipts, the units by outcome (GET /returns' outcome)
        common.returnState(ret("R-2", "restocked", { outcome: { backInStock: 1, writtenOff: 1 } })),
        common.returnState(ret("R-3", "written-off", { outcome: { backInStock: 0, writtenOff: 2 } })),
        common.returnState(ret("R-4", "restocked", { outcome: { backInStock: 2, writtenOff: 0 } })),
        // before any unit came, and after the refund: the status's words
        common.returnState(ret("R-5", "authorized")),
        common.returnState(ret("R-6", "refunded", { outcome: { backInStock: 1, writtenOff: 1 } })),
      ];
    }"""
    )
    assert states == [
        "1 back in stock, 1 written off",
        "1 back in stock, 1 written off",
        "2 written off",
        "2 back in stock",
        "Authorized, parcel awaited",
        "Refunded",
    ]
