// #/inventory/<sku>: one SKU's stock, its sales and stock over the last 90 days, and its latest movements.
// The charts come from the ledger (newest first): a few pages at most, never the whole history.
import { call } from "../api.js";
import { chartFigure } from "../charts.js";
import { dayIn, failureNote, h, table, when } from "../dom.js";
import { daysOfCover, ledgerReason, source } from "../words.js";

const DAYS = 90;
const LEDGER_PAGE = 200;
const LEDGER_PAGES = 5;

function dayOf(date) {
  return dayIn(date); // YYYY-MM-DD in the warehouse's zone
}

/** The last DAYS warehouse days, oldest first, as YYYY-MM-DD. */
function lastDays(now = new Date()) {
  const days = [];
  for (let back = DAYS - 1; back >= 0; back -= 1) {
    const day = dayOf(new Date(now.getTime() - back * 86400_000));
    if (days[days.length - 1] !== day) days.push(day);
  }
  return days;
}

async function recentLedger(sku) {
  const since = Date.now() - DAYS * 86400_000;
  const entries = [];
  let nextToken = null;
  let complete = false;
  for (let page = 0; page < LEDGER_PAGES; page += 1) {
    const answer = await call(`/inventory/${encodeURIComponent(sku)}/ledger`, { query: { limit: LEDGER_PAGE, nextToken } });
    entries.push(...answer.items);
    nextToken = answer.nextToken;
    const oldest = answer.items[answer.items.length - 1];
    if (!nextToken || (oldest && new Date(oldest.at).getTime() < since)) {
      complete = true;
      break;
    }
  }
  return { entries, complete };
}

/** Units ordered per day, as days of cover counts demand (oms.domain.cover): an order's new need, plus units it shipped unheld. */
export function unitsOrderedPerDay(entries, days) {
  const perDay = Object.fromEntries(days.map((d) => [d, 0]));
  for (const entry of entries) {
    if (entry.reason !== "reservation" && entry.reason !== "shipment") continue;
    const units = (entry.reservedDelta || 0) + (entry.backorderedDelta || 0) - (entry.delta || 0);
    const day = dayOf(new Date(entry.at));
    if (units > 0 && day in perDay) perDay[day] += units;
  }
  return days.map((d) => perDay[d]);
}

/** On hand at the end of each day, walked back from today's figure through the ledger's deltas. */
export function onHandPerDay(onHand, entries, days) {
  const newestFirst = [...entries].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  const values = [];
  let level = onHand;
  let index = 0;
  for (let d = days.length - 1; d >= 0; d -= 1) {
    // undo every movement made after this day
    while (index < newestFirst.length && dayOf(new Date(newestFirst[index].at)) > days[d]) {
      level -= newestFirst[index].delta || 0;
      index += 1;
    }
    values[d] = level;
  }
  return values;
}

export async function render(view, sku) {
  const row = await call(`/inventory/${encodeURIComponent(sku)}`);
  const facts = [
    ["On hand", row.onHand],
    ["Reserved for orders", row.reserved],
    ["Available", row.available],
    ["Backordered", row.backordered],
    ["Inbound", row.inbound ?? "–"],
    ["Reorder point", row.reorderPoint ?? "not set"],
    ["Safety stock", row.safetyStock ?? "not set"],
    ["Lead time", row.leadTimeDays !== null && row.leadTimeDays !== undefined ? `${row.leadTimeDays} days` : "not set"],
    ["Days of cover", daysOfCover(row)],
    ["Amazon (FBA)", row.fba ? Object.entries(row.fba).filter(([, v]) => typeof v === "number").map(([k, v]) => `${k} ${v}`).join(", ") || "–" : "–"],
    ["Updated", when(row.updatedAt)],
  ];
  const charts = h("section", { "aria-labelledby": "charts-title", class: "charts" }, h("h2", { id: "charts-title" }, `Last ${DAYS} days`));
  const movements = h("section", { "aria-labelledby": "ledger-title" }, h("h2", { id: "ledger-title" }, "Latest stock movements"));
  view.replaceChildren(
    h("p", { class: "breadcrumb" }, h("a", { href: "#/inventory" }, "← Stock")),
    h("h1", {}, `SKU ${row.sku}`),
    h("p", { class: "muted" }, `Location ${row.location || "default"}`),
    h("dl", { class: "facts" }, facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value instanceof Node ? value : String(value))])),
    charts,
    movements,
  );

  let ledger;
  try {
    ledger = await recentLedger(row.sku);
  } catch (error) {
    charts.append(failureNote("The stock movements", error)); // said once, where the charts would be
    return undefined;
  }
  const here = ledger.entries.filter((e) => (e.location || "default") === (row.location || "default"));
  const days = lastDays();
  const sold = unitsOrderedPerDay(here, days);
  const stock = onHandPerDay(row.onHand, here, days);
  const totalSold = sold.reduce((a, b) => a + b, 0);
  const sales = chartFigure({
    id: "sales-chart",
    title: "Units ordered per day",
    summary: `${totalSold} units ordered in ${DAYS} days${ledger.complete ? "" : " (older movements not read)"}`,
    type: "bar",
    labels: days,
    series: sold,
    valueLabel: "Units ordered",
  });
  const onHand = chartFigure({
    id: "stock-chart",
    title: "On hand at the end of each day",
    summary: `${row.onHand} on hand today, lowest ${Math.min(...stock)}, highest ${Math.max(...stock)}`,
    type: "line",
    labels: days,
    series: stock,
    valueLabel: "On hand",
    stepped: true,
  });
  charts.append(sales.element, onHand.element);
  const columns = [
    { label: "When", cell: (e) => when(e.at) },
    { label: "Reason", cell: (e) => ledgerReason(e.reason) },
    { label: "By", cell: (e) => source(e.actor) },
    { label: "On hand", cell: (e) => signed(e.delta), className: "number" },
    { label: "Reserved", cell: (e) => signed(e.reservedDelta), className: "number" },
    { label: "Backordered", cell: (e) => signed(e.backorderedDelta), className: "number" },
    { label: "Reference", cell: (e) => referenceCell(e.reference) },
  ];
  movements.append(ledger.entries.length ? table("Latest stock movements", columns, ledger.entries.slice(0, 50)) : h("p", { class: "empty" }, "No movements yet."));
  const drawn = [];
  try {
    drawn.push(await sales.draw(), await onHand.draw());
  } catch (error) {
    charts.append(failureNote("The charts", error));
  }
  return () => drawn.forEach((chart) => chart?.destroy());
}

function signed(value) {
  if (!value) return "0";
  return value > 0 ? `+${value}` : String(value);
}

function referenceCell(reference) {
  if (!reference) return "–";
  // order ids look like 123-1234567-1234567
  return /^\d{3}-\d{7}-\d{7}$/.test(reference) ? h("a", { href: `#/orders/${encodeURIComponent(reference)}` }, reference) : reference;
}
