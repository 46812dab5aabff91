// #/planning: what to reorder now (last night's plans), and #/planning/<sku>: one SKU's history, forecast and
// the figures behind its reorder point, each with its formula and inputs.
import { call } from "../api.js";
import { chartFigure } from "../charts.js";
import { announce, h, pagedRows, percent, showError, table, when, whileBusy } from "../dom.js";

const HISTORY_SHOWN = 90; // days of history on the chart, before the forecast

function skuLink(sku) {
  return h("a", { href: `#/planning/${encodeURIComponent(sku)}` }, sku);
}

function lookUp() {
  const input = h("input", { id: "plan-sku", name: "sku", required: true, autocomplete: "off", maxlength: "200" });
  return h(
    "form",
    {
      class: "inline-form",
      id: "plan-lookup",
      onsubmit: (event) => {
        event.preventDefault();
        const sku = input.value.trim();
        if (sku) location.hash = `#/planning/${encodeURIComponent(sku)}`;
      },
    },
    h("label", { for: "plan-sku" }, "A SKU's plan"),
    input,
    h("button", { type: "submit" }, "Show"),
  );
}

const SUGGESTION_COLUMNS = [
  { label: "SKU", cell: (s) => skuLink(s.sku) },
  { label: "Order", cell: (s) => h("strong", {}, `${s.orderQuantity} units`) },
  { label: "Available", cell: (s) => String(s.available) },
  { label: "On order", cell: (s) => String(s.onOrder), className: "secondary" },
  { label: "Reorder point", cell: (s) => String(s.reorderPoint) },
  { label: "Safety stock", cell: (s) => String(s.safetyStock), className: "secondary" },
  { label: "Lead time", cell: (s) => `${s.leadTimeDays} days`, className: "secondary" },
  { label: "Why", cell: (s) => s.why, className: "secondary" },
];

const MAX_PO_LINES = 50; // the API's limit on a purchase order's lines

// One key per supplier and set of lines for as long as the page is open: a double click, or a retry after a
// lost answer, makes one draft (the API answers a repeated Idempotency-Key with the draft it made).
function draftKey(keys, supplierId, lines) {
  const what = `${supplierId}|${JSON.stringify(lines)}`;
  if (!keys.has(what)) {
    const random = globalThis.crypto?.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
    keys.set(what, `reorder-draft-${random}`);
  }
  return keys.get(what);
}

// Pages of the reorder list can split a supplier's SKUs; the page shows each supplier once.
function mergeGroups(groups) {
  const merged = new Map();
  for (const group of groups) {
    const id = group.supplierId || "";
    const into = merged.get(id);
    if (into) into.items = [...into.items, ...group.items];
    else merged.set(id, { ...group, items: [...group.items] });
  }
  return [...merged.values()];
}

// "Draft a purchase order": the group's SKUs at their suggested quantities, then the draft's page.
function draftButton(group, keys) {
  if (!group.supplierId) {
    return h("p", { class: "muted" }, "Set a supplier's terms for these SKUs on the ", h("a", { href: "#/suppliers" }, "Suppliers"), " page to draft a purchase order for them.");
  }
  const lines = group.items.filter((s) => s.orderQuantity > 0).map((s) => ({ sku: s.sku, quantity: s.orderQuantity }));
  const button = h("button", { type: "button", class: "draft-po", "data-supplier": group.supplierId }, "Draft a purchase order");
  if (lines.length > MAX_PO_LINES) {
    button.disabled = true;
    return h("p", {}, button, h("span", { class: "muted" }, ` ${lines.length} SKUs: a purchase order holds at most ${MAX_PO_LINES} lines; make them on the Purchase orders page.`));
  }
  button.addEventListener("click", async () => {
    showError(null);
    try {
      const po = await whileBusy(button, "Drafting…", () =>
        call("/purchase-orders", {
          method: "POST",
          headers: { "Idempotency-Key": draftKey(keys, group.supplierId, lines) },
          body: { supplierId: group.supplierId, lines },
        }),
      );
      location.hash = `#/purchase-orders/${encodeURIComponent(po.poId)}`;
    } catch (error) {
      showError(error);
    }
  });
  const units = lines.reduce((sum, line) => sum + line.quantity, 0);
  return h("p", {}, button, h("span", { class: "muted" }, ` ${lines.length} SKUs, ${units} units, as a draft you can change before sending.`));
}

const PROBLEM_WORDS = { "stockout-risk": "Runs out before an order could arrive", "aged-stock": "Far more than needed" };

