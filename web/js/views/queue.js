// #/queue: seller-fulfilled orders still to ship, late and at-risk first, a page at a time.
// The API sorts each status by latest ship date; the two statuses are merged here, and an order is shown
// only once no unfetched page could hold an earlier one (so "Show more" never reshuffles what is shown).
// Orders shown can be ticked and grouped into a pick batch (POST /batches): a pick list and packing slips.
import { documentUrl } from "../links.js";
import { call } from "../api.js";
import { announce, endOfToday, h, routeQuery, showError, table, when, whileBusy } from "../dom.js";
import { byUrgency, cutoffText, dueToday, flagBadges, isFlagged, itemsSummary, mustShipAt, OPEN_STATUSES, ruleBadges, statusText } from "../orders-common.js";

const DEFAULT_PAGE = 50;
const MAX_BATCH = 25; // the API's limit: a pick cart's worth

// exported for the page's own tests (tests/browser/test_queue_columns.py)
export const COLUMNS = [
  // urgency only: late, at risk, short, ship today, on hold; what the rules chose has a column of its own
  { label: "Urgency", cell: (o) => h("span", { class: "badges" }, flagBadges(o, { withDueToday: true, withRules: false })) },
  { label: "Order", cell: (o) => h("a", { href: `#/orders/${encodeURIComponent(o.orderId)}`, class: "order-id" }, o.orderId) },
  {
    label: "Must ship by",
    cell: (o) => when(mustShipAt(o), o.mustShipBy?.timeZone),
  },
  { label: "Pickup cutoff", cell: (o) => cutoffText(o) },
  { label: "To ship", cell: (o) => itemsSummary(o) },
  { label: "Status", cell: (o) => statusText(o) },
  { label: "Set by your rules", cell: (o) => (ruleBadges(o).length ? h("span", { class: "badges" }, ruleBadges(o)) : "–") },
  {
    label: "Batch",
    cell: (o) => (o.batch ? h("a", { href: `#/batches/${encodeURIComponent(o.batch.batchId)}`, class: "batch-link" }, o.batch.batchId) : "–"),
  },
];

/** The column of tick boxes: each labelled with its order id, ticked while the order is selected. */
function selectColumn(selected, onToggle) {
  return {
    label: "Select",
    className: "select-cell",
    cell: (o) => {
      const box = h("input", {
        type: "checkbox",
        class: "select-order",
        "data-order-id": o.orderId,
        "aria-label": `Select order ${o.orderId}`,
        checked: selected.has(o.orderId),
      });
      box.addEventListener("change", () => onToggle(o.orderId, box.checked));
      return box;
    },
  };
}

function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

function sortKey(order) {
  return `${order.latestShipDate || ""}#${order.orderId}`; // the API's own order within a status
}

function warehouseEndOfToday() {
  return endOfToday().toISOString().replace(/\.\d+Z$/, "Z"); // the warehouse's day (dom.js knows its zone)
}

