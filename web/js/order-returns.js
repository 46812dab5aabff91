// The order page's Returns section: each return of the order with its timeline, and a form that records a
// return that arrived outside Amazon's flow (POST /returns: shipped units, at most those not returned yet).
import { call } from "./api.js";
import { announce, failureNote, h, markInvalid, showError, whileBusy } from "./dom.js";
import { findByScan, itemsText, returnBadges, returnState, returnTimeline } from "./returns-common.js";
import { returnReason, returnSource } from "./words.js";

const SHIPPED = ["Shipped", "PartiallyShipped"];
const REASONS = ["UNWANTED_ITEM", "DEFECTIVE", "NOT_AS_DESCRIBED", "WRONG_ITEM", "DAMAGED_BY_CARRIER", "ORDERED_WRONG_ITEM", "MISSING_PARTS", "NO_REASON_GIVEN"];

/** The section, filled once the order's returns are read (an order with nothing shipped has none). */
export async function orderReturns(order) {
  const section = h("section", { id: "order-returns", "aria-labelledby": "order-returns-title" }, h("h2", { id: "order-returns-title" }, "Returns"));
  if (!SHIPPED.includes(order.status)) {
    section.append(h("p", { class: "empty" }, "Nothing shipped, so nothing to return."));
    return section;
  }
  const body = h("div", {});
  section.append(body);
  async function fill(text) {
    try {
      const listed = (await findByScan(order.orderId)).filter((r) => r.orderId === order.orderId);
      const full = await Promise.all(listed.map((r) => call(`/returns/${encodeURIComponent(r.returnId)}`)));
      full.sort((a, b) => (a.requestedAt < b.requestedAt ? -1 : a.requestedAt > b.requestedAt ? 1 : 0));
      const parts = [
        text ? h("p", { class: "ok", id: "order-return-done", role: "status" }, text) : null,
        ...(full.length ? full.map(returnCard) : [h("p", { class: "empty" }, "No return of this order.")]),
        order.fulfillmentChannel === "MFN" ? recordForm(order, fill) : null,
      ];
      body.replaceChildren(...parts.filter(Boolean));
    } catch (error) {
      body.replaceChildren(failureNote("The order's returns", error));
    }
  }
  await fill();
  return section;
}

function returnCard(ret) {
  return h(
    "article",
    { class: "return-card", "data-return-id": ret.returnId },
    h("h3", {}, h("a", { href: `#/returns/${encodeURIComponent(ret.returnId)}` }, `Return ${ret.returnId}`), ` · ${returnState(ret)}`, " ", returnBadges(ret)),
    h("p", {}, returnSource(ret.source), ret.amazonRmaId ? ` · RMA ${ret.amazonRmaId}` : null, " · ", itemsText(ret)),
    returnTimeline(ret),
  );
}

function recordForm(order, done) {
  const shipped = (order.items || []).filter((item) => (item.quantityShipped || 0) > 0);
  if (!shipped.length) return null;
  const key = globalThis.crypto?.randomUUID ? crypto.randomUUID() : `${order.orderId}-${Date.now()}`; // one return per form
  const rows = shipped.map((item) => {
    const id = `return-${item.orderItemId || item.sku}`;
    return h(
      "div",
      { class: "receive-line", "data-sku": item.sku },
      h("label", { for: `${id}-units` }, `Units of ${item.sku} returned`, h("input", { id: `${id}-units`, name: "quantity", type: "number", inputmode: "numeric", min: "0", max: String(item.quantityShipped), value: "0", "data-sku": item.sku, class: "narrow" })),
      h("label", { for: `${id}-reason` }, "Buyer's reason", h("select", { id: `${id}-reason`, name: "reason", "data-sku": item.sku }, REASONS.map((code) => h("option", { value: code }, returnReason(code))))),
    );
  });
  const problem = h("p", { class: "failure", role: "alert", hidden: true, id: "record-return-problem" });
  const submit = h("button", { type: "submit" }, "Record the return");
  const form = h(
    "form",
    { id: "record-return", class: "stacked", novalidate: true, "aria-describedby": problem.id },
    h("fieldset", {}, h("legend", {}, "A parcel came back outside Amazon's returns: record it"), rows),
    problem,
    h("div", { class: "buttons" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.hidden = true;
    markInvalid(form);
    const items = [...form.querySelectorAll(".receive-line")]
      .map((row) => ({ sku: row.dataset.sku, quantity: Number(row.querySelector("[name=quantity]").value || 0), reason: row.querySelector("[name=reason]").value }))
      .filter((item) => item.quantity !== 0);
    if (!items.length || items.some((item) => !Number.isInteger(item.quantity) || item.quantity < 0)) {
      problem.textContent = "Enter the units that came back (whole units).";
      problem.hidden = false;
      return;
    }
    try {
      await whileBusy(submit, "Recording…", async () => {
        const ret = await call("/returns", { method: "POST", body: { orderId: order.orderId, items }, headers: { "Idempotency-Key": key } });
        showError(null);
        await done(`Return ${ret.returnId} recorded: receive its units when the parcel is opened.`);
        announce(`Return ${ret.returnId} recorded.`);
      });
    } catch (error) {
      problem.textContent = error.message;
      problem.hidden = false;
      markInvalid(form, error.details || []);
    }
  });
  return form;
}