const HEALTH_COLUMNS = [
  { label: "SKU", cell: (s) => skuLink(s.sku) },
  { label: "Problem", cell: (s) => PROBLEM_WORDS[s.problem] || s.problem },
  { label: "Available", cell: (s) => String(s.available) },
  { label: "Lasts", cell: (s) => (s.runsOutOn ? `${s.coverDays} days (to ${s.runsOutOn})` : "no end forecast") },
  { label: "Lead time", cell: (s) => `${s.leadTimeDays} days`, className: "secondary" },
  { label: "What to do", cell: (s) => h("ul", { class: "advice" }, s.advice.map((a) => h("li", { "data-action": a.action }, a.text))) },
];

const HEALTH_PAGE_ROWS = 500;
const HEALTH_PAGES = 10;

// Too much, too little: last night's plans read against the stock (GET /planning/stock-health), page by page.
async function stockHealth(priceSwitch) {
  const holder = h("section", { id: "stock-health", "aria-labelledby": "stock-health-title" }, h("h2", { id: "stock-health-title" }, "Too much, too little"), priceSwitch);
  // a page is 500 stock rows, problems or not: read on (up to HEALTH_PAGES) rather than call the first
  // quiet page "nothing to do" while later rows run out
  let answer = await call("/planning/stock-health", { query: { limit: HEALTH_PAGE_ROWS } });
  const items = [...answer.items];
  let read = 1;
  while (answer.nextToken && read < HEALTH_PAGES) {
    answer = await call("/planning/stock-health", { query: { limit: HEALTH_PAGE_ROWS, nextToken: answer.nextToken } });
    items.push(...answer.items);
    read += 1;
  }
  answer = { ...answer, items };
  if (!answer.items.length) {
    holder.append(
      h(
        "p",
        { id: "stock-health-none" },
        answer.nextToken
          ? `None of the first ${read * HEALTH_PAGE_ROWS} stock rows runs out within its lead time or has more than three times the stock an order is meant to cover; the rows after them are not read here.`
          : "No SKU runs out within its lead time, and none has more than three times the stock an order is meant to cover.",
      ),
    );
    return holder;
  }
  holder.append(
    h("p", { class: "muted" }, `Days are the warehouse's (${answer.timeZone}). Price and promotion ideas are hints: nothing here changes a price.`),
    table("Aged stock and stockout risks", HEALTH_COLUMNS, answer.items, { rowAttributes: (s) => ({ "data-health-sku": s.sku, "data-problem": s.problem }) }),
  );
  if (answer.pricesUnavailable) holder.append(h("p", { class: "muted", id: "prices-unavailable" }, "Amazon's prices could not be read just now (Amazon allows one look every 30 seconds): the hints are in words."));
  if (answer.nextToken) holder.append(h("p", { class: "muted" }, `The first ${read * HEALTH_PAGE_ROWS} stock rows only: more SKUs are planned.`));
  return holder;
}

const SEND_COLUMNS = [
  { label: "SKU", cell: (s) => skuLink(s.sku) },
  { label: "Send", cell: (s) => h("strong", {}, `${s.units} units`) },
  { label: "Fulfillable at Amazon", cell: (s) => String(s.fulfillable) },
  { label: "Inbound", cell: (s) => String(s.inbound), className: "secondary" },
  { label: "Reserved", cell: (s) => String(s.reserved), className: "secondary" },
  { label: "Why", cell: (s) => `${s.inputs.forecastDemand} units forecast over ${s.inputs.inboundLeadTimeDays} + ${s.inputs.coverTargetDays} days, less fulfillable and inbound`, className: "secondary" },
];

function sendToAmazon(items) {
  if (!items.length) return h("p", { id: "send-none", class: "muted" }, "Amazon holds enough of every FBA SKU for now.");
  return table("Send to Amazon", SEND_COLUMNS, items, { rowAttributes: (s) => ({ "data-send-sku": s.sku }) });
}

// The seller's permission for Amazon's prices in the hints (off by default); the rest of the settings kept.
function priceHintsSwitch(onChange) {
  // Off and unusable until the saved setting is read, so a click never races the read that sets it.
  const box = h("input", { type: "checkbox", id: "price-hints", disabled: true });
  const form = h("p", {}, box, h("label", { for: "price-hints" }, " Show Amazon's prices beside the price hints (one call to Amazon per look; prices are never changed here)"));
  call("/planning/settings").then((settings) => {
    box.checked = Boolean(settings.priceHints);
    box.disabled = false;
  }).catch(showError);
  box.addEventListener("change", async () => {
    const wanted = box.checked;
    showError(null);
    try {
      await whileBusy(box, null, async () => {
        const settings = await call("/planning/settings");
        await call("/planning/settings", { method: "PUT", body: { ...settings, priceHints: wanted } });
      });
      announce(wanted ? "Amazon's prices will be shown beside the hints." : "The hints stay in words.");
      await onChange();
    } catch (error) {
      box.checked = !wanted;
      showError(error);
    }
  });
  return form;
}

