// #/returns/<returnId>: one return: its facts and deadlines, items, the seller's decision or refund, the
// receiving form while units are still to come, its receipts and its timeline.
import { call } from "../api.js";
import { announce, h, showError, table, timeCell, when } from "../dom.js";
import { authorizeButton, closeControl, refundCell } from "../return-actions.js";
import { receivedNote, receiveForm } from "../receiving.js";
import { decisionDue, receiptText, returnBadges, returnState, returnTimeline, sectionOf, timeLeft, toRemove, unitsToReceive } from "../returns-common.js";
import { disposition, grade, returnReason, returnSource, source } from "../words.js";

export async function render(view, returnId) {
  const ret = await call(`/returns/${encodeURIComponent(returnId)}`);
  // the order's currency, for a restocking fee (the page still shows the return without it)
  const order = await call(`/orders/${encodeURIComponent(ret.orderId)}`).catch(() => null);
  currency = order?.orderTotal?.currencyCode || (order?.items || []).find((i) => i.unitPrice)?.unitPrice.currencyCode || null;
  draw(view, ret);
}

let currency = null;

/** Units to refund per SKU, every unit received at first; fewer makes a partial refund (by item price). */
function refundUnits(ret) {
  const received = unitsToReceive(ret).filter((item) => item.received > 0);
  if (!received.length) return { field: null, units: () => null };
  const inputs = received.map((item) => h("input", { id: `refund-units-${item.sku}`, name: "refundUnits", type: "number", inputmode: "numeric", min: "0", max: String(item.received), step: "1", value: String(item.received), "data-sku": item.sku, class: "narrow" }));
  const field = h(
    "fieldset",
    { class: "refund-units" },
    h("legend", {}, "Units to refund (fewer than received: a partial refund)"),
    received.map((item, index) => h("label", { for: inputs[index].id }, `${item.sku} (${item.received} received)`, inputs[index])),
  );
  const units = () => {
    const lines = [];
    for (const [index, input] of inputs.entries()) {
      input.removeAttribute("aria-invalid");
      const count = Number(input.value || 0);
      if (!Number.isInteger(count) || count < 0 || count > received[index].received) {
        input.setAttribute("aria-invalid", "true");
        input.focus();
        showError(new Error(`Refund whole units of ${received[index].sku}, at most the ${received[index].received} received.`));
        return false;
      }
      if (count) lines.push({ sku: received[index].sku, quantity: count });
    }
    if (!lines.length) {
      showError(new Error("Refund at least one unit, or close the return instead."));
      return false;
    }
    const all = lines.length === received.length && lines.every((line, i) => line.quantity === received[i].received);
    return all ? null : lines; // everything received: the API's default, a full refund
  };
  return { field, units };
}

/** The optional restocking fee: a field, and what it holds as money (null: none; false: not a valid amount). */
function restockingFee() {
  if (!currency) return { field: null, amount: () => null };
  const input = h("input", { id: "restocking-fee", name: "restockingFee", type: "number", inputmode: "decimal", min: "0", step: "0.01", class: "narrow", "aria-describedby": "restocking-fee-hint" });
  const field = h(
    "span",
    { class: "restocking-fee" },
    h("label", { for: input.id }, `Restocking fee (optional, ${currency})`, input),
    h("span", { id: "restocking-fee-hint", class: "hint" }, "Amazon allows one only for some returns (never for a defective, wrong or damaged item); the API refuses it where not allowed."),
  );
  const amount = () => {
    input.removeAttribute("aria-invalid");
    const text = input.value.trim();
    if (!text || Number(text) === 0) return null;
    if (!/^\d+(\.\d{1,2})?$/.test(text)) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
      showError(new Error("Enter the restocking fee as an amount such as 4.50, or leave it empty."));
      return false;
    }
    return { amount: Number(text).toFixed(2), currencyCode: currency };
  };
  return { field, amount };
}

function due(iso) {
  if (!iso) return "–";
  const left = timeLeft(iso);
  return h("span", {}, timeCell(iso), left.startsWith("overdue") ? h("span", { class: "warning" }, ` ${left}`) : null);
}

