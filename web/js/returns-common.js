// What the Returns page, the receiving screen, the order page and the SKU page share about returns: which
// list a return belongs on, its order there, finding one from a scan, the time left, and its timeline.
import { call } from "./api.js";
import { h, percent, when } from "./dom.js";
import { disposition, flag, forRemoval, grade, returnReason, returnStatus, returnStep } from "./words.js";

// Units came back and the refund is not done (oms.domain.returns.AWAITING_REFUND): the refund clock runs.
export const AWAITING_REFUND = ["received", "graded", "restocked", "quarantined", "written-off"];
export const ARRIVING = ["authorized", "in-transit"];
// Units may still arrive (oms.domain.returns.RECEIVABLE): the receiving screen takes them.
export const RECEIVABLE = ["authorized", "in-transit", "graded", "restocked", "quarantined", "written-off"];
// the statuses the Returns page reads, one index query each (never the closed and refunded history)
export const OPEN_STATUSES = ["requested", ...ARRIVING, ...AWAITING_REFUND];
const SCAN_PAGES = 5;
const SCAN_PAGE_SIZE = 100;

export const SECTIONS = [
  { key: "decide", title: "To decide", empty: "No return request is waiting for your decision." },
  { key: "arriving", title: "Arriving", empty: "No authorized return is on its way back." },
  { key: "refund", title: "To refund", empty: "Every return received has been refunded." },
  { key: "fba", title: "Returned to Amazon's warehouse (FBA)", empty: "No open FBA return." },
];

/** Which list a return is on: decide, arriving, refund, fba, or null (refunded, closed). */
export function sectionOf(ret) {
  if (ret.source === "fba") return ret.status === "closed" || ret.status === "refunded" ? null : "fba";
  if (ret.status === "requested") return "decide";
  if (ARRIVING.includes(ret.status)) return "arriving";
  if (AWAITING_REFUND.includes(ret.status)) return "refund";
  return null;
}

/** When the seller must decide: the API's decisionDueBy, else 24 hours after the request (Amazon's rule). */
export function decisionDue(ret) {
  if (ret.decisionDueBy) return ret.decisionDueBy;
  const asked = new Date(ret.requestedAt).getTime();
  return Number.isNaN(asked) ? null : new Date(asked + 24 * 3600_000).toISOString();
}

const instant = (iso) => (iso ? new Date(iso).getTime() : Infinity);
const byId = (a, b) => (a.returnId < b.returnId ? -1 : a.returnId > b.returnId ? 1 : 0);

/** Each list in its order: decisions and refunds by their due time (overdue first, as the earliest), arrivals
 *  oldest request first. Answers {decide: [...], arriving: [...], refund: [...], fba: [...]}. */
export function sections(returns) {
  const lists = Object.fromEntries(SECTIONS.map((s) => [s.key, []]));
  const seen = new Set();
  for (const ret of returns) {
    if (seen.has(ret.returnId)) continue;
    seen.add(ret.returnId);
    const key = sectionOf(ret);
    if (key) lists[key].push(ret);
  }
  lists.decide.sort((a, b) => instant(decisionDue(a)) - instant(decisionDue(b)) || byId(a, b));
  lists.arriving.sort((a, b) => instant(a.requestedAt) - instant(b.requestedAt) || byId(a, b));
  lists.refund.sort((a, b) => instant(a.refundDueBy) - instant(b.refundDueBy) || byId(a, b));
  lists.fba.sort((a, b) => instant(b.requestedAt) - instant(a.requestedAt) || byId(a, b));
  return lists;
}

/** "5 hours left", "2 days left", "overdue by 3 hours" (whole hours under two days, then days). */
export function timeLeft(iso, now = Date.now()) {
  if (!iso) return "";
  const ms = new Date(iso).getTime() - now;
  if (Number.isNaN(ms)) return "";
  const hours = Math.abs(ms) / 3600_000;
  // whole units, cut down: 23 h 31 min is "23 hours left", never a promised 24 the clock does not have
  const whole = Math.floor(hours);
  const amount =
    hours < 1 ? `${Math.max(1, Math.floor(hours * 60))} min` : hours < 48 ? `${whole} hour${whole === 1 ? "" : "s"}` : `${Math.floor(hours / 24)} days`;
  return ms < 0 ? `overdue by ${amount}` : `${amount} left`;
}

