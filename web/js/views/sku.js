// #/inventory/<sku>: one SKU's stock, its sales and stock over the last 90 days, and its latest movements.
// The charts come from the ledger (newest first): a few pages at most, never the whole history.
import { call } from "../api.js";
import { chartFigure } from "../charts.js";
import { announce, dayIn, failureNote, h, markInvalid, pagedRows, showError, table, when, whileBusy } from "../dom.js";
import { productSection } from "../product.js";
import { skuReturns } from "../sku-returns.js";
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

const LEDGER_SHOWN = 25;

// Reasons a seller records (the API's list); "out" reasons default to taking units out.
const REASONS = [
  ["receipt", "Received", "in"],
  ["damaged", "Damaged", "out"],
  ["lost", "Lost", "out"],
  ["found", "Found", "in"],
  ["count-correction", "Count correction", "in"],
  ["return-restock", "Return restocked", "in"],
  ["adjustment", "Other adjustment", "out"],
];

function factsOf(row) {
  const facts = [
    ["On hand", row.onHand],
    ["Reserved for orders", row.reserved],
    ["Available", row.available],
    ["Backordered", row.backordered],
    ["Inbound", row.inbound ?? "–"],
    ["On order (sent to suppliers, not yet received)", row.onOrder ?? 0],
    ["Reorder point", row.reorderPoint ?? "not set"],
    ["Safety stock", row.safetyStock ?? "not set"],
    ["Lead time", row.leadTimeDays !== null && row.leadTimeDays !== undefined ? `${row.leadTimeDays} days` : "not set"],
    ["Days of cover", daysOfCover(row)],
    ["Amazon (FBA)", row.fba ? Object.entries(row.fba).filter(([, v]) => typeof v === "number").map(([k, v]) => `${k} ${v}`).join(", ") || "–" : "–"],
    ["Updated", when(row.updatedAt)],
  ];
  return h("dl", { class: "facts", id: "stock-facts" }, facts.map(([term, value]) => [h("dt", {}, term), h("dd", { "data-fact": term }, value instanceof Node ? value : String(value))]));
}

export async function render(view, sku) {
  const row = await call(`/inventory/${encodeURIComponent(sku)}`);
  const charts = h("section", { "aria-labelledby": "charts-title", class: "charts" }, h("h2", { id: "charts-title" }, `Last ${DAYS} days`));
  const movements = h("section", { "aria-labelledby": "ledger-title", id: "ledger" }, h("h2", { id: "ledger-title" }, "Stock movements (ledger)"));
  const ledgerPages = ledgerTable(row.sku, movements);
  const facts = factsOf(row);
  view.replaceChildren(
    h("p", { class: "breadcrumb" }, h("a", { href: "#/inventory" }, "← Stock")),
    h("h1", {}, `SKU ${row.sku}`),
    h("p", { class: "muted" }, `Location ${row.location || "default"}`),
    facts,
    await productSection(row.sku),
    adjustmentForm(row, async (fresh) => {
      view.querySelector("#stock-facts").replaceWith(factsOf(fresh));
      await ledgerPages.reload();
    }),
    movements,
    charts,
    await skuReturns(row.sku),
  );
  await ledgerPages.reload();

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
  const drawn = [];
  try {
    drawn.push(await sales.draw(), await onHand.draw());
  } catch (error) {
    charts.append(failureNote("The charts", error));
  }
  return () => drawn.forEach((chart) => chart?.destroy());
}

/** The ledger, newest first, LEDGER_SHOWN a page; "Older movements" reads the next page from the API. */
function ledgerTable(sku, section) {
  const columns = [
    { label: "When", cell: (e) => when(e.at) },
    { label: "Reason", cell: (e) => ledgerReason(e.reason) },
    { label: "On hand", cell: (e) => signed(e.delta), className: "number" },
    { label: "Reserved", cell: (e) => signed(e.reservedDelta), className: "number" },
    { label: "Backordered", cell: (e) => signed(e.backorderedDelta), className: "number" },
    { label: "Reference", cell: (e) => referenceCell(e.reference) },
    { label: "Note", cell: (e) => e.note || "–" },
    { label: "By", cell: (e) => source(e.actor) },
  ];
  const body = h("div", {});
  const older = h("button", { type: "button", id: "ledger-older", hidden: true }, "Older movements");
  section.append(body, older);
  const movements = pagedRows({
    more: older,
    fetchPage: (nextToken) => call(`/inventory/${encodeURIComponent(sku)}/ledger`, { query: { limit: LEDGER_SHOWN, nextToken } }),
    draw: (rows) => body.replaceChildren(rows.length ? table("Stock movements", columns, rows) : h("p", { class: "empty" }, "No movements yet.")),
    onMore: () => announce("Older movements shown."),
  });

  async function reload() {
    try {
      await movements.restart();
    } catch (error) {
      body.replaceChildren(failureNote("The ledger", error));
    }
  }
  return { reload };
}