export async function render(view) {
  const query = routeQuery();
  const pageSize = Math.min(500, Math.max(1, Number(query.get("pageSize")) || DEFAULT_PAGE));
  const onlyToday = query.get("due") === "today";
  const streams = OPEN_STATUSES.map((status) => ({ status, items: [], nextToken: null, started: false }));
  // "due today" is the warehouse's today, fixed for every page (the API's page tokens belong to one query)
  const shipBy = onlyToday ? warehouseEndOfToday() : null;
  const shown = new Set();
  const selected = new Set(); // order ids ticked for a pick batch (sent in queue order)

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
  const allBox = h("input", { type: "checkbox", id: "select-all" });
  const selectedText = h("span", { id: "batch-selected", class: "hint" }, "");
  const makeBatch = h("button", { type: "button", id: "make-batch", class: "primary", "aria-describedby": "batch-selected" }, "Make pick batch");
  const batchProblem = h("p", { id: "batch-problem", class: "failure", role: "alert", hidden: true }, "");
  const batchResult = h("section", { id: "batch-result", class: "batch-result", "aria-labelledby": "batch-result-title", hidden: true });
  const batchBar = h(
    "div",
    { class: "toolbar batch-bar", id: "batch-bar", hidden: true },
    h("label", { class: "inline", for: "select-all" }, allBox, " Select all shown"),
    makeBatch,
    selectedText,
  );
  view.replaceChildren(
    h("h1", {}, "Ship-today queue"),
    h(
      "p",
      { class: "muted" },
      "Seller-fulfilled orders still to ship: late first, then at risk, then by the time they must leave the warehouse. Orders due by the end of today are highlighted.",
    ),
    h("div", { class: "toolbar" }, h("label", { class: "inline", for: "due-today" }, dueBox, " Only orders due by the end of today")),
    summary,
    batchBar,
    batchProblem,
    batchResult,
    rowsHolder,
    more,
  );

  function syncSelection() {
    const ids = visible.map((o) => o.orderId);
    for (const id of [...selected]) if (!ids.includes(id)) selected.delete(id);
    const ticked = ids.filter((id) => selected.has(id)).length;
    allBox.checked = ids.length > 0 && ticked === ids.length;
    allBox.indeterminate = ticked > 0 && ticked < ids.length;
    const over = selected.size > MAX_BATCH;
    selectedText.textContent = `${selected.size} selected (at most ${MAX_BATCH} a batch${over ? ": make several batches" : ""}).`;
    selectedText.classList.toggle("warning", over);
    batchBar.hidden = ids.length === 0;
  }

  function toggle(orderId, on) {
    if (on) selected.add(orderId);
    else selected.delete(orderId);
    syncSelection();
  }

  const columns = [selectColumn(selected, toggle), ...COLUMNS];

  allBox.addEventListener("change", () => {
    for (const o of visible) {
      if (allBox.checked) selected.add(o.orderId);
      else selected.delete(o.orderId);
    }
    for (const box of rowsHolder.querySelectorAll("input.select-order")) box.checked = selected.has(box.dataset.orderId);
    syncSelection();
  });

  function showBatch(batch) {
    const orderCount = (batch.orderIds || []).length;
    const units = (batch.lines || []).reduce((sum, line) => sum + (Number(line.units) || 0), 0);
    const link = (url, text, id) =>
      documentUrl(url) ? h("a", { href: documentUrl(url), target: "_blank", rel: "noopener", id, class: "button-link" }, text) : h("span", { class: "muted" }, `${text}: not available`);
    const title = h("h2", { id: "batch-result-title", tabindex: "-1" }, `Pick batch ${batch.batchId}`);
    batchResult.replaceChildren(
      title,
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Batch"),
        h("dd", { id: "batch-id" }, batch.batchId),
        h("dt", {}, "Orders"),
        h("dd", { id: "batch-orders" }, plural(orderCount, "order"), h("span", { class: "muted" }, ` (${(batch.orderIds || []).join(", ")})`)),
        h("dt", {}, "Units to pick"),
        h("dd", { id: "batch-units" }, plural(units, "unit"), ` on ${plural((batch.lines || []).length, "pick-list line")}`),
        h("dt", {}, "Made"),
        h("dd", {}, when(batch.createdAt)),
      ),
      h(
        "p",
        { class: "buttons" },
        link(batch.pickListUrl, "Pick list (PDF)", "batch-pick-list"),
        link(batch.packingSlipsUrl, "Packing slips (PDF)", "batch-packing-slips"),
      ),
      h("p", { class: "hint" }, "Each document opens in a new tab. The orders stay in the queue until they are shipped."),
    );
    batchResult.hidden = false;
    const text = `Pick batch ${batch.batchId} made: ${plural(orderCount, "order")}, ${plural(units, "unit")}. Pick list and packing slips are ready.`;
    announce(text);
    title.focus();
  }

  // An order already in a batch is refused (409 naming the batch): the seller may batch it again anyway.
  const forceBatch = h("button", { type: "button", id: "force-batch", hidden: true }, "Batch them again anyway");
  batchProblem.after(forceBatch);
  forceBatch.addEventListener("click", () => sendBatch(true));
  makeBatch.addEventListener("click", () => sendBatch(false));

  async function sendBatch(force) {
    batchProblem.hidden = true;
    forceBatch.hidden = true;
    const orderIds = visible.map((o) => o.orderId).filter((id) => selected.has(id)); // in queue order
    if (!orderIds.length) {
      batchProblem.textContent = "Select at least one order for the pick batch.";
      batchProblem.hidden = false;
      rowsHolder.querySelector("input.select-order")?.focus();
      return;
    }
    try {
      const batch = await whileBusy(makeBatch, "Making the batch…", () => call("/batches", { method: "POST", body: force ? { orderIds, force: true } : { orderIds } }));
      showError(null);
      selected.clear();
      for (const box of rowsHolder.querySelectorAll("input.select-order")) box.checked = false;
      for (const order of visible) if (batch.orderIds.includes(order.orderId)) order.batch = { batchId: batch.batchId, createdAt: batch.createdAt };
      draw();
      showBatch(batch);
    } catch (error) {
      batchProblem.textContent = error.message || String(error); // said here, by the button, not in the banner too
      batchProblem.hidden = false;
      forceBatch.hidden = !(error.status === 409 && /already in a pick batch/.test(error.apiMessage || ""));
    }
  }

  let tbody = null;
  const visible = [];

  async function fetchPage(stream) {
    const params = { status: stream.status, fulfillmentChannel: "MFN", limit: pageSize, nextToken: stream.nextToken };
    if (shipBy) params.shipBy = shipBy;
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

  // The queue merges a page of each open status by urgency, so it pages itself rather than with pagedRows.
  async function load() {
    try {
      await whileBusy(more, "Loading…", async () => {
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
      });
    } finally {
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
      const built = table("Orders to ship, most urgent first", columns, visible, { rowAttributes });
      rowsHolder.replaceChildren(built);
      tbody = built.querySelector("tbody");
    }
    const late = visible.filter((o) => isFlagged(o, "late")).length;
    const risk = visible.filter((o) => isFlagged(o, "atRisk")).length;
    const today = visible.filter((o) => dueToday(o)).length;
    const moreToCome = streams.some((s) => s.nextToken) ? " (more below: Show more)" : "";
    const text = `${visible.length} order${visible.length === 1 ? "" : "s"} shown${moreToCome}: ${late} late, ${risk} at risk, ${today} due by the end of today.`;
    summary.textContent = text;
    syncSelection();
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
