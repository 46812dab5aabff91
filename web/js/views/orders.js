// #/orders?status=&fulfillmentChannel=&from=&to=: every order, filtered and paged by the API.
import { call } from "../api.js";
import { announce, failureNote, formatTime, h, routeQuery, showError, table } from "../dom.js";
import { flagBadges, remainingUnits } from "../orders-common.js";

const STATUSES = ["Pending", "Unshipped", "PartiallyShipped", "Shipped", "Canceled", "Unfulfillable", "InvoiceUnconfirmed", "PendingAvailability"];
const PAGE = 50;

const COLUMNS = [
  { label: "Order", cell: (o) => h("a", { href: `#/orders/${encodeURIComponent(o.orderId)}` }, o.orderId) },
  { label: "Status", cell: (o) => o.status },
  { label: "Channel", cell: (o) => (o.fulfillmentChannel === "AFN" ? "Amazon (AFN)" : "Seller (MFN)") },
  { label: "Purchased", cell: (o) => formatTime(o.purchaseDate) },
  { label: "Latest ship date", cell: (o) => formatTime(o.latestShipDate) },
  { label: "Units to ship", cell: (o) => String(remainingUnits(o)) },
  { label: "Flags", cell: (o) => h("span", { class: "badges" }, flagBadges(o)) },
];

function select(name, label, options, value) {
  const id = `filter-${name}`;
  return h(
    "label",
    { for: id },
    label,
    h("select", { id, name }, options.map(([optionValue, text]) => h("option", { value: optionValue, selected: optionValue === value }, text))),
  );
}

function dateInput(name, label, value) {
  const id = `filter-${name}`;
  return h("label", { for: id }, label, h("input", { id, name, type: "date", value: value ? value.slice(0, 10) : null }));
}

export async function render(view) {
  const query = routeQuery();
  const filters = {
    status: query.get("status") || "",
    fulfillmentChannel: query.get("fulfillmentChannel") || "",
    from: query.get("from") || "",
    to: query.get("to") || "",
  };
  const form = h(
    "form",
    { class: "filters", "aria-label": "Order filters" },
    select("status", "Status", [["", "Any status"], ...STATUSES.map((s) => [s, s])], filters.status),
    select("fulfillmentChannel", "Channel", [["", "Both"], ["MFN", "Seller (MFN)"], ["AFN", "Amazon (AFN)"]], filters.fulfillmentChannel),
    dateInput("from", "Purchased from", filters.from),
    dateInput("to", "Purchased to", filters.to),
    h("button", { type: "submit" }, "Show"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = new URLSearchParams();
    for (const [key, value] of new FormData(form)) {
      if (!value) continue;
      // whole days in UTC: from the start of the first to the end of the last
      if (key === "from") values.set(key, `${value}T00:00:00Z`);
      else if (key === "to") values.set(key, `${value}T23:59:59Z`);
      else values.set(key, value);
    }
    location.hash = `#/orders${String(values) ? `?${values}` : ""}`;
  });
  const holder = h("div", {});
  const more = h("button", { type: "button", hidden: true }, "Show more");
  view.replaceChildren(h("h1", {}, "Orders"), form, holder, more);

  const loaded = [];
  let nextToken = null;
  async function load() {
    const page = await call("/orders", { query: { ...filters, limit: PAGE, nextToken } });
    loaded.push(...page.items);
    nextToken = page.nextToken || null;
    holder.replaceChildren(
      loaded.length ? table("Orders", COLUMNS, loaded, { rowAttributes: (o) => ({ "data-order-id": o.orderId }) }) : h("p", { class: "empty" }, "No orders match these filters."),
    );
    more.hidden = !nextToken;
    announce(`${loaded.length} orders shown${nextToken ? ", more available" : ""}.`);
  }
  more.addEventListener("click", () => {
    showError(null);
    load().catch(showError);
  });
  try {
    await load();
  } catch (error) {
    showError(error); // a bad filter keeps the form, so it can be put right
    holder.replaceChildren(failureNote("The orders", error));
  }
}