/** Record the shelf as it is: units in or out, why, and a note; reserved units may be taken (orders go short). */
export function adjustmentForm(row, done) {
  const reason = h("select", { id: "adjust-reason", name: "reason", required: true }, REASONS.map(([value, label]) => h("option", { value }, label)));
  const direction = h(
    "select",
    { id: "adjust-direction", name: "direction" },
    h("option", { value: "in" }, "into stock (+)"),
    h("option", { value: "out" }, "out of stock (−)"),
  );
  const units = h("input", { id: "adjust-units", name: "delta", type: "number", inputmode: "numeric", min: "1", step: "1", required: true, value: "1" });
  const note = h("input", { id: "adjust-note", name: "note", maxlength: "500", autocomplete: "off", placeholder: "e.g. carton dropped at receiving" });
  const reference = h("input", { id: "adjust-reference", name: "reference", maxlength: "200", autocomplete: "off", placeholder: "e.g. PO-1042" });
  const problem = h("p", { id: "adjust-problem", class: "failure", role: "alert", hidden: true });
  const result = h("p", { id: "adjust-done", class: "ok", role: "status", hidden: true });
  const submit = h("button", { type: "submit", class: "primary" }, "Record adjustment");
  reason.addEventListener("change", () => {
    direction.value = REASONS.find(([value]) => value === reason.value)?.[2] || "in";
  });
  direction.value = REASONS[0][2];
  // One Idempotency-Key per adjustment, not per click: sent again (the same figures, after an error or no
  // answer) it keeps its key, so an adjustment that was recorded but whose answer was lost is not recorded twice.
  let pending = null; // { sent: the body as JSON, key }
  const keyFor = (body) => {
    const sent = JSON.stringify(body);
    if (!pending || pending.sent !== sent) pending = { sent, key: newKey() };
    return pending.key;
  };
  const form = h(
    "form",
    { id: "adjust-form", class: "stacked", "aria-describedby": "adjust-problem", novalidate: true },
    h(
      "fieldset",
      {},
      h("legend", {}, "Record the shelf as it is"),
      h("label", { for: "adjust-reason" }, "Reason", reason),
      h("label", { for: "adjust-direction" }, "Direction", direction),
      h("label", { for: "adjust-units" }, "Units", units),
      h("label", { for: "adjust-note" }, "Note (optional)", note),
      h("label", { for: "adjust-reference" }, "Reference (optional)", reference),
    ),
    h("p", { class: "hint" }, "Damaged, lost or miscounted units can be recorded even when orders hold them: those orders show as short until stock arrives."),
    problem,
    result,
    h("div", { class: "buttons" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.hidden = true;
    result.hidden = true;
    markInvalid(form);
    const count = Number(units.value);
    if (!Number.isInteger(count) || count < 1) {
      problem.textContent = "Enter a whole number of units, 1 or more.";
      problem.hidden = false;
      units.setAttribute("aria-invalid", "true");
      units.focus();
      return;
    }
    const body = { delta: direction.value === "out" ? -count : count, reason: reason.value };
    if (note.value.trim()) body.note = note.value.trim();
    if (reference.value.trim()) body.reference = reference.value.trim();
    if ((row.location || "default") !== "default") body.location = row.location;
    const key = keyFor(body);
    try {
      await whileBusy(submit, null, async () => {
        const answer = await call(`/inventory/${encodeURIComponent(row.sku)}/adjustments`, {
          method: "POST",
          body,
          headers: { "Idempotency-Key": key },
        });
        pending = null; // recorded: the next adjustment, even with the same figures, is a new one
        showError(null);
        const fresh = answer.stock;
        const text = `Recorded ${signed(body.delta)} ${reason.selectedOptions[0].textContent.toLowerCase()}: ${fresh.onHand} on hand, ${fresh.available} available, ${fresh.backordered} backordered.`;
        note.value = "";
        reference.value = "";
        await done(fresh); // the figures and the ledger first, so the message describes what is shown
        result.textContent = text;
        result.hidden = false;
        announce(text);
      });
    } catch (error) {
      problem.textContent = error.message;
      problem.hidden = false;
      showError(error);
      markInvalid(form, error.details || []);
    }
  });
  return h("section", { "aria-labelledby": "adjust-title" }, h("h2", { id: "adjust-title" }, "Adjust stock"), form);
}

/** A random Idempotency-Key; randomUUID needs a secure context (https, localhost), getRandomValues does not. */
function newKey() {
  if (globalThis.crypto?.randomUUID) return globalThis.crypto.randomUUID();
  return Array.from(globalThis.crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
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
