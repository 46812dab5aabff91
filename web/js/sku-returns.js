// The SKU page's Returns section: its return rate over 30 and 90 days beside the seller's own average, why
// buyers return it (flagged when well above the average), and its latest returns.
import { call } from "./api.js";
import { failureNote, h, percent, table, when } from "./dom.js";
import { rateText, returnBadges, returnState } from "./returns-common.js";
import { returnReason } from "./words.js";

const WINDOWS = [30, 90];
const RECENT = 10;

/** One window's figures for the SKU: {days, sku: item or null, seller}, from GET /metrics/return-rates. */
export function rateOf(answer, sku) {
  const item = (answer.items || []).find((i) => i.sku === sku) || null;
  return { days: answer.days, from: answer.from, to: answer.to, item, seller: answer.seller || null };
}

export function rateCard(figures) {
  const { days, item, seller } = figures;
  const flagged = Boolean(item?.flagged);
  const reasons = [...(item?.reasons || [])].sort((a, b) => b.units - a.units || (a.reason < b.reason ? -1 : 1));
  return h(
    "div",
    { class: `metric ${flagged ? "metric-bad" : ""}`.trim(), "data-days": String(days) },
    h("h3", {}, `Last ${days} days`),
    h("p", { class: "metric-value" }, item ? percent(item.rate) : "–"),
    h("p", {}, item ? rateText(item) : "No units shipped or returned in this window."),
    h("p", { class: "muted" }, `Your average: ${seller ? rateText(seller) : "–"}`),
    flagged ? h("p", {}, h("span", { class: "badge badge-late", "data-flag": "returnRate" }, "Well above your average")) : null,
    reasons.length ? h("ul", { class: "reasons" }, reasons.map((r) => h("li", {}, `${returnReason(r.reason)}: ${r.units} unit${r.units === 1 ? "" : "s"}`))) : null,
  );
}

export async function skuReturns(sku) {
  const section = h("section", { id: "sku-returns", "aria-labelledby": "sku-returns-title" }, h("h2", { id: "sku-returns-title" }, "Returns"));
  const [rates, recent] = await Promise.all([
    Promise.all(WINDOWS.map((days) => call("/metrics/return-rates", { query: { days, sku } }))).then(
      (answers) => answers.map((answer) => rateOf(answer, sku)),
      (error) => ({ error }),
    ),
    call("/returns", { query: { sku, limit: RECENT } }).catch((error) => ({ error })),
  ]);
  if (rates.error) {
    section.append(rates.error.missingRoute ? h("p", { class: "muted", id: "return-rates-missing" }, "Return rates are not offered by this API yet.") : failureNote("The return rates", rates.error));
  } else {
    section.append(h("div", { class: "metrics", id: "return-rates" }, rates.map(rateCard)));
  }
  if (recent.error) {
    section.append(failureNote("The SKU's returns", recent.error));
    return section;
  }
  const columns = [
    { label: "Requested", cell: (r) => when(r.requestedAt) },
    { label: "Return", cell: (r) => h("a", { href: `#/returns/${encodeURIComponent(r.returnId)}` }, r.returnId) },
    { label: "Order", cell: (r) => h("a", { href: `#/orders/${encodeURIComponent(r.orderId)}` }, r.orderId) },
    { label: "Units", cell: (r) => String((r.items || []).filter((i) => i.sku === sku).reduce((n, i) => n + i.quantity, 0)), className: "number" },
    { label: "Buyer's reason", cell: (r) => (r.items || []).filter((i) => i.sku === sku).map((i) => returnReason(i.reason)).join(", ") || "–" },
    { label: "Status", cell: (r) => h("span", { class: "badges" }, returnState(r), " ", returnBadges(r)) },
  ];
  const items = recent.items || [];
  section.append(
    h("h3", {}, "Latest returns"),
    items.length ? table(`Latest returns of ${sku}`, columns, items, { rowAttributes: (r) => ({ "data-return-id": r.returnId }) }) : h("p", { class: "empty" }, "No return of this SKU yet."),
  );
  return section;
}
