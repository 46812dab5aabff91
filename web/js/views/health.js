// #/health: the account-health figures Amazon judges the seller by, against Amazon's targets.
import { call } from "../api.js";
import { announce, h, percent, when } from "../dom.js";

// [key, title, what it counts, what it counts in]: every figure GET /metrics/account-health gives
const METRICS = [
  ["lateShipmentRate", "Late shipment rate", "Orders confirmed as shipped after their latest ship date.", "orders"],
  ["lateShipmentRate30d", "Late shipment rate (30 days)", "The same over 30 days.", "orders"],
  ["preFulfillmentCancelRate", "Pre-fulfilment cancel rate", "Orders you cancelled before shipping them.", "orders"],
  ["validTrackingRate", "Valid tracking rate", "Shipments confirmed with a tracking number the carrier knows.", "shipments"],
  ["onTimeDeliveryRate", "On-time delivery rate", "Tracked parcels delivered by the promised date.", "parcels"],
  ["lateResponseRate7d", "Late response rate (buyer messages)", "Buyer messages answered after 24 hours, or not at all.", "messages"],
  ["lateResponseRate30d", "Late response rate (30 days)", "The same over 30 days.", "messages"],
  ["lateResponseRate90d", "Late response rate (90 days)", "The same over 90 days.", "messages"],
  ["refundOnTimeRate", "Refunds on time", "Returns refunded by their refund date (two business days after receipt).", "returns"],
  ["returnDecisionOnTimeRate", "Return requests answered on time", "Return requests authorized or closed within 24 hours.", "requests"],
];

// "10d" -> "Last 10 days"
export function windowText(window) {
  const days = /^(\d+)d$/.exec(window || "");
  if (!days) return window || "–";
  return days[1] === "1" ? "Last day" : `Last ${days[1]} days`;
}

function targetText(metric) {
  if (metric.target === null || metric.target === undefined) return "no target";
  return `${metric.comparison === "above" ? "above" : "below"} ${percent(metric.target, 1)}`;
}

function card([key, title, explanation, counted], metric) {
  if (!metric) return null;
  const noOrders = metric.value === null || metric.value === undefined;
  const verdict = noOrders ? [`No ${counted} in the window`, "neutral"] : metric.meetsTarget ? ["Meets target", "good"] : ["Misses target", "bad"];
  const projectedMisses =
    metric.projected !== null && metric.projected !== undefined && metric.target !== null && metric.target !== undefined &&
    (metric.comparison === "above" ? metric.projected <= metric.target : metric.projected >= metric.target);
  return h(
    "article",
    { class: `metric metric-${verdict[1]}`, "aria-labelledby": `metric-${key}`, "data-metric": key },
    h("h2", { id: `metric-${key}` }, title),
    h("p", { class: "metric-value" }, noOrders ? "–" : percent(metric.value, 2)),
    h("p", { class: `verdict verdict-${verdict[1]}` }, verdict[0]),
    h(
      "dl",
      { class: "facts compact" },
      h("dt", {}, "Amazon's target"),
      h("dd", {}, targetText(metric)),
      h("dt", {}, `Projected if the ${counted} at risk go wrong`),
      h("dd", {}, metric.projected === null || metric.projected === undefined ? "–" : `${percent(metric.projected, 2)} (${metric.projectedNumerator ?? 0} of ${metric.projectedDenominator ?? 0})`, projectedMisses ? h("span", { class: "warning" }, " — would miss the target") : null),
      h("dt", {}, "Window"),
      h("dd", {}, windowText(metric.window)),
      h("dt", {}, counted[0].toUpperCase() + counted.slice(1)),
      h("dd", {}, metric.denominator === null || metric.denominator === undefined ? "–" : `${metric.numerator ?? 0} of ${metric.denominator}`),
    ),
    h("p", { class: "muted" }, explanation),
  );
}

export async function render(view) {
  const health = await call("/metrics/account-health");
  const figure = (key) => health[key];
  const cards = METRICS.map((spec) => card(spec, figure(spec[0]))).filter(Boolean);
  const missing = METRICS.filter(([key]) => figure(key) && figure(key).value !== null && figure(key).meetsTarget === false).length;
  view.replaceChildren(
    h("h1", {}, "Account health"),
    h("p", { class: "muted" }, "As of ", when(health.asOf), ". Amazon may suspend selling privileges when a figure stays past its target."),
    h("p", { class: "summary", id: "health-summary" }, missing ? `${missing} figure${missing === 1 ? " misses its" : "s miss their"} target.` : "Every figure with orders meets its target."),
    h("div", { class: "metrics" }, cards),
  );
  announce(`Account health: ${missing} figures miss their targets.`);
}
