// Amazon's and the API's codes in the seller's words: statuses, service levels, channels, ledger reasons,
// who did something, flags. One place, so every page says "Partially shipped", never "PartiallyShipped".
// An unknown code is still shown (split into words), never hidden.

const ORDER_STATUSES = {
  Pending: "Pending (not yet paid)",
  Unshipped: "Unshipped",
  PartiallyShipped: "Partially shipped",
  Shipped: "Shipped",
  Canceled: "Cancelled",
  Unfulfillable: "Unfulfillable",
  InvoiceUnconfirmed: "Invoice unconfirmed",
  PendingAvailability: "Pending availability (pre-order)",
};

// Amazon's fulfillmentServiceLevel (Orders API 2026-01-01), the older ShipServiceLevel / category values,
// and the marketplaces' own names ("Std US D2D Dom")
const SERVICE_LEVELS = {
  STANDARD: "Standard",
  EXPEDITED: "Expedited",
  FREE_ECONOMY: "Free economy",
  NEXT_DAY: "Next day",
  SECOND_DAY: "Second day",
  SAME_DAY: "Same day",
  PRIORITY: "Priority",
  SCHEDULED: "Scheduled delivery",
  NextDay: "Next day",
  SecondDay: "Second day",
  SameDay: "Same day",
  Expedited: "Expedited",
  Standard: "Standard",
  FreeEconomy: "Free economy",
  Priority: "Priority",
  Scheduled: "Scheduled delivery",
  ScheduledDelivery: "Scheduled delivery",
};
const SERVICE_PREFIXES = [
  [/^std\b/i, "Standard"],
  [/^exp\b/i, "Expedited"],
  [/^next\b/i, "Next day"],
  [/^second\b/i, "Second day"],
  [/^same\b/i, "Same day"],
  [/^priority\b/i, "Priority"],
  [/^free\b/i, "Free economy"],
];

const CHANNELS = { MFN: "You", AFN: "Amazon (FBA)" }; // who ships the order

const LEDGER_REASONS = {
  reservation: "Reserved for an order",
  release: "Released (order cancelled or changed)",
  shipment: "Shipped",
  receipt: "Received",
  adjustment: "Adjusted",
  damaged: "Damaged",
  lost: "Lost",
  found: "Found",
  "return-restock": "Returned to stock",
  "audit-correction": "Cycle count correction",
  "count-correction": "Count correction",
  "opening-stock": "Opening stock",
  "fba-figures": "Amazon FBA figures",
  "new-sku": "New SKU",
  return: "Returned by a buyer",
  "return-write-off": "Return written off",
};

const SOURCES = {
  "amazon:ORDER_CHANGE": "Amazon",
  "amazon:orders-api": "Amazon (order check)",
  "amazon:FBA_INVENTORY": "Amazon FBA",
  "seller:api": "You",
  ship_guard: "Deadline check",
  "oms local": "Local demo",
};

export const FLAGS = {
  late: "Late",
  atRisk: "At risk",
  stockShortage: "Stock short",
  buyerRequestedCancel: "Buyer asked to cancel",
  decisionAtRisk: "Decide soon",
  decisionLate: "Decision late",
  refundAtRisk: "Refund due soon",
  refundLate: "Refund late",
};

const CONFIRMATIONS = { pending: "waiting to confirm", confirmed: "confirmed", retrying: "retrying", refused: "refused by Amazon" };

/** "PartiallyShipped" -> "Partially shipped", "buyer_requested-cancel" -> "Buyer requested cancel". */
export function spaced(code) {
  const text = String(code ?? "")
    .replace(/[_-]+/g, " ")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .trim()
    .toLowerCase();
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : "–";
}

function lookup(table, code) {
  if (code === null || code === undefined || code === "") return "–";
  return Object.hasOwn(table, code) ? table[code] : spaced(code);
}

export const orderStatus = (code) => lookup(ORDER_STATUSES, code);
export const channel = (code) => lookup(CHANNELS, code);
export const ledgerReason = (code) => lookup(LEDGER_REASONS, code);
export const flag = (code) => lookup(FLAGS, code);
export const confirmationStatus = (code) => lookup(CONFIRMATIONS, code);

