// #/inventory: stock rows, low stock first (at or below the reorder point), with days of cover; paged.
import { call } from "../api.js";
import { announce, failureNote, h, pagedRows, routeQuery, table } from "../dom.js";
import { productCell, productsOf } from "../product.js";
import { daysOfCover } from "../words.js";

const PAGE = 100;

function coverCell(row) {
  if (row.daysOfCover === null || row.daysOfCover === undefined) return h("span", { class: "muted" }, daysOfCover(row));
  const short = row.leadTimeDays !== null && row.leadTimeDays !== undefined && Number(row.daysOfCover) < Number(row.leadTimeDays);
  return short ? h("span", { class: "warning" }, `${daysOfCover(row)} (lead time ${row.leadTimeDays})`) : daysOfCover(row);
}

const COLUMNS = [
  { label: "SKU", cell: (r) => h("a", { href: `#/inventory/${encodeURIComponent(r.sku)}` }, r.sku) },
  { label: "Product", cell: (r) => productCell(r.product) },
  { label: "Location", cell: (r) => r.location || "default", className: "secondary" },
  { label: "On hand", cell: (r) => String(r.onHand), className: "number" },
  { label: "Reserved", cell: (r) => String(r.reserved), className: "number" },
  { label: "Available", cell: (r) => String(r.available), className: "number" },
  { label: "Backordered", cell: (r) => (r.backordered ? h("span", { class: "warning" }, String(r.backordered)) : "0"), className: "number" },
  { label: "On order", cell: (r) => String(r.onOrder ?? 0), className: "number secondary" },
  { label: "Reorder point", cell: (r) => (r.reorderPoint ?? "–").toString(), className: "number" },
  { label: "Safety stock", cell: (r) => (r.safetyStock ?? "–").toString(), className: "number secondary" },
  { label: "Days of cover", cell: coverCell },
];

export async function render(view) {
  const query = routeQuery();
  const all = query.get("all") === "1";
  const toggle = h("input", { type: "checkbox", id: "low-only", checked: !all });
  toggle.addEventListener("change", () => {
    location.hash = toggle.checked ? "#/inventory" : "#/inventory?all=1";
  });
  const find = h("input", { id: "find-sku", name: "sku", required: true, autocomplete: "off", spellcheck: "false" });
  const finder = h("form", { class: "filters", role: "search", "aria-label": "Find a SKU" }, h("label", { for: "find-sku" }, "SKU", find), h("button", { type: "submit" }, "Open"));
  finder.addEventListener("submit", (event) => {
    event.preventDefault();
    if (find.value.trim()) location.hash = `#/inventory/${encodeURIComponent(find.value.trim())}`;
  });
  const holder = h("div", { id: "stock-table" });
  const more = h("button", { type: "button", hidden: true }, "Show more");
  view.replaceChildren(
    h("h1", {}, all ? "Stock" : "Low stock"),
    h("p", { class: "muted" }, all ? "Every stock row." : "Rows at or below their reorder point. Days of cover = available units / units ordered a day over the last 30 days; red when shorter than the lead time."),
    h("div", { class: "toolbar" }, h("label", { class: "inline", for: "low-only" }, toggle, " Only rows at or below their reorder point"), finder),
    holder,
    more,
  );
  const stock = pagedRows({
    more,
    async fetchPage(nextToken) {
      const page = await call("/inventory", { query: { belowReorderPoint: all ? undefined : "true", limit: PAGE, nextToken } });
      const products = await productsOf(page.items.map((r) => r.sku));
      return { ...page, items: page.items.map((r) => ({ ...r, product: products.get(r.sku) })) };
    },
    draw(rows, hasMore) {
      holder.replaceChildren(
        rows.length
          ? table(all ? "Stock rows" : "Stock rows at or below their reorder point", COLUMNS, rows, { rowAttributes: (r) => ({ "data-sku": r.sku }) })
          : h("p", { class: "empty" }, all ? "No stock rows yet: import them from a CSV with the oms stock import command." : "Nothing is at or below its reorder point."),
      );
      announce(`${rows.length} stock rows shown${hasMore ? ", more available" : ""}.`);
    },
  });
  try {
    await stock.load();
  } catch (error) {
    holder.replaceChildren(failureNote("The stock rows", error)); // said once, where the rows would be
  }
}