async function renderReorder(view) {
  // each section says it is being read until its answer arrives (last night's plans can take seconds)
  const reading = () => h("p", { class: "muted" }, "Reading last night's plans…");
  const list = h("div", { id: "reorder-groups" }, reading());
  const more = h("button", { type: "button", id: "reorder-more", hidden: true }, "Show more");
  const keys = new Map();
  const send = h("div", { id: "send-to-amazon" }, reading());
  view.replaceChildren(
    h("h1", {}, "Planning"),
    h("p", { class: "muted" }, "Each night every SKU gets a forecast from its own orders, a safety stock and a reorder point. These SKUs have fallen to their reorder point: what they have available plus what is on order no longer covers the lead time."),
    lookUp(),
    h("h2", {}, "Reorder now"),
    list,
    more,
    h("h2", {}, "Send to Amazon"),
    h("p", { class: "muted" }, "FBA SKUs whose units at Amazon and on their way will not cover the check-in time and the cover target: send these from your shelf."),
    send,
  );
  const health = h("div", { id: "stock-health-holder" }, h("h2", {}, "Too much, too little"), reading());
  let priceSwitch = null;
  const drawHealth = async () => health.replaceChildren(await stockHealth(priceSwitch));
  priceSwitch = priceHintsSwitch(drawHealth);
  view.append(health);
  const healthDrawn = drawHealth().catch(showError); // read beside the suggestions, not before them
  const paged = pagedRows({
    more,
    fetchPage: async (nextToken) => {
      const answer = await call("/planning/reorder", { query: { limit: 100, nextToken } });
      if (!nextToken) send.replaceChildren(sendToAmazon(answer.sendToAmazon || []));
      return { items: answer.groups, nextToken: answer.nextToken };
    },
    draw: (groups) => {
      if (!groups.length) {
        list.replaceChildren(h("p", { id: "reorder-none" }, "Nothing to reorder: every planned SKU's available stock and units on order cover its reorder point."));
        return;
      }
      list.replaceChildren(
        ...mergeGroups(groups).map((group) =>
          h(
            "section",
            { class: "reorder-group", "data-supplier": group.supplierId || "" },
            h("h3", {}, group.supplierName),
            draftButton(group, keys),
            table(`Reorder suggestions: ${group.supplierName}`, SUGGESTION_COLUMNS, group.items, { rowAttributes: (s) => ({ "data-sku": s.sku }) }),
          ),
        ),
      );
    },
  });
  await paged.load();
  await healthDrawn;
  const count = list.querySelectorAll("tr[data-sku]").length;
  announce(count ? `${count} SKUs to reorder.` : "Nothing to reorder.");
}

// The figures' inputs in the seller's words (the API names them in camelCase).
const INPUT_WORDS = {
  dailyDemand: "Daily demand (forecast, units)",
  dailyDemandSd: "Daily demand spread (sd, units)",
  leadTimeDays: "Lead time (days)",
  leadTimeSdDays: "Lead time spread (sd, days)",
  leadTimeSource: "Lead time from",
  demandOverLeadTime: "Demand over the lead time",
  demandOverReview: "Demand over the review period",
  spikeCap: "One-off spikes capped at (units a day)",
  safetyStock: "Safety stock",
  serviceLevel: "Service level",
  z: "z (standard normal)",
  coverDays: "Days an order must cover",
  reviewDays: "Review period (days)",
  targetDays: "Days-of-stock target",
  forecastDemand: "Forecast demand over those days",
  onHand: "On hand",
  onOrder: "On order",
  backorders: "Backorders",
  beforeRounding: "Before rounding",
  casePack: "Case pack",
  minimumOrderQuantity: "Minimum order",
};

function figureFacts(id, title, figure) {
  const inputs = Object.entries(figure.inputs || {})
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([name, value]) => [INPUT_WORDS[name] || name, name === "serviceLevel" ? percent(value, 0) : value]);
  return h(
    "article",
    { class: "plan-figure", id, "aria-labelledby": `${id}-title` },
    h("h3", { id: `${id}-title` }, title, ": ", h("span", { class: "plan-value" }, String(figure.value))),
    h("p", { class: "muted" }, figure.formula),
    h("dl", { class: "facts compact" }, inputs.map(([name, value]) => [h("dt", {}, name), h("dd", {}, String(value))])),
  );
}