/** A scan as typed by a barcode reader: no spaces, any case. */
export function normalScan(text) {
  return String(text ?? "").replace(/\s+/g, "").toUpperCase();
}

/** Whether a scanned text names this return: its id, Amazon's RMA id, its order id or its return tracking
 *  number (a USPS label's barcode carries "420" and the ZIP code before the tracking number). */
export function matchesScan(ret, text) {
  const scan = normalScan(text);
  if (!scan) return false;
  const names = [ret.returnId, ret.amazonRmaId, ret.orderId].filter(Boolean).map(normalScan);
  if (names.includes(scan)) return true;
  const tracking = normalScan(ret.trackingId);
  if (!tracking) return false;
  return scan === tracking || (scan.startsWith("420") && tracking.length >= 10 && scan.endsWith(tracking));
}

/**
 * The returns a scan names: GET /returns?q= (the API's lookup by return id, RMA id, order id or tracking
 * number), kept to the ones that really match, at most SCAN_PAGES pages read. An API without the lookup
 * answers its newest returns, so the match is also what finds the return there.
 */
export async function findByScan(text) {
  const scan = String(text ?? "").trim();
  if (!scan) return [];
  const found = [];
  let nextToken = null;
  for (let page = 0; page < SCAN_PAGES; page += 1) {
    const answer = await call("/returns", { query: { q: scan, limit: SCAN_PAGE_SIZE, nextToken } });
    found.push(...answer.items.filter((ret) => matchesScan(ret, scan)));
    nextToken = answer.nextToken;
    if (!nextToken || found.length) break;
  }
  return found;
}

/** Units of each SKU still to arrive: returned less received, in the return's item order. */
export function unitsToReceive(ret) {
  const received = {};
  for (const receipt of ret.receipts || []) {
    for (const line of receipt.items || []) received[line.sku] = (received[line.sku] || 0) + line.quantity;
  }
  const left = {};
  for (const item of ret.items || []) left[item.sku] = (left[item.sku] || 0) + item.quantity;
  return Object.entries(left).map(([sku, units]) => ({ sku, returned: units, received: received[sku] || 0, left: Math.max(0, units - (received[sku] || 0)) }));
}

/**
 * The receipt's Idempotency-Key: the same return in the same state with the same lines gives the same key, so a
 * double click, a second scan of the parcel or a retried request is applied once; different lines are a new receipt.
 */
