// #/orders?status=&fulfillmentChannel=&from=&to=: every order, filtered and paged by the API.
import { call } from "../api.js";
import { announce, dayBounds, dayIn, failureNote, h, pagedRows, routeQuery, table, when } from "../dom.js";
import { flagBadges, remainingUnits, statusText } from "../orders-common.js";
import { channel, orderStatus } from "../words.js";

const STATUSES = ["Pending", "Unshipped", "PartiallyShipped", "Shipped", "Canceled", "Unfulfillable", "InvoiceUnconfirmed", "PendingAvailability"];
const PAGE = 50;

const COLUMNS = [
  { label: "Order", cell: (o) => h("a", { href: `#/orders/${encodeURIComponent(o.orderId)}`, class: "order-id" }, o.orderId) },
  { label: "Status", cell: (o) => statusText(o) },
  { label: "Shipped by", cell: (o) => channel(o.fulfillmentChannel) },
  { label: "Purchased", cell: (o) => when(o.purchaseDate) },
  { label: "Latest ship date", cell: (o) => when(o.latestShipDate) },
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
  const day = value && !Number.isNaN(new Date(value).getTime()) ? dayIn(new Date(value)) : null;
  return h("label", { for: id }, label, h("input", { id, name, type: "date", value: day }));
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
    select("status", "Status", [["", "Any status"], ...STATUSES.map((s) => [s, orderStatus(s)])], filters.status),
    select("fulfillmentChannel", "Shipped by", [["", "Both"], ["MFN", channel("MFN")], ["AFN", channel("AFN")]], filters.fulfillmentChannel),
    dateInput("from", "Purchased from", filters.from),
    dateInput("to", "Purchased to", filters.to),
    h("button", { type: "submit" }, "Show"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = new URLSearchParams();
    for (const [key, value] of new FormData(form)) {
      if (!value) continue;
      // whole warehouse days: from the start of the first to the end of the last
      if (key === "from") values.set(key, dayBounds(value).from);
      else if (key === "to") values.set(key, dayBounds(value).to);
      else values.set(key, value);
    }
    location.hash = `#/orders${String(values) ? `?${values}` : ""}`;
  });
  const holder = h("div", {});
  const more = h("button", { type: "button", hidden: true }, "Show more");
  view.replaceChildren(h("h1", {}, "Orders"), form, holder, more);

  const orders = pagedRows({
    more,
    fetchPage: (nextToken) => call("/orders", { query: { ...filters, limit: PAGE, nextToken } }),
    draw(loaded, hasMore) {
      holder.replaceChildren(
        loaded.length ? table("Orders", COLUMNS, loaded, { rowAttributes: (o) => ({ "data-order-id": o.orderId }) }) : h("p", { class: "empty" }, "No orders match these filters."),
      );
      announce(`${loaded.length} orders shown${hasMore ? ", more available" : ""}.`);
    },
  });
  try {
    await orders.load();
  } catch (error) {
    holder.replaceChildren(failureNote("The orders", error)); // said once, under the filters, which stay to be put right
  }
}
