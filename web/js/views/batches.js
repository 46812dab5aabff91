// #/batches: the pick batches, newest first, with links to reprint each one's pick list and packing slips;
// #/batches/<batchId>: one batch with its pick list lines. Presigned links last an hour: fetched with the page.
import { documentUrl } from "../links.js";
import { call } from "../api.js";
import { announce, formatTime, h, pagedRows, table } from "../dom.js";

const PAGE = 20;

export async function render(view, batchId) {
  if (batchId) return renderOne(view, batchId);
  const summary = h("p", { class: "summary", id: "batches-summary" }, "");
  const holder = h("div", { id: "batches-table" });
  const more = h("button", { type: "button", id: "batches-more", hidden: true }, "Show more");
  view.replaceChildren(
    h("h1", {}, "Pick batches"),
    h("p", { class: "muted" }, "Orders grouped for picking, newest first. Open a batch to reprint its pick list or packing slips. Batches are made from the ", h("a", { href: "#/queue" }, "ship-today queue"), "."),
    summary,
    holder,
    more,
  );
  const columns = [
    { label: "Batch", cell: (b) => h("a", { href: `#/batches/${encodeURIComponent(b.batchId)}` }, b.batchId) },
    { label: "Made", cell: (b) => (b.createdAt ? h("time", { datetime: b.createdAt }, formatTime(b.createdAt)) : "–") },
    { label: "Orders", cell: (b) => `${(b.orderIds || []).length}: ${(b.orderIds || []).join(", ")}` },
    {
      label: "Reprint",
      cell: (b) =>
        h(
          "span",
          { class: "buttons" },
          documentUrl(b.pickListUrl) ? h("a", { href: documentUrl(b.pickListUrl), target: "_blank", rel: "noopener", class: "pick-list" }, "Pick list (PDF)") : null,
          documentUrl(b.packingSlipsUrl) ? h("a", { href: documentUrl(b.packingSlipsUrl), target: "_blank", rel: "noopener", class: "packing-slips" }, "Packing slips (PDF)") : null,
        ),
    },
  ];

  const batches = pagedRows({
    more,
    fetchPage: (nextToken) => call("/batches", { query: { limit: PAGE, nextToken } }),
    draw(shown, hasMore) {
      holder.replaceChildren(
        shown.length
          ? table("Pick batches, newest first", columns, shown, { rowAttributes: (b) => ({ "data-batch-id": b.batchId }) })
          : h("p", { class: "empty" }, "No pick batches yet."),
      );
      const text = `${shown.length} batch${shown.length === 1 ? "" : "es"} shown${hasMore ? " (more: Show more)" : ""}.`;
      summary.textContent = text;
      announce(text);
    },
  });
  await batches.load();
}

async function renderOne(view, batchId) {
  const batch = await call(`/batches/${encodeURIComponent(batchId)}`);
  const units = (batch.lines || []).reduce((sum, line) => sum + (Number(line.units) || 0), 0);
  const link = (url, text, id) =>
    documentUrl(url) ? h("a", { href: documentUrl(url), target: "_blank", rel: "noopener", id, class: "button-link" }, text) : h("span", { class: "muted" }, `${text}: not available`);
  const lineColumns = [
    { label: "Location", cell: (l) => l.location || "not on hand" },
    { label: "SKU", cell: (l) => h("a", { href: `#/inventory/${encodeURIComponent(l.sku)}` }, l.sku) },
    { label: "Title", cell: (l) => l.title || "–" },
    { label: "Units", cell: (l) => String(l.units) },
    { label: "Orders", cell: (l) => (l.orderIds || []).join(", ") },
  ];
  view.replaceChildren(
    h("p", { class: "breadcrumb" }, h("a", { href: "#/batches" }, "← Pick batches")),
    h("h1", {}, `Pick batch ${batch.batchId}`),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Made"),
      h("dd", {}, batch.createdAt ? h("time", { datetime: batch.createdAt }, formatTime(batch.createdAt)) : "–"),
      h("dt", {}, "Orders"),
      h("dd", { id: "batch-orders" }, (batch.orderIds || []).map((id, n) => [n ? ", " : "", h("a", { href: `#/orders/${encodeURIComponent(id)}` }, id)])),
      h("dt", {}, "Units to pick"),
      h("dd", {}, `${units} on ${(batch.lines || []).length} pick-list line${(batch.lines || []).length === 1 ? "" : "s"}`),
    ),
    h("p", { class: "buttons" }, link(batch.pickListUrl, "Pick list (PDF)", "batch-pick-list"), link(batch.packingSlipsUrl, "Packing slips (PDF)", "batch-packing-slips")),
    h("section", { "aria-labelledby": "lines-title" }, h("h2", { id: "lines-title" }, "Pick list"), table("Pick list lines in walking order", lineColumns, batch.lines || [])),
  );
}
