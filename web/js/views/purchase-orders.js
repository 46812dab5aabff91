// #/purchase-orders: the purchase orders, newest first (a state chosen narrows them), and a new draft to a
// supplier; #/purchase-orders/<poId>: one PO: send it (its PDF for the supplier), receive what arrived line
// by line, close it. Receipts carry an Idempotency-Key made when the form is drawn, so a double click or a
// retry after a lost answer receives once.
import { call } from "../api.js";
import { documentUrl } from "../links.js";
import { announce, h, markInvalid, money, pagedRows, showError, table, when, whileBusy } from "../dom.js";
import { poStatus, PO_STATUSES } from "../words.js";

const PAGE = 25;

function newKey(prefix) {
  const random = globalThis.crypto?.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  return `${prefix}-${random}`;
}

function linesText(po) {
  const lines = po.lines || [];
  const units = lines.reduce((sum, line) => sum + (Number(line.quantity) || 0), 0);
  const received = lines.reduce((sum, line) => sum + (Number(line.received) || 0), 0);
  const skus = lines.map((line) => line.sku).join(", ");
  return `${units} unit${units === 1 ? "" : "s"} (${received} received) of ${skus}`;
}

export async function render(view, poId) {
  if (poId) return renderOne(view, poId);
  const status = h("select", { id: "po-status", name: "status" }, h("option", { value: "" }, "Every state"), ...Object.entries(PO_STATUSES).map(([code, words]) => h("option", { value: code }, words)));
  const summary = h("p", { class: "summary", id: "po-summary" }, "");
  const holder = h("div", { id: "po-table" });
  const more = h("button", { type: "button", id: "po-more", hidden: true }, "Show more");
  const columns = [
    { label: "Purchase order", cell: (po) => h("a", { href: `#/purchase-orders/${encodeURIComponent(po.poId)}`, class: "po-id" }, po.poId) },
    { label: "Supplier", cell: (po) => po.supplierName },
    { label: "State", cell: (po) => poStatus(po.status) },
    { label: "Lines", cell: (po) => linesText(po) },
    { label: "Total", cell: (po) => money(po.total) },
    { label: "Made", cell: (po) => when(po.createdAt) },
    { label: "Sent", cell: (po) => when(po.sentAt) },
  ];
  const list = pagedRows({
    more,
    fetchPage: (nextToken) => call("/purchase-orders", { query: { status: status.value, limit: PAGE, nextToken } }),
    draw(shown, hasMore) {
      holder.replaceChildren(shown.length ? table("Purchase orders, newest first", columns, shown, { rowAttributes: (po) => ({ "data-po-id": po.poId }) }) : h("p", { class: "empty" }, "No purchase orders in this state."));
      const text = `${shown.length} purchase order${shown.length === 1 ? "" : "s"} shown${hasMore ? " (more: Show more)" : ""}.`;
      summary.textContent = text;
      announce(text);
    },
  });
  status.addEventListener("change", async () => {
    showError(null);
    try {
      await list.restart();
    } catch (error) {
      showError(error);
    }
  });
  view.replaceChildren(
    h("h1", {}, "Purchase orders"),
    h("p", { class: "muted" }, "What you ordered from your suppliers: send a draft, then receive what arrives (it goes on hand through the ledger). Units sent and not yet received show as on order on the Stock page. ", h("a", { href: "#/suppliers", id: "po-suppliers" }, "Suppliers and their terms")),
    await newDraftForm(),
    h("p", {}, h("label", { for: "po-status" }, "Show "), status),
    summary,
    holder,
    more,
  );
  await list.load();
}

async function newDraftForm() {
  const suppliers = (await call("/suppliers", { query: { limit: 500 } })).items || [];
  if (!suppliers.length) {
    return h("p", { class: "empty", id: "po-no-suppliers" }, "No suppliers yet: ", h("a", { href: "#/suppliers" }, "add one and its terms per SKU"), " to order from it.");
  }
  const supplier = h("select", { id: "po-supplier", name: "supplierId" }, ...suppliers.map((s) => h("option", { value: s.supplierId }, s.name)));
  const sku = h("input", { id: "po-sku", name: "sku", required: true, maxlength: "200", autocomplete: "off" });
  const quantity = h("input", { id: "po-quantity", name: "quantity", type: "number", min: "1", step: "1", required: true, inputmode: "numeric" });
  const create = h("button", { type: "submit", id: "po-create" }, "Make a draft");
  let key = newKey("draft");
  const form = h(
    "form",
    { id: "po-new", class: "inline-form", "aria-labelledby": "po-new-title" },
    h("h2", { id: "po-new-title" }, "New purchase order"),
    h("label", { for: "po-supplier" }, "Supplier "),
    supplier,
    h("label", { for: "po-sku" }, " SKU "),
    sku,
    h("label", { for: "po-quantity" }, " Units "),
    quantity,
    " ",
    create,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(null);
    markInvalid(form);
    try {
      const po = await whileBusy(create, "Making…", () =>
        call("/purchase-orders", {
          method: "POST",
          headers: { "Idempotency-Key": key },
          body: { supplierId: supplier.value, lines: [{ sku: sku.value.trim(), quantity: Number(quantity.value) }] },
        }),
      );
      key = newKey("draft");
      location.hash = `#/purchase-orders/${encodeURIComponent(po.poId)}`;
    } catch (error) {
      markInvalid(form, error.details);
      showError(error);
    }
  });
  return form;
}