export async function receiptKey(ret, lines) {
  const text = JSON.stringify([ret.returnId, (ret.receipts || []).length, lines.map((l) => [l.sku, l.quantity, l.grade, l.location || null])]);
  let digest;
  if (globalThis.crypto?.subtle) {
    const bytes = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    digest = [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
  } else {
    let hash = 0; // insecure contexts have no SubtleCrypto: a plain string hash still names the same lines alike
    for (const char of text) hash = (Math.imul(31, hash) + char.codePointAt(0)) | 0;
    digest = (hash >>> 0).toString(16);
  }
  return `scan-${digest.slice(0, 20)}`;
}

// statuses named after what became of the units; once some came back, the units say it better, one by one
const DISPOSED = ["restocked", "quarantined", "written-off"];

/** Units received by outcome: a listed return's `outcome`, else counted from its receipts (one return's page). */
function outcomeOf(ret) {
  if (ret.outcome) return ret.outcome;
  if (!(ret.receipts || []).length) return null;
  const units = { backInStock: 0, writtenOff: 0 };
  for (const receipt of ret.receipts) {
    for (const line of receipt.items || []) units[line.disposition === "restocked" ? "backInStock" : "writtenOff"] += line.quantity;
  }
  return units;
}

/** Where a return stands, per unit once received: "1 back in stock, 1 written off", not "Back in stock". */
export function returnState(ret) {
  const units = DISPOSED.includes(ret.status) ? outcomeOf(ret) : null;
  const parts = [];
  if (units?.backInStock) parts.push(`${units.backInStock} back in stock`);
  if (units?.writtenOff) parts.push(`${units.writtenOff} written off`);
  if (!parts.length) return returnStatus(ret.status);
  const text = parts.join(", ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** What a receipt did, in words: "2 × MUG back in stock at A-1; 1 × MUG written off (damaged)". */
export function receiptText(receipt) {
  return (receipt.items || [])
    .map((line) =>
      line.disposition === "restocked" || line.grade === "sellable"
        ? `${line.quantity} × ${line.sku} back in stock${line.location && line.location !== "default" ? ` at ${line.location}` : ""}`
        : `${line.quantity} × ${line.sku} written off (${grade(line.grade).toLowerCase()})`,
    )
    .join("; ");
}

/** "2 × MUG-RED (Damaged in transit)" per item, FBA items with what Amazon's warehouse found. */
export function itemsText(ret) {
  return h(
    "span",
    { class: "item-lines" },
    (ret.items || []).map((item, index) =>
      h(
        "span",
        { class: "item-line" },
        index ? ", " : null,
        `${item.quantity} × `,
        h("a", { href: `#/inventory/${encodeURIComponent(item.sku)}` }, item.sku),
        h("span", { class: "muted" }, ` (${returnReason(item.reason)})`),
        item.disposition
          ? h("span", { class: toRemove(item) ? "warning" : "muted" }, ` · ${disposition(item.disposition)}${item.fulfillmentCenterId ? ` at ${item.fulfillmentCenterId}` : ""}${toRemove(item) ? ", to remove" : ""}`)
          : null,
      ),
    ),
  );
}

/** An FBA item Amazon cannot sell again: the API's forRemoval when it says, else from the disposition. */
export function toRemove(item) {
  return typeof item.forRemoval === "boolean" ? item.forRemoval : forRemoval(item.disposition);
}

const BADGE_CLASSES = { refundLate: "badge-late", decisionLate: "badge-late", refundAtRisk: "badge-risk", decisionAtRisk: "badge-risk" };

/** The return's flags as badges (late ones first, as the API lists them). */
export function returnBadges(ret) {
  const flags = ret.flags || [];
  // a late return is also at risk: one badge says it
  const shown = flags.filter((code) => !(code === "refundAtRisk" && flags.includes("refundLate")) && !(code === "decisionAtRisk" && flags.includes("decisionLate")));
  return shown.map((code) => h("span", { class: `badge ${BADGE_CLASSES[code] || ""}`.trim(), "data-flag": code }, flag(code)));
}

/** The return's timeline, oldest first: when, the state in words, and its note. */
export function returnTimeline(ret) {
  const entries = ret.timeline || [];
  if (!entries.length) return h("p", { class: "empty" }, "No history yet.");
  return h(
    "ol",
    { class: "timeline return-timeline" },
    entries.map((entry) =>
      h(
        "li",
        { "data-status": entry.status },
        when(entry.at),
        h("span", { class: "badge" }, returnStep(entry.status)),
        entry.note ? h("span", { class: "timeline-text" }, noteText(entry.note)) : null,
      ),
    ),
  );
}

// the API's notes are plain words already, but the grading note lists grade codes ("1 customer-damaged, 2 sellable")
function noteText(note) {
  return String(note)
    .replace(/\s*\(scan-[0-9a-f]+\)/, "") // the receiving screen's receipt key says nothing to a person
    .replace(/\b(\d+) (sellable|damaged|defective|customer-damaged|carrier-damaged|wrong-item)\b/g, (_, n, code) => `${n} ${grade(code).toLowerCase()}`);
}

/** "12.5%" with its units: "12.5% (5 of 40 units)", or "no units shipped". */
export function rateText(figures) {
  if (!figures || !figures.unitsShipped) return "no units shipped";
  return `${percent(figures.rate)} (${figures.unitsReturned} of ${figures.unitsShipped} units)`;
}
