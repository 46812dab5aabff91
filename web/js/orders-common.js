// What the queue, the order list and the order page share: urgency, deadlines, badges.
import { endOfToday, h, when } from "./dom.js";
import { flag, orderStatus } from "./words.js";

export const OPEN_STATUSES = ["Unshipped", "PartiallyShipped"];

/** When the order must leave: the warehouse deadline when the API gives one, else Amazon's latest ship date. */
export function mustShipAt(order) {
  return order.mustShipBy?.at || order.latestShipDate || null;
}

export function isFlagged(order, flag) {
  return Array.isArray(order.flags) && order.flags.includes(flag);
}

/** 0 late, 1 at risk, 2 the rest, 3 held by an order rule (it waits until its hold ends). */
export function urgencyRank(order) {
  if (order.onHold) return 3;
  if (isFlagged(order, "late")) return 0;
  if (isFlagged(order, "atRisk")) return 1;
  return 2;
}

/** The queue's order: late, then at risk, then the soonest deadline (order id breaks ties). */
export function byUrgency(a, b) {
  return (
    urgencyRank(a) - urgencyRank(b) ||
    compareText(mustShipAt(a) || "9999", mustShipAt(b) || "9999") ||
    compareText(a.orderId, b.orderId)
  );
}

function compareText(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function dueToday(order, now = new Date()) {
  const at = mustShipAt(order);
  if (!at) return false;
  return new Date(at).getTime() <= endOfToday(order.mustShipBy?.timeZone, now).getTime();
}

export function remainingUnits(order) {
  return (order.items || []).reduce((sum, item) => sum + Math.max(0, item.quantity - (item.quantityShipped || 0)), 0);
}

export function itemsSummary(order) {
  const open = (order.items || []).filter((item) => item.quantity - (item.quantityShipped || 0) > 0);
  if (!open.length) return "nothing left to ship";
  // each line: the catalogue's picture, "2 × SKU" and the title (from the first notification on)
  return h(
    "span",
    { class: "item-lines" },
    open.map((item, index) =>
      h(
        "span",
        { class: "item-line" },
        index ? ", " : null,
        item.imageUrl ? h("img", { class: "thumb thumb-small", src: item.imageUrl, alt: "", width: "24", height: "24", loading: "lazy" }) : null,
        `${item.quantity - (item.quantityShipped || 0)} × ${item.sku}`,
        item.title ? h("span", { class: "muted item-title" }, ` ${item.title}`) : null,
      ),
    ),
  );
}

const FLAG_CLASSES = { late: "badge-late", atRisk: "badge-risk", stockShortage: "badge-short", buyerRequestedCancel: "badge-risk" };

export function flagBadges(order, { withDueToday = false, none = "–", withRules = true } = {}) {
  const badges = (order.flags || []).map((code) => h("span", { class: `badge ${FLAG_CLASSES[code] || ""}`.trim(), "data-flag": code }, flag(code)));
  if (withDueToday && dueToday(order) && !isFlagged(order, "late")) badges.push(h("span", { class: "badge badge-today" }, "Ship today"));
  badges.push(...holdBadges(order));
  if (withRules) badges.push(...ruleBadges(order));
  return badges.length ? badges : none ? [none] : [];
}

/** What the seller's order rules set, as badges: on hold until when, the chosen service, tags, pick group. */
export function handlingBadges(order) {
  return [...holdBadges(order), ...ruleBadges(order)];
}

/** On hold until when (an order rule's hold): it decides whether the order ships now, so it is urgency. */
function holdBadges(order) {
  const handling = order.handling;
  if (!order.onHold || !handling?.holdUntil) return [];
  return [h("span", { class: "badge badge-hold", "data-flag": "onHold" }, "On hold until ", when(handling.holdUntil, order.mustShipBy?.timeZone))];
}

/** What the rules chose for the order: the service, tags, pick group, where it ships from (not urgency). */
export function ruleBadges(order) {
  const handling = order.handling;
  if (!handling) return [];
  const badges = [];
  const { carrier, service } = handling;
  const shipping = service ? (carrier && !service.startsWith(carrier) ? `${carrier} ${service}` : service) : carrier;
  if (shipping) badges.push(h("span", { class: "badge", title: "chosen by an order rule" }, shipping));
  for (const tag of handling.tags || []) badges.push(h("span", { class: "badge badge-tag" }, tag));
  if (handling.pickGroup) badges.push(h("span", { class: "badge", title: "pick group" }, `Pick group ${handling.pickGroup}`));
  if (handling.location) badges.push(h("span", { class: "badge", title: "ships from" }, `From ${handling.location}`));
  return badges;
}

/** "Partially shipped · Prime · Business": the order's status in words. */
export function statusText(order, { business = false } = {}) {
  return `${orderStatus(order.status)}${order.isPrime ? " · Prime" : ""}${business && order.isBusinessOrder ? " · Business" : ""}`;
}

/** "UPS pickup cutoff Nov 30, 2026, 04:00 PM EST (after the latest ship date!)" */
export function cutoffText(order) {
  const cutoff = order.cutoff;
  if (!cutoff) return "–";
  const zone = order.mustShipBy?.timeZone;
  const parts = [h("span", {}, `${cutoff.carrier || "carrier"} pickup cutoff `, when(cutoff.at, zone))];
  if (cutoff.afterLatestShipDate) parts.push(h("span", { class: "warning" }, " — after the latest ship date"));
  return h("span", {}, ...parts);
}