async function renderOne(view, poId) {
  const po = await call(`/purchase-orders/${encodeURIComponent(poId)}`);
  const reload = () => renderOne(view, poId);
  const act = (label, busy, path, id) => {
    const button = h("button", { type: "button", id }, label);
    button.addEventListener("click", async () => {
      showError(null);
      try {
        await whileBusy(button, busy, () => call(path, { method: "POST" }));
        await reload();
        announce(`Purchase order ${poId}: ${label.toLowerCase()} done.`);
      } catch (error) {
        showError(error);
      }
    });
    return button;
  };
  const open = (line) => line.quantity - line.received - line.cancelled;
  const receiving = po.status === "sent" || po.status === "partially-received";
  const lineColumns = [
    { label: "SKU", cell: (l) => h("a", { href: `#/inventory/${encodeURIComponent(l.sku)}` }, l.sku) },
    { label: "Supplier's code", cell: (l) => l.supplierSku || "–" },
    { label: "Ordered", cell: (l) => String(l.quantity) },
    { label: "Received", cell: (l) => String(l.received) },
    { label: "Cancelled", cell: (l) => String(l.cancelled) },
    { label: "Still expected", cell: (l) => String(open(l)) },
    { label: "Unit cost", cell: (l) => money(l.unitCost) },
    { label: "Expected", cell: (l) => when(l.expectedBy) },
    { label: "Lead time", cell: (l) => (l.leadTimeDays === null || l.leadTimeDays === undefined ? "–" : `${l.leadTimeDays} days`) },
  ];
  const buttons = [];
  if (po.status === "draft") buttons.push(act("Send to the supplier", "Sending…", `/purchase-orders/${encodeURIComponent(poId)}/send`, "po-send"));
  const pdf = documentUrl(po.pdfUrl);
  if (pdf) buttons.push(h("a", { href: pdf, target: "_blank", rel: "noopener", id: "po-pdf", class: "button-link" }, "Purchase order (PDF)"));
  if (po.status !== "closed" && po.status !== "received") {
    const close = act("Close", "Closing…", `/purchase-orders/${encodeURIComponent(poId)}/close`, "po-close");
    close.title = "Units not received are cancelled: no longer on order";
    buttons.push(close);
  }
  view.replaceChildren(
    h("p", { class: "breadcrumb" }, h("a", { href: "#/purchase-orders" }, "← Purchase orders")),
    h("h1", {}, `Purchase order ${po.poId}`),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Supplier"),
      h("dd", {}, po.supplierName),
      h("dt", {}, "State"),
      h("dd", { id: "po-state" }, poStatus(po.status)),
      h("dt", {}, "Total"),
      h("dd", {}, money(po.total)),
      h("dt", {}, "Made"),
      h("dd", {}, when(po.createdAt)),
      h("dt", {}, "Sent"),
      h("dd", {}, when(po.sentAt)),
      ...(po.note ? [h("dt", {}, "Note"), h("dd", {}, po.note)] : []),
    ),
    h("p", { class: "buttons" }, ...buttons),
    h("section", { "aria-labelledby": "po-lines-title" }, h("h2", { id: "po-lines-title" }, "Lines"), table("The purchase order's lines", lineColumns, po.lines || [], { rowAttributes: (l) => ({ "data-sku": l.sku }) })),
    receiving ? receiptForm(po, reload) : "", // replaceChildren would write a null as the word "null"
    (po.receipts || []).length
      ? h(
          "section",
          { "aria-labelledby": "po-receipts-title" },
          h("h2", { id: "po-receipts-title" }, "Receipts"),
          h("ul", { id: "po-receipts" }, ...(po.receipts || []).map((r) => h("li", {}, when(r.at), ` ${r.lines.map((l) => `${l.quantity} × ${l.sku} at ${l.location}`).join("; ")}`))),
        )
      : "",
  );
}

function receiptForm(po, reload) {
  const rows = (po.lines || []).filter((line) => line.quantity - line.received - line.cancelled > 0);
  const inputs = rows.map((line, n) => ({
    sku: line.sku,
    units: h("input", { id: `receive-units-${n}`, name: "quantity", type: "number", min: "0", max: String(line.quantity - line.received - line.cancelled), step: "1", value: "0", inputmode: "numeric" }),
    location: h("input", { id: `receive-location-${n}`, name: "location", placeholder: "default", maxlength: "64", autocomplete: "off" }),
  }));
  const submit = h("button", { type: "submit", id: "po-receive" }, "Receive");
  let key = newKey("receipt");
  const form = h(
    "form",
    { id: "po-receipt", "aria-labelledby": "po-receive-title" },
    h("h2", { id: "po-receive-title" }, "Receive what arrived"),
    ...inputs.map((row, n) =>
      h(
        "p",
        { "data-sku": row.sku },
        h("label", { for: `receive-units-${n}` }, `${row.sku}: units `),
        row.units,
        h("label", { for: `receive-location-${n}` }, " onto shelf "),
        row.location,
      ),
    ),
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(null);
    markInvalid(form);
    const lines = inputs
      .filter((row) => Number(row.units.value) > 0)
      .map((row) => ({ sku: row.sku, quantity: Number(row.units.value), ...(row.location.value.trim() ? { location: row.location.value.trim() } : {}) }));
    if (!lines.length) {
      showError(new Error("Enter the units that arrived on at least one line."));
      return;
    }
    try {
      await whileBusy(submit, "Receiving…", () => call(`/purchase-orders/${encodeURIComponent(po.poId)}/receipts`, { method: "POST", headers: { "Idempotency-Key": key }, body: { lines } }));
      key = newKey("receipt");
      await reload();
      announce(`${lines.map((l) => `${l.quantity} × ${l.sku}`).join(", ")} received: on hand now.`);
    } catch (error) {
      markInvalid(form, error.details);
      showError(error);
    }
  });
  return form;
}