/** "NextDay" -> "Next day", "Std US D2D Dom" -> "Standard", "Exp UK Dom_2" -> "Expedited". */
export function serviceLevel(code) {
  if (code === null || code === undefined || code === "") return "–";
  if (Object.hasOwn(SERVICE_LEVELS, code)) return SERVICE_LEVELS[code];
  const found = SERVICE_PREFIXES.find(([pattern]) => pattern.test(code));
  if (found) return found[1];
  return /^[A-Za-z_]+$/.test(code) ? spaced(code) : String(code); // "TwoDay" -> "Two day"; "UPS Ground" stays
}

/** Who did it: "amazon:ORDER_CHANGE" -> "Amazon", "user:ana@example.com" -> "ana@example.com". */
export function source(actor) {
  if (actor === null || actor === undefined || actor === "") return "–";
  if (Object.hasOwn(SOURCES, actor)) return SOURCES[actor];
  const [kind, ...rest] = String(actor).split(":");
  const who = rest.join(":");
  if (kind === "user" || kind === "seller") return who && who !== "unknown" ? who : "You";
  if (kind === "amazon") return "Amazon";
  return spaced(actor);
}

/** A timeline entry in words, from its details when the API gives them (else the API's own text). */
export function timelineText(event) {
  const details = event.details || {};
  if (event.kind === "status" && details.status) {
    return `${orderStatus(details.status)}${details.by ? ` — by ${source(details.by)}` : ""}`;
  }
  if (event.kind === "stock" && details.reason) {
    const moves = [
      ["on hand", details.delta],
      ["reserved", details.reservedDelta],
      ["backordered", details.backorderedDelta],
    ]
      .filter(([, value]) => Number(value))
      .map(([name, value]) => `${name} ${Number(value) > 0 ? "+" : ""}${value}`);
    return `${details.sku}: ${ledgerReason(details.reason)}${moves.length ? ` (${moves.join(", ")})` : ""}`;
  }
  return event.text || "";
}

/** Days of cover as every page shows it: "12.5 days", "30 days", "0 days", or "no orders in 30 days". */
export function daysOfCover(row) {
  if (row.daysOfCover === null || row.daysOfCover === undefined) return "no orders in 30 days";
  const days = Number(row.daysOfCover);
  return `${days.toFixed(days < 10 && days !== Math.trunc(days) ? 1 : 0)} day${days === 1 ? "" : "s"}`;
}

// ------------------------------------------------------------------------------------------------ returns

const RETURN_STATUSES = {
  requested: "Waiting for your decision",
  authorized: "Authorized, parcel awaited",
  "in-transit": "On its way back",
  received: "Received",
  graded: "Received and graded",
  restocked: "Back in stock",
  quarantined: "Set aside (quarantine)",
  "written-off": "Written off",
  refunded: "Refunded",
  closed: "Closed",
};

// Amazon's return reason codes (the returns reports' Return Reason / reason columns, "CR-" prefixed in the
// seller-fulfilled report, bare in the FBA report), as the buyer meant them.
const RETURN_REASONS = {
  UNWANTED_ITEM: "No longer needed",
  NO_REASON_GIVEN: "No reason given",
  DEFECTIVE: "Defective or does not work",
  NOT_AS_DESCRIBED: "Not as described",
  BAD_DESC: "Not as described",
  WRONG_ITEM: "Wrong item sent",
  SWITCHEROO: "Wrong item sent",
  ORDERED_WRONG_ITEM: "Buyer ordered the wrong item",
  MISORDERED: "Buyer ordered the wrong item",
  DAMAGED_BY_CARRIER: "Damaged in transit",
  DAMAGED_BY_FC: "Damaged at Amazon's warehouse",
  MISSED_ESTIMATED_DELIVERY: "Arrived too late",
  MISSING_PARTS: "Parts or accessories missing",
  QUALITY_UNACCEPTABLE: "Quality not acceptable",
  FOUND_BETTER_PRICE: "Found a better price",
  EXTRA_ITEM: "Extra item the buyer did not order",
  UNAUTHORIZED_PURCHASE: "Bought without the buyer's permission",
  PART_NOT_COMPATIBLE: "Not compatible",
  NOT_COMPATIBLE: "Not compatible",
  EXCESSIVE_INSTALLATION: "Too hard to install",
  NEVER_ARRIVED: "Never arrived",
  UNDELIVERABLE_REFUSED: "Refused at delivery",
  UNDELIVERABLE_UNKNOWN: "Could not be delivered",
  APPAREL_TOO_SMALL: "Too small",
  APPAREL_TOO_LARGE: "Too large",
  APPAREL_STYLE: "Did not like the style",
  "APP-TOO-SMALL": "Too small",
  "APP-TOO-LARGE": "Too large",
  "APP-STYLE": "Did not like the style",
  "APP-MISSING-PARTS": "Parts or accessories missing",
};

