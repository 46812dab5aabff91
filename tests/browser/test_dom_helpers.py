"""The dashboard's two shared helpers (web/js/dom.js), in the browser without a stack: a list read a page at
a time ("Show more") and a button that is busy while its request is in flight. Every view pages and waits
through these, so a seller never sees a page twice, never sends a request twice, and never finds a button
left greyed out after an error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import serve_web

ORIGIN = "http://dashboard.test"
PAGE = '<!doctype html><main><p id="status"></p><div id="alert" hidden></div><div id="rows"></div></main>'

# A paged list over pages the test answers by hand: window.answer(i, page) or window.refuse(i, error).
SETUP = """async () => {
  const dom = await import("/js/dom.js");
  const asked = [], pending = [];
  const more = dom.h("button", { type: "button", hidden: true }, "Show more");
  document.querySelector("main").append(more);
  const drawn = [];
  const list = dom.pagedRows({
    more,
    fetchPage: (token) => new Promise((resolve, reject) => { asked.push(token); pending.push({ resolve, reject }); }),
    draw: (rows, hasMore) => drawn.push({ rows: rows.map((r) => r.id), hasMore }),
    onMore: () => dom.announce("more shown"),
  });
  Object.assign(window, { dom, asked, pending, more, drawn, list });
  window.answer = (i, page) => pending[i].resolve(page);
  window.refuse = (i, message) => pending[i].reject(Object.assign(new Error(message), { details: [] }));
}"""


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    page = new_page()

    serve_web(page, ORIGIN, PAGE)
    page.evaluate(SETUP)
    return page


def settle(page: Any) -> None:
    page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 0))")


def test_show_more_clicked_again_while_the_page_loads_reads_that_page_once(page: Any) -> None:
    page.evaluate(
        "() => { window.first = list.load(); answer(0, { items: [{ id: 1 }, { id: 2 }], nextToken: 't2' }); }"
    )
    page.evaluate("() => window.first")
    assert page.evaluate("() => more.hidden") is False  # there is a next page

    page.evaluate("() => { more.click(); more.click(); more.click(); }")
    busy = page.evaluate("() => ({ disabled: more.disabled, asked: [...asked] })")
    assert busy == {"disabled": True, "asked": [None, "t2"]}  # one read of the next page, however many clicks

    page.evaluate("() => answer(1, { items: [{ id: 3 }] })")
    settle(page)
    after = page.evaluate(
        "() => ({ drawn, hidden: more.hidden, disabled: more.disabled, status: document.getElementById('status').textContent })"
    )
    assert after == {
        "drawn": [{"rows": [1, 2], "hasMore": True}, {"rows": [1, 2, 3], "hasMore": False}],
        "hidden": True,  # the last page: nothing more to ask for
        "disabled": False,
        "status": "more shown",
    }


def test_a_next_page_that_fails_says_why_and_the_button_works_again(page: Any) -> None:
    page.evaluate("() => { window.first = list.load(); answer(0, { items: [{ id: 1 }], nextToken: 't2' }); }")
    page.evaluate("() => window.first")

    page.evaluate("() => { more.click(); refuse(1, 'The API is busy: try again in a minute.'); }")
    settle(page)
    assert page.evaluate("() => document.getElementById('alert').textContent") == (
        "The API is busy: try again in a minute."
    )
    assert page.evaluate("() => ({ disabled: more.disabled, hidden: more.hidden })") == {
        "disabled": False,
        "hidden": False,
    }

    page.evaluate("() => { more.click(); answer(2, { items: [{ id: 2 }] }); }")
    settle(page)
    assert page.evaluate("() => asked") == [None, "t2", "t2"]  # the same page asked again, nothing skipped
    assert page.evaluate("() => drawn.at(-1)") == {"rows": [1, 2], "hasMore": False}
    assert page.evaluate("() => document.getElementById('alert').hidden") is True  # the old error is gone


def test_starting_again_shows_the_first_page_in_place_and_a_failed_restart_keeps_what_is_shown(
    page: Any,
) -> None:
    page.evaluate("() => { window.first = list.load(); answer(0, { items: [{ id: 1 }], nextToken: 't2' }); }")
    page.evaluate("() => window.first")
    page.evaluate("() => { more.click(); answer(1, { items: [{ id: 2 }] }); }")
    settle(page)

    page.evaluate(
        "() => { window.again = list.restart(); answer(2, { items: [{ id: 9 }, { id: 1 }], nextToken: 't3' }); }"
    )
    page.evaluate("() => window.again")
    assert page.evaluate("() => asked.at(-1)") is None  # from the first page
    assert page.evaluate("() => drawn.at(-1)") == {"rows": [9, 1], "hasMore": True}

    failed = page.evaluate(
        "async () => { const p = list.restart(); refuse(3, 'offline'); try { await p; return null; }"
        " catch (e) { return e.message; } }"
    )
    assert failed == "offline"  # the view says so where the rows are
    assert page.evaluate("() => ({ last: drawn.at(-1), hidden: more.hidden })") == {
        "last": {"rows": [9, 1], "hasMore": True},
        "hidden": False,
    }
    page.evaluate("() => { more.click(); answer(4, { items: [{ id: 5 }] }); }")
    settle(page)
    assert page.evaluate("() => asked.at(-1)") == "t3"
    # nothing shown was lost
    assert page.evaluate("() => drawn.at(-1)") == {"rows": [9, 1, 5], "hasMore": False}


def test_a_busy_button_says_what_it_is_doing_and_comes_back_as_it_was_after_success_or_failure(
    page: Any,
) -> None:
    result = page.evaluate(
        """async () => {
          const button = dom.h("button", { type: "button" }, "Save settings");
          let during = null;
          const saved = await dom.whileBusy(button, "Saving…", async () => {
            during = { disabled: button.disabled, label: button.textContent };
            return "saved";
          });
          const after = { disabled: button.disabled, label: button.textContent };
          let error = null;
          try {
            await dom.whileBusy(button, "Saving…", async () => { throw new Error("Carrier code is not known"); });
          } catch (e) { error = e.message; }
          const afterFailure = { disabled: button.disabled, label: button.textContent };
          const plain = dom.h("button", { type: "button" }, "Record");
          let plainDuring = null;
          await dom.whileBusy(plain, null, async () => { plainDuring = { disabled: plain.disabled, label: plain.textContent }; });
          return { during, saved, after, error, afterFailure, plainDuring, plainAfter: plain.disabled };
        }"""
    )
    assert result == {
        "during": {"disabled": True, "label": "Saving…"},
        "saved": "saved",
        "after": {"disabled": False, "label": "Save settings"},
        "error": "Carrier code is not known",  # the caller says it by the form
        "afterFailure": {"disabled": False, "label": "Save settings"},
        "plainDuring": {"disabled": True, "label": "Record"},  # no busy label: only disabled
        "plainAfter": False,
    }


def test_document_links_are_followed_only_to_the_stacks_documents_bucket(page: Any) -> None:
    """Deployed (config.json names the bucket), a link from the API opens only as https to that bucket."""
    verdicts = page.evaluate(
        """async () => {
          const { documentUrl } = await import("/js/links.js");
          const deployed = { documentsBucket: "oms-docs-1", region: "eu-west-1" };
          const urls = [
            "https://oms-docs-1.s3.amazonaws.com/buyer/labels/x.pdf?X-Amz-Signature=1",
            "https://oms-docs-1.s3.eu-west-1.amazonaws.com/docs/batches/pick-list.pdf",
            "https://s3.eu-west-1.amazonaws.com/oms-docs-1/docs/reports/a.csv",
            "http://oms-docs-1.s3.amazonaws.com/buyer/labels/x.pdf",
            "https://oms-docs-1.s3.amazonaws.com.evil.example/x.pdf",
            "https://s3.eu-west-1.amazonaws.com/other-bucket/x.pdf",
            "https://evil.example/oms-docs-1/x.pdf",
            "javascript:alert(1)",
            "",
          ];
          return {
            deployed: urls.map((u) => documentUrl(u, deployed) !== null),
            local: ["http://127.0.0.1:4566/oms-local-documents/x.pdf", "javascript:alert(1)"].map((u) => documentUrl(u, null) !== null),
          };
        }"""
    )
    assert verdicts["deployed"] == [True, True, True, False, False, False, False, False, False]
    assert verdicts["local"] == [True, False]
