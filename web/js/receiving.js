// The receiving form for one return: units per item and a grade (a location for sellable units), posted as
// one receipt with an Idempotency-Key derived from the return and the lines, so a double click or a second
// scan of the same parcel is received once. Used by the receiving screen and the return's page.
import { call } from "./api.js";
import { announce, h, markInvalid, showError, whileBusy } from "./dom.js";
import { RECEIVABLE, receiptKey, receiptText, unitsToReceive } from "./returns-common.js";
import { GRADE_CODES, grade, returnStatus } from "./words.js";

let formCount = 0;

/** Why nothing can be received for this return now, in words; null when units can be received. */
export function notReceivable(ret) {
  if (ret.source === "fba") return "This return went back to Amazon's warehouse (FBA): nothing arrives here to receive.";
  if (ret.status === "requested") return "This return is waiting for your decision: authorize it before receiving it.";
  if (!RECEIVABLE.includes(ret.status)) return `Nothing to receive: this return is ${returnStatus(ret.status).toLowerCase()}.`;
  if (!unitsToReceive(ret).some((item) => item.left > 0)) return "Every unit of this return has been received.";
  return null;
}

/** The form, or the reason there is none. `received(answer, receipt, again)` runs after the API took the receipt. */
export function receiveForm(ret, received) {
  const why = notReceivable(ret);
  if (why) return h("p", { class: "muted", id: "receive-none" }, why);
  const form_id = `receive-${(formCount += 1)}`;
  const items = unitsToReceive(ret).filter((item) => item.left > 0);
  const problem = h("p", { id: `${form_id}-problem`, class: "failure", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary", id: "receive-submit" }, "Receive");
  let lineCount = 0;

  function line(item, units) {
    lineCount += 1;
    const id = `${form_id}-line-${lineCount}`;
    const quantity = h("input", { id: `${id}-units`, name: "quantity", type: "number", inputmode: "numeric", min: "0", max: String(item.left), step: "1", value: String(units), "data-sku": item.sku, class: "narrow" });
    const choice = h("select", { id: `${id}-grade`, name: "grade" }, GRADE_CODES.map((code) => h("option", { value: code }, grade(code))));
    const location = h("input", { id: `${id}-location`, name: "location", autocomplete: "off", placeholder: "default", maxlength: "64", class: "narrow" });
    const locationLabel = h("label", { for: location.id }, "Shelf location", location);
    choice.addEventListener("change", () => {
      locationLabel.hidden = choice.value !== "sellable"; // only sellable units go back on a shelf
    });
    return h("div", { class: "receive-line", "data-sku": item.sku }, h("label", { for: quantity.id }, "Units", quantity), h("label", { for: choice.id }, "Grade", choice), locationLabel);
  }

  const groups = items.map((item) => {
    const lines = h("div", { class: "receive-lines" }, line(item, item.left));
    const split = h("button", { type: "button", class: "split-line" }, "Some units in another grade");
    split.addEventListener("click", () => {
      lines.append(line(item, 0));
      lines.lastElementChild.querySelector("input").focus();
    });
    return h(
      "fieldset",
      { class: "receive-item", "data-sku": item.sku },
      h("legend", {}, `${item.sku}: ${item.left} of ${item.returned} unit${item.returned === 1 ? "" : "s"} to receive`),
      lines,
      split,
    );
  });
  const form = h(
    "form",
    { id: "receive-form", class: "stacked receive-form", "aria-describedby": problem.id, novalidate: true, "data-return-id": ret.returnId },
    groups,
    h("p", { class: "hint" }, "Sellable units go back on hand (and to Amazon's listing); every other grade is written off. Each is a ledger entry."),
    problem,
    h("div", { class: "buttons" }, submit),
  );

  /** The lines to send, or the first problem with them (said in words, its field marked). */
  function read() {
    const lines = [];
    for (const item of items) {
      let total = 0;
      for (const row of form.querySelectorAll(`.receive-line[data-sku="${CSS.escape(item.sku)}"]`)) {
        const units = row.querySelector("[name=quantity]");
        const count = Number(units.value || 0);
        if (!Number.isInteger(count) || count < 0) return { problem: `Enter whole units for ${item.sku}, 0 or more.`, field: units };
        total += count;
        if (total > item.left) return { problem: `Only ${item.left} unit${item.left === 1 ? "" : "s"} of ${item.sku} still to receive.`, field: units };
        if (!count) continue;
        const chosen = row.querySelector("[name=grade]").value;
        const where = row.querySelector("[name=location]").value.trim();
        lines.push({ sku: item.sku, quantity: count, grade: chosen, ...(chosen === "sellable" && where ? { location: where } : {}) });
      }
    }
    if (!lines.length) return { problem: "Enter the units that arrived.", field: form.querySelector("[name=quantity]") };
    return { lines };
  }

  let sending = null; // a second submit while the first is in flight waits for it, never sends again
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (sending) return;
    problem.hidden = true;
    markInvalid(form);
    const { lines, problem: wrong, field } = read();
    if (wrong) {
      problem.textContent = wrong;
      problem.hidden = false;
      field?.setAttribute("aria-invalid", "true");
      field?.focus();
      return;
    }
    sending = whileBusy(submit, "Receiving…", async () => {
      try {
        const key = await receiptKey(ret, lines);
        let again = false; // 200: this receipt was taken before (a retry, or the same parcel from another screen)
        const answer = await call(`/returns/${encodeURIComponent(ret.returnId)}/receipts`, {
          method: "POST",
          body: { items: lines },
          headers: { "Idempotency-Key": key },
          answered: (status) => {
            again = status === 200;
          },
        });
        showError(null);
        const receipt = (answer.receipts || []).find((r) => r.receiptId === key) || { items: lines };
        received(answer, receipt, again);
      } catch (error) {
        problem.textContent = error.message; // said by the form, its fields marked; not in the banner too
        problem.hidden = false;
        markInvalid(form, error.details || []);
      }
    }).finally(() => {
      sending = null;
    });
  });
  return form;
}

/** What happened, in the seller's words: what went back in stock and what was written off. */
export function receivedNote(ret, receipt, again) {
  const text = `${again ? "Already received, nothing changed: " : "Received: "}${receiptText(receipt)}.`;
  announce(text);
  return h("div", { class: "receive-result ok", id: "receive-result", role: "status" }, h("p", {}, text), h("p", {}, `Return ${ret.returnId} is now ${returnStatus(ret.status).toLowerCase()}.`));
}
