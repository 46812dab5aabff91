// #/queue: seller-fulfilled orders still to ship, late and at-risk first, a page at a time.
// The API sorts each status by latest ship date; the two statuses are merged here, and an order is shown
// only once no unfetched page could hold an earlier one (so "Show more" never reshuffles what is shown).
import { call } from "../api.js";
import { announce, endOfToday, formatTime, h, routeQuery, showError, table } from "../dom.js";
import { byUrgency, cutoffText, dueToday, flagBadges, isFlagged, itemsSummary, mustShipAt, OPEN_STATUSES } from "../orders-common.js";

const DEFAULT_PAGE = 50;

const COLUMNS = [
  { label: "Urgency", cell: (o) => h("span", { class: "badges" }, flagBadges(o, { withDueToday: true })) },
  { label: "Order", cell: (o) => h("a", { href: `#/orders/${encodeURIComponent(o.orderId)}` }, o.orderId) },
  {
    label: "Must ship by",
    cell: (o) =>
      mustShipAt(o)
        ? h("time", { datetime: mustShipAt(o) }, formatTime(mustShipAt(o), o.mustShipBy?.timeZone))
        : "–",
  },
  { label: "Pickup cutoff", cell: (o) => cutoffText(o, formatTime) },
  { label: "To ship", cell: (o) => itemsSummary(o) },
  { label: "Status", cell: (o) => (o.isPrime ? `${o.status} · Prime` : o.status) },
];

function sortKey(order) {
  return `${order.latestShipDate || ""}#${order.orderId}`; // the API's own order within a status
}

export async function render(view) {
  const query = routeQuery();
  const pageSize = Math.min(500, Math.max(1, Number(query.get("pageSize")) || DEFAULT_PAGE));
  const onlyToday = query.get("due") === "today";
  const streams = OPEN_STATUSES.map((status) => ({ status, items: [], nextToken: null, started: false }));
  const shown = new Set();

  const summary = h("p", { class: "summary", id: "queue-summary" }, "");
  const rowsHolder = h("div", { id: "queue-table" });
  const more = h("button", { type: "button", id: "queue-more", hidden: true }, "Show more");
  const dueBox = h("input", { type: "checkbox", id: "due-today", checked: onlyToday });
  dueBox.addEventListener("change", () => {
    const next = new URLSearchParams(query);
    if (dueBox.checked) next.set("due", "today");
    else next.delete("due");
    location.hash = `#/queue${String(next) ? `?${next}` : ""}`;
  });
  view.replaceChildren(
    h("h1", {}, "Ship-today queue"),
    h(
      "p",
      { class: "muted" },
      "Seller-fulfilled orders still to ship: late first, then at risk, then by the time they must leave the warehouse. Orders due by the end of today are highlighted.",
    ),
    h("div", { class: "toolbar" }, h("label", { class: "inline", for: "due-today" }, dueBox, " Only orders due by the end of today")),
    summary,
    rowsHolder,
    more,
  );

  let tbody = null;
  const visible = [];

  async function fetchPage(stream) {
    const params = { status: stream.status, fulfillmentChannel: "MFN", limit: pageSize, nextToken: stream.nextToken };
    if (onlyToday) params.shipBy = endOfToday(stream.items[0]?.mustShipBy?.timeZone).toISOString().replace(/\.\d+Z$/, "Z");
    const page = await call("/orders", { query: params });
    stream.items.push(...page.items);
    stream.nextToken = page.nextToken || null;
    stream.started = true;
  }

  function frontier() {
    // nothing later than the last fetched order of a status that has more pages can be shown yet
    let limit = null;
    for (const stream of streams) {
      if (!stream.nextToken) continue;
      const last = stream.items.length ? sortKey(stream.items[stream.items.length - 1]) : "";
      if (limit === null || last < limit) limit = last;
    }
    return limit;
  }

  function release() {
    const limit = frontier();
    const fresh = [];
    for (const stream of streams) {
      for (const order of stream.items) {
        if (shown.has(order.orderId)) continue;
        if (limit !== null && sortKey(order) > limit) continue;
        shown.add(order.orderId);
        fresh.push(order);
      }
    }
    return fresh;
  }

  async function load() {
    more.disabled = true;
    more.textContent = "Loading…";
    try {
      let fresh = [];
      for (let round = 0; round < 5 && fresh.length < pageSize; round += 1) {
        const pending = streams.filter((s) => !s.started || (s.nextToken && unshownCount(s) < pageSize));
        if (!pending.length) break;
        await Promise.all(pending.map(fetchPage));
        fresh = fresh.concat(release());
        if (!streams.some((s) => s.nextToken)) break;
      }
      fresh = fresh.concat(release());
      visible.push(...fresh);
      visible.sort(byUrgency);
      draw();
    } finally {
      more.disabled = false;
      more.textContent = "Show more";
      more.hidden = !streams.some((s) => s.nextToken) && streams.every((s) => s.items.every((o) => shown.has(o.orderId)));
    }
  }

  function unshownCount(stream) {
    return stream.items.filter((o) => !shown.has(o.orderId)).length;
  }

  function draw() {
    const rowAttributes = (o) => ({
      "data-order-id": o.orderId,
      class: [isFlagged(o, "late") && "row-late", isFlagged(o, "atRisk") && "row-risk", dueToday(o) && "row-today"].filter(Boolean).join(" ") || null,
    });
    if (!visible.length) {
      rowsHolder.replaceChildren(h("p", { class: "empty" }, onlyToday ? "Nothing is due by the end of today." : "No seller-fulfilled orders are waiting to ship."));
      tbody = null;
    } else {
      const built = table("Orders to ship, most urgent first", COLUMNS, visible, { rowAttributes });
      rowsHolder.replaceChildren(built);
      tbody = built.querySelector("tbody");
    }
    const late = visible.filter((o) => isFlagged(o, "late")).length;
    const risk = visible.filter((o) => isFlagged(o, "atRisk")).length;
    const today = visible.filter((o) => dueToday(o)).length;
    const moreToCome = streams.some((s) => s.nextToken) ? " (more below: Show more)" : "";
    const text = `${visible.length} order${visible.length === 1 ? "" : "s"} shown${moreToCome}: ${late} late, ${risk} at risk, ${today} due by the end of today.`;
    summary.textContent = text;
    announce(text);
  }

  more.addEventListener("click", async () => {
    const before = new Set(visible.map((o) => o.orderId));
    try {
      showError(null);
      await load();
      // keyboard users carry on from the first order that came in
      const firstNew = [...(tbody?.querySelectorAll("tr") || [])].find((tr) => !before.has(tr.dataset.orderId));
      firstNew?.querySelector("a")?.focus();
    } catch (error) {
      showError(error);
    }
  });

  await load();
}