function draw(view, ret, note) {
  const redraw = async (answer, text) => {
    draw(view, answer?.returnId ? answer : await call(`/returns/${encodeURIComponent(ret.returnId)}`));
    const done = view.querySelector("#return-done");
    done.textContent = text;
    done.hidden = false;
    announce(text);
  };
  const key = sectionOf(ret);
  const facts = [
    ["Status", returnState(ret)],
    ["Order", h("a", { href: `#/orders/${encodeURIComponent(ret.orderId)}` }, ret.orderId)],
    ["From", returnSource(ret.source)],
    ["Amazon RMA id", ret.amazonRmaId || "–"],
    ["Return tracking", ret.trackingId ? `${ret.carrier ? `${ret.carrier} ` : ""}${ret.trackingId}` : "–"],
    ["Requested", when(ret.requestedAt)],
    ret.status === "requested" ? ["Decide by", due(decisionDue(ret))] : null,
    ["First units received", when(ret.receivedAt)],
    ["Refund due by", due(ret.refundDueBy)],
  ].filter(Boolean);
  const left = Object.fromEntries(unitsToReceive(ret).map((i) => [i.sku, i]));
  const itemColumns = [
    { label: "SKU", cell: (i) => h("a", { href: `#/inventory/${encodeURIComponent(i.sku)}` }, i.sku) },
    { label: "Returned", cell: (i) => String(i.quantity), className: "number" },
    { label: "Received", cell: (i) => String(left[i.sku]?.received ?? 0), className: "number" },
    { label: "Buyer's reason", cell: (i) => h("span", { title: i.reason || "" }, returnReason(i.reason)) },
    (ret.items || []).some((i) => i.disposition) && { label: "Amazon's warehouse found", cell: (i) => (i.disposition ? h("span", { class: toRemove(i) ? "warning" : "" }, disposition(i.disposition), i.fulfillmentCenterId ? ` at ${i.fulfillmentCenterId}` : "", toRemove(i) ? " (to remove)" : "") : "–") },
  ];
  const actions = [];
  if (key === "decide") actions.push(authorizeButton(ret, redraw), " ", closeControl(ret, redraw));
  else if (key === "arriving") actions.push(closeControl(ret, redraw));
  if (key === "refund" || ret.refund) {
    const open = !ret.refund || ret.refund.status === "refused";
    const fee = open ? restockingFee() : { field: null, amount: () => null };
    const part = open && key === "refund" ? refundUnits(ret) : { field: null, units: () => null };
    // what to refund first, then the button that sends it (and, once sent, where the refund stands)
    actions.push(h("div", { id: "refund" }, part.field, fee.field, h("p", {}, h("strong", {}, "Refund: "), refundCell(ret, redraw, { amount: fee.amount, units: part.units }))));
  }
  const receiving = h("section", { id: "receiving", "aria-labelledby": "receiving-title" }, h("h2", { id: "receiving-title" }, "Receive units"));
  receiving.append(
    receiveForm(ret, (after, receipt, again) => {
      draw(view, after, receivedNote(after, receipt, again));
      view.querySelector("#receiving-title")?.focus();
    }),
  );
  const receiptColumns = [
    { label: "When", cell: (r) => when(r.at) },
    { label: "What happened", cell: (r) => receiptText(r) },
    { label: "Grades", cell: (r) => (r.items || []).map((l) => `${l.quantity} ${grade(l.grade).toLowerCase()}`).join(", ") },
    { label: "By", cell: (r) => source(r.actor) },
  ];
  const parts = [
    h("p", { class: "breadcrumb" }, h("a", { href: "#/returns" }, "← Returns")),
    h("h1", {}, `Return ${ret.returnId}`),
    (ret.flags || []).length ? h("p", { class: "badges" }, returnBadges(ret)) : null,
    h("p", { id: "return-done", class: "ok", role: "status", hidden: true }),
    note || null,
    h("dl", { class: "facts" }, facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
    actions.length ? h("section", { id: "return-actions", "aria-label": "Decide or refund" }, actions) : null,
    h("section", { "aria-labelledby": "return-items-title" }, h("h2", { id: "return-items-title" }, "Items"), table("Items of the return", itemColumns.filter(Boolean), ret.items || [])),
    ret.source === "fba" ? null : receiving,
    h(
      "section",
      { id: "receipts", "aria-labelledby": "receipts-title" },
      h("h2", { id: "receipts-title" }, "Receipts"),
      (ret.receipts || []).length ? table("Receipts of the return", receiptColumns, ret.receipts) : h("p", { class: "empty" }, "Nothing received yet."),
    ),
    h("section", { id: "return-timeline", "aria-labelledby": "return-timeline-title" }, h("h2", { id: "return-timeline-title" }, "Timeline"), returnTimeline(ret)),
  ];
  view.replaceChildren(...parts.filter(Boolean));
  view.querySelector("#receiving-title")?.setAttribute("tabindex", "-1");
}