/** "CR-DEFECTIVE" -> "Defective or does not work"; "AMZ-PG-APP-TOO-LARGE" -> "Too large"; unknown codes spaced. */
export function returnReason(code) {
  if (code === null || code === undefined || code === "") return "No reason given";
  const bare = String(code).trim().replace(/^(CR|AMZ-PG)-/i, "");
  const key = bare.toUpperCase();
  if (Object.hasOwn(RETURN_REASONS, key)) return RETURN_REASONS[key];
  return spaced(bare);
}

const GRADES = {
  sellable: "Sellable",
  damaged: "Damaged",
  defective: "Defective",
  "customer-damaged": "Damaged by the buyer",
  "carrier-damaged": "Damaged by the carrier",
  "wrong-item": "Wrong item came back",
};
export const GRADE_CODES = Object.keys(GRADES);

// Amazon's FBA detailed-disposition: what its fulfilment centre found.
const DISPOSITIONS = {
  SELLABLE: "Sellable (back in Amazon's stock)",
  DEFECTIVE: "Defective",
  CUSTOMER_DAMAGED: "Damaged by the buyer",
  CARRIER_DAMAGED: "Damaged by the carrier",
  DAMAGED: "Damaged at Amazon's warehouse",
  DISTRIBUTOR_DAMAGED: "Damaged by the distributor",
  EXPIRED: "Expired",
  "restocked": "Back in stock",
  "written-off": "Written off",
};

const RETURN_SOURCES = { amazon: "Amazon", fba: "Amazon's warehouse (FBA)", seller: "Recorded by you" };

const REFUND_STATUSES = {
  pending: "Refund being sent to Amazon",
  submitted: "Refund sent to Amazon",
  confirmed: "Refund confirmed by Amazon",
  refused: "Refund refused by Amazon",
};

// what happened at each step of a return's timeline (its history, where the statuses above say where it stands)
const RETURN_STEPS = {
  requested: "Requested",
  authorized: "Authorized",
  "in-transit": "On its way back",
  received: "Received",
  graded: "Graded",
  restocked: "Back in stock",
  quarantined: "Set aside (quarantine)",
  "written-off": "Written off",
  refunded: "Refunded",
  closed: "Closed",
};

export const returnStatus = (code) => lookup(RETURN_STATUSES, code);
export const returnStep = (code) => lookup(RETURN_STEPS, code);
export const grade = (code) => lookup(GRADES, code);
export const disposition = (code) => lookup(DISPOSITIONS, code);
export const returnSource = (code) => lookup(RETURN_SOURCES, code);
export const refundStatus = (code) => lookup(REFUND_STATUSES, code);

/** An FBA unit Amazon cannot sell again: the seller asks Amazon to remove (send back or dispose of) it. */
export function forRemoval(dispositionCode) {
  return Boolean(dispositionCode) && String(dispositionCode).toUpperCase() !== "SELLABLE";
}

// A purchase order's states, as the Purchase orders page says them.
export const PO_STATUSES = {
  draft: "Draft (not sent)",
  sent: "Sent",
  "partially-received": "Partly received",
  received: "Received",
  closed: "Closed",
};
export const poStatus = (code) => lookup(PO_STATUSES, code);
// Buyer messages (#/messages): what the buyer wants, where the thread stands, and Amazon's content rules.
const MESSAGE_INTENTS = {
  "where-is-my-order": "Where is my order",
  return: "Return",
  cancel: "Cancel the order",
  damaged: "Arrived damaged",
  "address-change": "Change of address",
  other: "Other",
};
const THREAD_STATUSES = { awaiting: "Waiting for your answer", answered: "Answered", "no-response-needed": "No response needed" };
const CONTENT_RULES = {
  "no-links": "Amazon does not allow links",
  "no-email-addresses": "Amazon does not allow e-mail addresses",
  "no-marketing": "Amazon does not allow marketing or review requests",
  "not-empty": "the reply is empty",
  "size-limit": "the reply is too long",
};
export const messageIntent = (code) => (code ? lookup(MESSAGE_INTENTS, code) : "Not read yet");
export const threadStatus = (code) => lookup(THREAD_STATUSES, code);
export const contentRule = (code) => lookup(CONTENT_RULES, code);