function accuracyTable(plan) {
  const score = (value) => (value === null || value === undefined ? "–" : value.toFixed(2));
  return table("Backtest accuracy per method", [
    { label: "Method", cell: (a) => (a.chosen ? h("strong", {}, `${a.method} (used)`) : a.method) },
    { label: "WAPE", cell: (a) => score(a.wape) },
    { label: "MASE", cell: (a) => score(a.mase), className: "secondary" },
    { label: "", cell: (a) => (a.baseline ? "baseline" : ""), className: "secondary" },
  ], plan.accuracy, { rowAttributes: (a) => ({ "data-method": a.method }) });
}

async function renderSku(view, sku) {
  const plan = await call(`/planning/skus/${encodeURIComponent(sku)}`, { query: { historyDays: 182 } });
  const history = plan.history.cleaned.slice(-HISTORY_SHOWN);
  const labels = [...history.map((d) => d.date), ...plan.forecast.map((f) => f.date)];
  const series = [...history.map((d) => d.units), ...plan.forecast.map((f) => Number(f.units.toFixed(1)))];
  const outDays = plan.history.raw.filter((d) => d.outOfStock).length;
  const chart = chartFigure({
    id: "plan-chart",
    title: "Units a day",
    summary: `the last ${history.length} days ordered (gaps: out of stock), then ${plan.forecast.length} days forecast from ${plan.forecast[0]?.date ?? "–"}`,
    type: "line",
    labels,
    series,
    valueLabel: "Units",
  });
  const due = plan.reorderDue;
  view.replaceChildren(
    h("h1", {}, `Plan for ${sku}`),
    h("p", { class: "muted" }, "Planned ", when(plan.plannedAt), ` from orders up to ${plan.asOf}. `, h("a", { href: `#/inventory/${encodeURIComponent(sku)}` }, "Stock and ledger")),
    h(
      "p",
      { class: due ? "summary warning" : "summary", id: "plan-verdict" },
      due
        ? `Reorder now: order ${plan.orderQuantity.value} units (${plan.available} available + ${plan.onOrder} on order is at or below the reorder point of ${plan.reorderPoint.value}).`
        : `No order needed yet: ${plan.available} available + ${plan.onOrder} on order is above the reorder point of ${plan.reorderPoint.value}.`,
    ),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Forecast method"),
      h("dd", { id: "plan-method" }, plan.method),
      h("dt", {}, "Why"),
      h("dd", {}, plan.note),
      h("dt", {}, "Class and service level"),
      h("dd", {}, `${plan.abcClass}: ${percent(plan.serviceLevel, 0)} of cycles without running out`),
      h("dt", {}, "Lead time"),
      h("dd", {}, `${plan.leadTime.days} days (${plan.leadTime.source})`),
      plan.productLine ? [h("dt", {}, "Product line"), h("dd", {}, plan.productLine)] : null,
      h("dt", {}, "Out-of-stock days in the history"),
      h("dd", {}, `${outDays} (left out of the forecast)`),
    ),
    chart.element,
    h("h2", {}, "Reorder figures"),
    h(
      "div",
      { class: "plan-figures" },
      figureFacts("plan-reorder-point", "Reorder point", plan.reorderPoint),
      figureFacts("plan-safety-stock", "Safety stock", plan.safetyStock),
      figureFacts("plan-order-quantity", "Order quantity", plan.orderQuantity),
    ),
    h("h2", {}, "How well each method would have forecast this SKU"),
    accuracyTable(plan),
    h("h2", {}, "Next days"),
    table("Forecast, with its 80% interval", [
      { label: "Day", cell: (f) => f.date },
      { label: "Units", cell: (f) => f.units.toFixed(1) },
      { label: "80% interval", cell: (f) => `${f.low.toFixed(1)} to ${f.high.toFixed(1)}` },
    ], plan.forecast.slice(0, 14)),
  );
  try {
    await chart.draw();
  } catch {
    /* the figures stay in the table under the chart */
  }
  announce(due ? `Reorder ${plan.orderQuantity.value} units of ${sku}.` : `${sku} needs no order yet.`);
}

export async function render(view, sku) {
  if (sku) return renderSku(view, sku);
  return renderReorder(view);
}
