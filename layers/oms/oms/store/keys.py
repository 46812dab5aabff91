"""Every key of the single table is built here and nowhere else (docs/data-model.md lists the patterns).

Generic attribute names (pk/sk, gsiNpk/gsiNsk) let new access patterns arrive without migrations.
Identifiers from outside (order ids, SKUs) may hold any text, so they are placed last in a key or
followed only by a separator that cannot start a later component's match.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from oms.domain.stock import DEFAULT_LOCATION

PK, SK = "pk", "sk"
TTL_ATTRIBUTE = "expiresAt"
INDEXES: dict[str, tuple[str, str]] = {
    "gsi1": ("gsi1pk", "gsi1sk"),
    "gsi2": ("gsi2pk", "gsi2sk"),
    "gsi3": ("gsi3pk", "gsi3sk"),
}
IndexName = Literal["gsi1", "gsi2", "gsi3"]
# The index DynamoDB is asked for each of the single table's (decision 81): gsi1 is served by gsi1keys,
# which projects the keys only (an order's or a stock row's changes that keep their gsi1 keys write no
# entry there); the items are then read by key. The ALL-projected gsi1 stays in the template until the
# release after this one deletes it (one index per deploy).
INDEX_NAMES: dict[str, str] = {"gsi1": "gsi1keys", "gsi2": "gsi2", "gsi3": "gsi3"}
KEYS_ONLY_INDEXES = frozenset({"gsi1keys"})

ORDER_PREFIX = "ORDER#"
ORDER_SK = "ORDER"
BUYER_SK = "BUYER"
ALL_ORDERS = "ORDERS"
BUYER_DATA_DUE = "BUYERDATA#DUE"


@dataclass(frozen=True)
class KeyQuery:
    """One partition of the table or an index, optionally narrowed by a sort-key range."""

    partition: str
    index: IndexName | None = None
    sk_from: str | None = None  # inclusive
    sk_to: str | None = None  # inclusive
    sk_before: str | None = None  # exclusive
    newest_first: bool = False

    @property
    def key_names(self) -> tuple[str, str]:
        return INDEXES[self.index] if self.index else (PK, SK)

    @property
    def index_name(self) -> str | None:
        """The index the Query names: the buyer-data table's own gsi1 (orderId projected) for its due
        partition, else the single table's index serving `index` (INDEX_NAMES)."""
        if self.index is None or self.partition == BUYER_DATA_DUE:
            return self.index
        return INDEX_NAMES[self.index]

    @property
    def keys_only(self) -> bool:
        """The index holds the keys only: the items are read from the table by key."""
        return self.index_name in KEYS_ONLY_INDEXES


# --- orders -------------------------------------------------------------------------------------


def order_key(order_id: str) -> dict[str, str]:
    return {PK: ORDER_PREFIX + order_id, SK: ORDER_SK}


# The work queue: the seller-fulfilled orders awaiting shipment, the only (status, channel) pairs gsi3 holds.
WORK_QUEUE = frozenset({("Unshipped", "MFN"), ("PartiallyShipped", "MFN")})
ORDER_INDEX_ATTRIBUTES = ("gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk")


def order_index_keys(
    *, order_id: str, status: str, fulfillment_channel: str, purchase_date: str, latest_ship_date: str | None
) -> dict[str, str]:
    """gsi1: every order by purchase date; gsi2: by status; gsi3, sparse: the work queue only (WORK_QUEUE),
    by status and channel (both by ship-by). An order enters gsi3 when it awaits shipment and leaves it
    when shipped or cancelled, so its later writes (and every FBA order's) write no gsi3 entry (cost,
    decision 81); the other pairs are read from gsi2 (orders_by_status)."""
    ship_by = latest_ship_date or "9999"
    found = {
        "gsi1pk": ALL_ORDERS,
        "gsi1sk": f"{purchase_date}#{order_id}",
        "gsi2pk": f"{ALL_ORDERS}#STATUS#{status}",
        "gsi2sk": f"{ship_by}#{order_id}",
    }
    if (status, fulfillment_channel) in WORK_QUEUE:
        found["gsi3pk"] = f"{ALL_ORDERS}#STATUS#{status}#CHANNEL#{fulfillment_channel}"
        found["gsi3sk"] = f"{ship_by}#{order_id}"
    return found


def orders_by_purchase_date(date_from: str | None, date_to: str | None) -> KeyQuery:
    # "~" sorts after "#" and every digit, so a bare timestamp bound includes that instant's orders.
    return KeyQuery(
        ALL_ORDERS, "gsi1", sk_from=date_from, sk_to=f"{date_to}~" if date_to else None, newest_first=True
    )


def orders_purchased_before(position: str | None) -> KeyQuery:
    """Every order, newest purchase first, after `position` (an order's purchase_position) when given."""
    return KeyQuery(ALL_ORDERS, "gsi1", sk_before=position, newest_first=True)


def purchase_position(order_item: dict[str, Any]) -> str:
    """Where an order item sits in the orders-by-purchase-date index (to resume a walk after it)."""
    return str(order_item["gsi1sk"])


def orders_by_status(status: str, channel: str | None, ship_by_before: str | None) -> KeyQuery:
    """The orders at `status`, soonest ship-by first. With a channel in the work queue (WORK_QUEUE), that
    channel's only; with another channel, every channel's (gsi2): the caller keeps that channel's
    (channel_read_from_status_index)."""
    if channel and (status, channel) in WORK_QUEUE:
        return KeyQuery(f"{ALL_ORDERS}#STATUS#{status}#CHANNEL#{channel}", "gsi3", sk_before=ship_by_before)
    return KeyQuery(f"{ALL_ORDERS}#STATUS#{status}", "gsi2", sk_before=ship_by_before)


def channel_read_from_status_index(status: str, channel: str | None) -> bool:
    """True when orders_by_status(status, channel) answers every channel's orders (filter them)."""
    return channel is not None and (status, channel) not in WORK_QUEUE


# --- buyer data (PII), kept apart from the order so it can expire on its own --------------------


def buyer_key(order_id: str) -> dict[str, str]:
    return {PK: ORDER_PREFIX + order_id, SK: BUYER_SK}


def buyer_due_index_keys(order_id: str, due_at: str) -> dict[str, str]:
    return {"gsi1pk": BUYER_DATA_DUE, "gsi1sk": f"{due_at}#{order_id}"}


def buyer_data_due_before(instant: str) -> KeyQuery:
    return KeyQuery(BUYER_DATA_DUE, "gsi1", sk_before=instant)


# --- stock, per SKU and location, with its ledger -----------------------------------------------

SKU_PREFIX = "SKU#"
ALL_STOCK = "STOCK"


def stock_key(sku: str, location: str = DEFAULT_LOCATION) -> dict[str, str]:
    return {PK: SKU_PREFIX + sku, SK: f"STOCK#{location}"}


def stock_index_keys(sku: str, location: str = DEFAULT_LOCATION) -> dict[str, str]:
    """gsi1: every stock row, by SKU (the inventory list)."""
    return {"gsi1pk": ALL_STOCK, "gsi1sk": f"{sku}#{location}"}


def ledger_key(sku: str, at: str, entry_id: str) -> dict[str, str]:
    """Ledger entries sort by time under their SKU; the id keeps same-instant entries apart."""
    return {PK: SKU_PREFIX + sku, SK: f"LEDGER#{at}#{entry_id}"}


def ledger_of(sku: str) -> KeyQuery:
    return KeyQuery(SKU_PREFIX + sku, sk_from="LEDGER#", sk_to="LEDGER#~", newest_first=True)


DEMAND_PREFIX = "DEMAND#"


def demand_key(sku: str, ship_by: str, purchase_date: str, order_id: str) -> dict[str, str]:
    """One open order's need of a SKU, under the SKU in serving order: oldest latest ship date first,
    then purchase date, then order id (ship_by "9999" when the order has none)."""
    return {PK: SKU_PREFIX + sku, SK: f"{DEMAND_PREFIX}{ship_by}#{purchase_date}#{order_id}"}


def demand_of(sku: str) -> KeyQuery:
    """A SKU's open demand, in serving order (read consistently with its stock row)."""
    return KeyQuery(SKU_PREFIX + sku, sk_from=DEMAND_PREFIX, sk_to=DEMAND_PREFIX + "\U0010ffff")


ALLOCATIONS_PENDING = "ALLOCATION#PENDING"


def allocation_pending_key(sku: str) -> dict[str, str]:
    """A SKU whose change had more orders to re-flag than one transaction holds, until they are written."""
    return {PK: ALLOCATIONS_PENDING, SK: sku}


def allocations_pending() -> KeyQuery:
    return KeyQuery(ALLOCATIONS_PENDING)


STOCK_CHANGED = "STOCK#CHANGED#"


def stock_changed_index_keys(sku: str, location: str, at: str) -> dict[str, str]:
    """gsi3: every stock row under the day it last changed, by time (one partition per day, so no
    partition grows without end); moved on every write of the row."""
    return {"gsi3pk": STOCK_CHANGED + at[:10], "gsi3sk": f"{at}#{sku}#{location}"}


def stock_changed_on(day: str, since: str | None = None) -> KeyQuery:
    """The stock rows whose last change fell on `day` (YYYY-MM-DD), at or after `since`."""
    return KeyQuery(STOCK_CHANGED + day, "gsi3", sk_from=since)


# --- what Amazon last accepted as a SKU's merchant-fulfilled quantity, per marketplace -------------


def listing_key(sku: str, marketplace_id: str) -> dict[str, str]:
    return {PK: SKU_PREFIX + sku, SK: f"LISTING#{marketplace_id}"}


# --- notifications already applied (deduplication by Amazon's NotificationId) ----------------------


def notification_key(notification_id: str) -> dict[str, str]:
    return {PK: f"NOTIFICATION#{notification_id}", SK: "NOTIFICATION"}


# --- SP-API rate budgets and job watermarks ------------------------------------------------------


def rate_bucket_key(scope: str, operation: str) -> dict[str, str]:
    return {PK: f"RATE#{scope}#{operation}", SK: "BUCKET"}


def watermark_key(job: str, scope: str) -> dict[str, str]:
    return {PK: f"WATERMARK#{job}", SK: scope}


# --- reports Amazon finished ---------------------------------------------------------------------


def report_key(report_id: str) -> dict[str, str]:
    return {PK: f"REPORT#{report_id}", SK: "REPORT"}


def report_index_keys(report_type: str, finished_at: str, report_id: str) -> dict[str, str]:
    """gsi1: the finished reports of a type, newest last."""
    return {"gsi1pk": f"REPORTS#{report_type}", "gsi1sk": f"{finished_at}#{report_id}"}


def low_stock_index_keys(sku: str, location: str = DEFAULT_LOCATION) -> dict[str, str]:
    """gsi2, sparse: only the rows whose available stock is at or below their reorder point."""
    return {"gsi2pk": "STOCK#LOW", "gsi2sk": f"{sku}#{location}"}


def without_low_stock_index(row: dict[str, Any]) -> dict[str, Any]:
    """The stock row out of the low-stock index (put back by low_stock_index_keys while it is low)."""
    return {k: v for k, v in row.items() if k not in ("gsi2pk", "gsi2sk")}


def low_stock() -> KeyQuery:
    return KeyQuery("STOCK#LOW", "gsi2")


def ledger_since(sku: str, since: str) -> KeyQuery:
    return KeyQuery(SKU_PREFIX + sku, sk_from=f"LEDGER#{since}", sk_to="LEDGER#~")


# --- configuration the seller edits (e.g. the shipping setup) ---------------------------------------


def config_key(name: str) -> dict[str, str]:
    return {PK: f"CONFIG#{name}", SK: "CONFIG"}


# --- shipments of seller-fulfilled orders, under their order ---------------------------------------


def shipment_key(order_id: str, shipment_id: str) -> dict[str, str]:
    return {PK: ORDER_PREFIX + order_id, SK: f"SHIPMENT#{shipment_id}"}


def order_partition(order_id: str) -> KeyQuery:
    """Everything kept under one order: the order, its shipments, delay notice (buyer data lives in the
    buyer-data table, under buyer_key)."""
    return KeyQuery(ORDER_PREFIX + order_id)


def shipment_day_index_keys(
    day: str, carrier: str, shipped_at: str, order_id: str, shipment_id: str
) -> dict[str, str]:
    """gsi1: the packages handed over on a warehouse-local day, by carrier then time (end-of-day forms)."""
    return {"gsi1pk": f"SHIPMENTS#{day}", "gsi1sk": f"{carrier}#{shipped_at}#{order_id}#{shipment_id}"}


def shipments_on(day: str, carrier: str | None = None) -> KeyQuery:
    if carrier:
        return KeyQuery(f"SHIPMENTS#{day}", "gsi1", sk_from=f"{carrier}#", sk_to=f"{carrier}#~")
    return KeyQuery(f"SHIPMENTS#{day}", "gsi1")


CONFIRMATIONS_DUE = "CONFIRM#DUE"


def confirmation_due_index_keys(due_at: str, order_id: str, shipment_id: str) -> dict[str, str]:
    """gsi2, sparse: shipments not yet confirmed to Amazon, by when to try next (removed once confirmed)."""
    return {"gsi2pk": CONFIRMATIONS_DUE, "gsi2sk": f"{due_at}#{order_id}#{shipment_id}"}


def confirmations_due(before: str) -> KeyQuery:
    return KeyQuery(CONFIRMATIONS_DUE, "gsi2", sk_before=f"{before}~")


def label_claim_key(order_id: str) -> dict[str, str]:
    """The order's label purchase in progress, or a bought label not yet recorded as a shipment."""
    return {PK: ORDER_PREFIX + order_id, SK: "LABELCLAIM"}


def pick_batch_key(order_id: str) -> dict[str, str]:
    """The pick batch an order is in (written with the batch: one order, one pick unless forced)."""
    return {PK: ORDER_PREFIX + order_id, SK: "PICKBATCH"}


def tracking_key(carrier: str, tracking_number: str) -> dict[str, str]:
    """A tracking number in use, per carrier, naming the order(s) whose package carries it; written in the
    shipment's transaction, so two orders cannot both take one number unless they share the package."""
    return {PK: f"TRACKING#{carrier}#{tracking_number}", SK: "TRACKING"}


def order_update_key(order_id: str, kind: str) -> dict[str, str]:
    """A message sent to the buyer before they asked (a Messaging API action), claimed then sent: once per
    order and kind. The delay notice is the unexpectedProblem one, whoever sends it (the guard or the seller)."""
    if kind == "unexpectedProblem":
        return delay_notice_key(order_id)
    return {PK: ORDER_PREFIX + order_id, SK: f"UPDATE#{kind}"}


def delay_notice_key(order_id: str) -> dict[str, str]:
    """The delay notice sent to an order's buyer (written before sending: sent once)."""
    return {PK: ORDER_PREFIX + order_id, SK: "DELAYNOTICE"}


def metrics_key(name: str) -> dict[str, str]:
    """Figures computed on a schedule and kept for quick reads (e.g. account health)."""
    return {PK: f"METRICS#{name}", SK: "LATEST"}


# --- pick batches and end-of-day forms --------------------------------------------------------------

ALL_BATCHES = "BATCHES"


def batch_key(batch_id: str) -> dict[str, str]:
    return {PK: f"BATCH#{batch_id}", SK: "BATCH"}


def batch_index_keys(created_at: datetime, batch_id: str) -> dict[str, str]:
    """gsi1: every batch, newest first, to the microsecond (two batches made in one second keep their order)."""
    at = created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"gsi1pk": ALL_BATCHES, "gsi1sk": f"{at}#{batch_id}"}


def batches_newest_first() -> KeyQuery:
    return KeyQuery(ALL_BATCHES, "gsi1", newest_first=True)


def end_of_day_key(day: str, carrier: str) -> dict[str, str]:
    return {PK: f"ENDOFDAY#{day}", SK: carrier}


# --- Idempotency-Key records (oms.store.once: written in the change's own transaction) -------------


def idempotency_key(scoped_key: str) -> dict[str, str]:
    """The first answer to an Idempotency-Key (scoped: caller, route and the path's ids), kept a day; its
    own partition per key, so no key's records share a hot partition."""
    return {PK: f"IDEMPOTENCY#{scoped_key}", SK: "IDEMPOTENCY"}


# --- cycle counts (audits): the audit with its lines, its per-line corrections, a SKU's last count ---

ALL_AUDITS = "AUDITS"


def audit_key(audit_id: str) -> dict[str, str]:
    return {PK: f"AUDIT#{audit_id}", SK: "AUDIT"}


def audit_index_keys(audit_id: str, created_at: str) -> dict[str, str]:
    """gsi1: every audit by creation time."""
    return {"gsi1pk": ALL_AUDITS, "gsi1sk": f"{created_at}#{audit_id}"}


def audits_newest_first() -> KeyQuery:
    return KeyQuery(ALL_AUDITS, "gsi1", newest_first=True)


def audit_correction_key(audit_id: str, line: int) -> dict[str, str]:
    """What approval did to one line; written with the correction, so a resumed approval skips it."""
    return {PK: f"AUDIT#{audit_id}", SK: f"CORRECTION#{line:05d}"}


def last_count_key(sku: str) -> dict[str, str]:
    """When a SKU was last counted by an approved audit (the count schedule's starting point)."""
    return {PK: SKU_PREFIX + sku, SK: "COUNTED"}


def stock_rows_of(sku: str) -> KeyQuery:
    """A SKU's stock rows, one per location."""
    return KeyQuery(SKU_PREFIX + sku, sk_from="STOCK#", sk_to="STOCK#\U0010ffff")


# --- order reports: archive markers, the "new orders" mark, report jobs, daily reports ------------

ARCHIVED_ORDERS = "ORDERS#ARCHIVED"
ARCHIVE_SK = "ARCHIVED"


def archive_marker_key(order_id: str) -> dict[str, str]:
    """The seller archived this order: an item of its own under the order (the order item is untouched)."""
    return {PK: ORDER_PREFIX + order_id, SK: ARCHIVE_SK}


def archive_marker_index_keys(order_id: str, purchase_date: str) -> dict[str, str]:
    """gsi1, sparse: archived orders by purchase date (only markers carry this partition)."""
    return {"gsi1pk": ARCHIVED_ORDERS, "gsi1sk": f"{purchase_date}#{order_id}"}


def archived_orders(purchased_from: str | None, purchased_to: str | None) -> KeyQuery:
    """Archive markers, newest purchase first, optional purchase-date range (bounds as in orders_by_purchase_date)."""
    return KeyQuery(
        ARCHIVED_ORDERS,
        "gsi1",
        sk_from=purchased_from,
        sk_to=f"{purchased_to}~" if purchased_to else None,
        newest_first=True,
    )


def orders_seen_mark_key() -> dict[str, str]:
    """Up to when the seller has seen new orders (GET /reports/orders?view=new&markSeen=true moves it)."""
    return watermark_key("order-reports:new", "seller")


def report_job_key(job_id: str) -> dict[str, str]:
    return {PK: f"REPORTJOB#{job_id}", SK: "JOB"}


DAILY_ORDER_REPORTS = "ORDERREPORTS#DAILY"


def daily_order_report_key(day: str) -> dict[str, str]:
    """One daily all-orders report per day (YYYY-MM-DD); a re-run of the day replaces it."""
    return {PK: DAILY_ORDER_REPORTS, SK: day}


def daily_order_reports() -> KeyQuery:
    return KeyQuery(DAILY_ORDER_REPORTS, newest_first=True)


# --- the product catalogue: one item per SKU, what Amazon says and what the seller set -------------

ALL_PRODUCTS = "PRODUCTS"
PRODUCTS_BY_READ = "PRODUCTS#READ"


def product_key(sku: str) -> dict[str, str]:
    return {PK: SKU_PREFIX + sku, SK: "PRODUCT"}


def product_index_keys(sku: str) -> dict[str, str]:
    """gsi1: every product by SKU (GET /products)."""
    return {"gsi1pk": ALL_PRODUCTS, "gsi1sk": sku}


def product_read_index_keys(sku: str, read_at: str) -> dict[str, str]:
    """gsi2: products by when Amazon was last read for them (the refresh takes the oldest first)."""
    return {"gsi2pk": PRODUCTS_BY_READ, "gsi2sk": f"{read_at}#{sku}"}


def products_by_sku() -> KeyQuery:
    return KeyQuery(ALL_PRODUCTS, "gsi1")


def products_read_before(instant: str) -> KeyQuery:
    return KeyQuery(PRODUCTS_BY_READ, "gsi2", sk_before=instant)


# --- returns: the return, its order's returned units, per-SKU markers --------------------------------

RETURN_PREFIX = "RETURN#"
ALL_RETURNS = "RETURNS"


def return_key(return_id: str) -> dict[str, str]:
    return {PK: RETURN_PREFIX + return_id, SK: "RETURN"}


def return_index_keys(return_id: str, status: str, requested_at: str) -> dict[str, str]:
    """gsi1: every return by request time; gsi2: by status, then request time (moved on every change)."""
    return {
        "gsi1pk": ALL_RETURNS,
        "gsi1sk": f"{requested_at}#{return_id}",
        "gsi2pk": f"{ALL_RETURNS}#STATUS#{status}",
        "gsi2sk": f"{requested_at}#{return_id}",
    }


REFUNDS_DUE = f"{ALL_RETURNS}#REFUND#DUE"


def refund_due_index_keys(return_id: str, refund_due_by: str) -> dict[str, str]:
    """gsi3, sparse: only returns received and awaiting their refund, by refundDueBy (the refund clock)."""
    return {"gsi3pk": REFUNDS_DUE, "gsi3sk": f"{refund_due_by}#{return_id}"}


def refunds_due() -> KeyQuery:
    """Every return awaiting its refund, soonest due first."""
    return KeyQuery(REFUNDS_DUE, "gsi3")


DECISIONS_DUE = f"{ALL_RETURNS}#DECISION#DUE"


def decision_due_index_keys(return_id: str, decision_due_by: str) -> dict[str, str]:
    """gsi3, sparse: only requests waiting for the seller's decision, by decisionDueBy (the decision clock).
    A return is on at most one clock, so it holds at most one of the two gsi3 keys."""
    return {"gsi3pk": DECISIONS_DUE, "gsi3sk": f"{decision_due_by}#{return_id}"}


def decisions_due() -> KeyQuery:
    """Every request waiting for the seller's decision, soonest due first (the Returns page's "to decide")."""
    return KeyQuery(DECISIONS_DUE, "gsi3")


def order_returns_key(order_id: str) -> dict[str, str]:
    """The units of an order already returned, per SKU, with its return ids (versioned: two returns of
    one order cannot both take its last units)."""
    return {PK: ORDER_PREFIX + order_id, SK: "RETURNS"}


def sku_return_key(sku: str, requested_at: str, return_id: str) -> dict[str, str]:
    """A marker under the SKU for each return of it (GET /returns?sku=), by request time."""
    return {PK: SKU_PREFIX + sku, SK: f"{RETURN_PREFIX}{requested_at}#{return_id}"}


RETURNS_FOUND_BY = f"{ALL_RETURNS}#FIND#"


def return_lookup_key(text: str, return_id: str) -> dict[str, str]:
    """A marker under an identifier a person scans at the receiving bench (Amazon's RMA id, the return
    parcel's tracking number), normalized (oms.domain.returns.lookup_text), one per return it names."""
    return {PK: RETURNS_FOUND_BY + text, SK: RETURN_PREFIX + return_id}


def returns_found_by(text: str) -> KeyQuery:
    return KeyQuery(RETURNS_FOUND_BY + text)


UNITS_PREFIX = "UNITS#"


def sku_units_key(day: str, sku: str) -> dict[str, str]:
    """A SKU's units shipped and returned on one warehouse day (`YYYY-MM-DD`), counted in the transactions that
    ship them and record the returns; one partition per month, so a 90-day window is at most 4 queries."""
    return {PK: UNITS_PREFIX + day[:7], SK: f"{day}#{sku}"}


def sku_units_between(first_day: str, last_day: str) -> list[KeyQuery]:
    """Every SKU's daily units from `first_day` to `last_day` (inclusive): one query per month touched."""
    months = sorted({first_day[:7], last_day[:7]})
    year, month = int(months[0][:4]), int(months[0][5:7])
    queries = []
    while f"{year:04d}-{month:02d}" <= months[-1]:
        queries.append(
            KeyQuery(UNITS_PREFIX + f"{year:04d}-{month:02d}", sk_from=first_day, sk_to=f"{last_day}~")
        )
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return queries


ORDERED_PREFIX = "ORDERED#"


def sku_ordered_key(sku: str, day: str) -> dict[str, str]:
    """A SKU's units ordered on one warehouse day (`YYYY-MM-DD`), per channel and marketplace, and whether it
    ran out that day: counted in the intake transaction, under the SKU so its whole history is one query."""
    return {PK: SKU_PREFIX + sku, SK: ORDERED_PREFIX + day}


def sku_ordered_between(sku: str, first_day: str, last_day: str) -> KeyQuery:
    """A SKU's daily ordered units from `first_day` to `last_day` (inclusive), oldest first."""
    return KeyQuery(SKU_PREFIX + sku, sk_from=ORDERED_PREFIX + first_day, sk_to=ORDERED_PREFIX + last_day)


PLAN_SK = "PLAN"
REORDER_DUE = "PLAN#REORDER"
SEND_TO_AMAZON = "PLAN#SEND-TO-AMAZON"
PLAN_RUN = "PLAN#RUN"


def plan_key(sku: str) -> dict[str, str]:
    """A SKU's stock plan (forecast, reorder point, safety stock, order quantity), rewritten each night."""
    return {PK: SKU_PREFIX + sku, SK: PLAN_SK}


def reorder_due_index_keys(sku: str) -> dict[str, str]:
    """gsi1, sparse: only the plans whose SKU is due for reordering (GET /planning/reorder), by SKU."""
    return {"gsi1pk": REORDER_DUE, "gsi1sk": sku}


def reorder_due() -> KeyQuery:
    return KeyQuery(REORDER_DUE, "gsi1")


def send_to_amazon_index_keys(sku: str) -> dict[str, str]:
    """gsi2, sparse: only the plans of FBA SKUs with units to send to Amazon (GET /planning/reorder), by SKU."""
    return {"gsi2pk": SEND_TO_AMAZON, "gsi2sk": sku}


def send_to_amazon() -> KeyQuery:
    return KeyQuery(SEND_TO_AMAZON, "gsi2")


def plan_run_key(day: str) -> dict[str, str]:
    """The nightly plan of one warehouse day: how far it got (the last SKU planned) and whether it is done."""
    return {PK: PLAN_RUN, SK: day}


def returns_by_time(start: str | None, end: str | None) -> KeyQuery:
    # "~" sorts after "#" and every digit, so a bare timestamp bound includes that instant's returns.
    return KeyQuery(ALL_RETURNS, "gsi1", sk_from=start, sk_to=f"{end}~" if end else None, newest_first=True)


def returns_by_status(status: str, start: str | None, end: str | None) -> KeyQuery:
    return KeyQuery(
        f"{ALL_RETURNS}#STATUS#{status}",
        "gsi2",
        sk_from=start,
        sk_to=f"{end}~" if end else None,
        newest_first=True,
    )


def returns_of_sku(sku: str, start: str | None, end: str | None) -> KeyQuery:
    return KeyQuery(
        SKU_PREFIX + sku,
        sk_from=RETURN_PREFIX + (start or ""),
        sk_to=RETURN_PREFIX + (f"{end}~" if end else "~"),
        newest_first=True,
    )


# --- refunds ------------------------------------------------------------------------------------

OPEN_REFUNDS = f"{ALL_RETURNS}#REFUNDS#OPEN"


def open_refund_key(return_id: str) -> dict[str, str]:
    """A marker per return whose refund Amazon has not yet confirmed (pending or submitted): the refund check
    reads this one partition, and the marker goes in the same transaction as the refund's last change."""
    return {PK: OPEN_REFUNDS, SK: return_id}


def open_refunds() -> KeyQuery:
    return KeyQuery(OPEN_REFUNDS)


REFUNDS_READY = f"{ALL_RETURNS}#REFUNDS#READY"


def refund_ready_key(marketplace_id: str, return_id: str) -> dict[str, str]:
    """A marker per refund pending and not yet taken into a feed, by marketplace: what the next adjustment feed
    of the marketplace carries (written with the refund, deleted in the transaction that takes it)."""
    return {PK: f"{REFUNDS_READY}#{marketplace_id}", SK: return_id}


def refunds_ready(marketplace_id: str) -> KeyQuery:
    return KeyQuery(f"{REFUNDS_READY}#{marketplace_id}")


REFUND_SLOTS = f"{ALL_RETURNS}#REFUNDS#SENDING"


def refund_slot_key(marketplace_id: str) -> dict[str, str]:
    """The marketplace's sending slot: held by the one batch of refunds whose createFeed is under way (or whose
    outcome is not known yet), so an adjustment feed Amazon lists that nobody recorded has one possible owner."""
    return {PK: REFUND_SLOTS, SK: marketplace_id}


def refund_slots() -> KeyQuery:
    return KeyQuery(REFUND_SLOTS)


def refund_feed_key(feed_id: str) -> dict[str, str]:
    """Amazon's adjustment feed -> the refunds it carries, each with its MessageID (FEED_PROCESSING_FINISHED
    names only the feed)."""
    return {PK: f"FEED#{feed_id}", SK: "REFUND"}


def listing_feed_key(feed_id: str) -> dict[str, str]:
    """A listings feed this stack sent (JSON_LISTINGS_FEED: its marketplace and each SKU's quantity): the
    FEED_PROCESSING_FINISHED notification names only the feed."""
    return {PK: f"FEED#{feed_id}", SK: "LISTINGS"}


PENDING_LISTING_FEEDS = "LISTINGFEEDS#PENDING"


def pending_listing_feed_key(sent_at: str, feed_id: str) -> dict[str, str]:
    """A marker per listings feed not settled yet, by the time it was sent: inventory_sync asks getFeed about
    those pending for a few minutes (their FEED_PROCESSING_FINISHED may be lost); settling deletes it."""
    return {PK: PENDING_LISTING_FEEDS, SK: f"{sent_at}#{feed_id}"}


def pending_listing_feeds(sent_before: str) -> KeyQuery:
    return KeyQuery(PENDING_LISTING_FEEDS, sk_before=sent_before)


# --- listing quantities waiting for the next listings feed (send_listing_feed, every minute) -----------

WANTED_LISTINGS = "LISTINGS#WANTED"


def wanted_listing_key(sku: str) -> dict[str, str]:
    """A SKU whose quantity waits for the next listings feed: a stream batch found no feed token (Amazon's
    5 listings feeds per 5 minutes), so send_listing_feed sends every SKU waiting here in one feed a minute."""
    return {PK: WANTED_LISTINGS, SK: SKU_PREFIX + sku}


def wanted_listings() -> KeyQuery:
    return KeyQuery(WANTED_LISTINGS)


# --- returns reports asked of Amazon (returns sync) ---------------------------------------------------


def returns_report_request_key(report_id: str) -> dict[str, str]:
    """A returns report this stack asked for (its type, marketplace and window), beside the finished report."""
    return {PK: f"REPORT#{report_id}", SK: "RETURNS#REQUEST"}


def returns_report_applied_key(report_id: str) -> dict[str, str]:
    """Written once a returns report's rows were applied, with its counts: a second notification skips it."""
    return {PK: f"REPORT#{report_id}", SK: "RETURNS#APPLIED"}


def returns_sync_key(report_type: str, marketplace_id: str) -> dict[str, str]:
    """Per report type and marketplace: the window applied so far and the report asked and not yet read."""
    return watermark_key("returns-sync", f"{report_type}#{marketplace_id}")


# --- webhooks out: subscriptions, their deliveries, the retries due ----------------------------------

WEBHOOK_SUBSCRIPTIONS = "WEBHOOKS"
WEBHOOK_DELIVERIES_PREFIX = "WEBHOOK#"
WEBHOOK_DELIVERIES_DUE = "WEBHOOKS#DUE"


def webhook_subscription_key(subscription_id: str) -> dict[str, str]:
    """Every subscription in one partition: a seller has a handful, and each event reads them all."""
    return {PK: WEBHOOK_SUBSCRIPTIONS, SK: "SUBSCRIPTION#" + subscription_id}


def webhook_subscriptions() -> KeyQuery:
    return KeyQuery(WEBHOOK_SUBSCRIPTIONS)


def webhook_delivery_key(subscription_id: str, delivery_id: str) -> dict[str, str]:
    """A subscription's deliveries under it; delivery ids start with the event's time, so they sort by it."""
    return {PK: WEBHOOK_DELIVERIES_PREFIX + subscription_id, SK: "DELIVERY#" + delivery_id}


def webhook_deliveries(subscription_id: str) -> KeyQuery:
    """A subscription's deliveries, newest first."""
    return KeyQuery(WEBHOOK_DELIVERIES_PREFIX + subscription_id, newest_first=True)


def webhook_due_index_keys(due_at: str, subscription_id: str, delivery_id: str) -> dict[str, str]:
    """gsi1, sparse: only deliveries waiting for an attempt (or holding one), by when it is due."""
    return {"gsi1pk": WEBHOOK_DELIVERIES_DUE, "gsi1sk": f"{due_at}#{subscription_id}#{delivery_id}"}


def webhook_deliveries_due(now: str) -> KeyQuery:
    """Every delivery whose next attempt is due at or before `now`, soonest first."""
    return KeyQuery(WEBHOOK_DELIVERIES_DUE, "gsi1", sk_to=f"{now}#~")


# --- API keys -----------------------------------------------------------------------------------

ALL_API_KEYS = "APIKEYS"
API_KEY_LOOKUP_PREFIX = "APIKEY#"


def api_key_key(key_id: str) -> dict[str, str]:
    """A key as the seller lists it (name, scopes, use): one small partition of every key ever made."""
    return {PK: ALL_API_KEYS, SK: "KEY#" + key_id}


def api_keys() -> KeyQuery:
    return KeyQuery(ALL_API_KEYS, sk_from="KEY#", sk_to="KEY#~")


def api_key_lookup_key(secret_hash: str) -> dict[str, str]:
    """The authorizer's one read: a live key by the SHA-256 of its secret (deleted when it is revoked)."""
    return {PK: API_KEY_LOOKUP_PREFIX + secret_hash, SK: "APIKEY"}


# --- planning: suppliers, their terms per SKU, purchase orders, units on order ------------------------

SUPPLIER_PREFIX = "SUPPLIER#"
ALL_SUPPLIERS = "SUPPLIERS"
SUPPLY_OF_SKU = "SUPPLY#SKU#"
PO_PREFIX = "PO#"
ALL_POS = "POS"


def supplier_key(supplier_id: str) -> dict[str, str]:
    return {PK: SUPPLIER_PREFIX + supplier_id, SK: "SUPPLIER"}


def supplier_index_keys(supplier_id: str, created_at: str) -> dict[str, str]:
    """gsi1: every supplier, oldest first."""
    return {"gsi1pk": ALL_SUPPLIERS, "gsi1sk": f"{created_at}#{supplier_id}"}


def suppliers() -> KeyQuery:
    return KeyQuery(ALL_SUPPLIERS, "gsi1")


def supply_terms_key(supplier_id: str, sku: str) -> dict[str, str]:
    """A supplier's terms for one SKU (typed, and the lead times observed on its received PO lines)."""
    return {PK: SUPPLIER_PREFIX + supplier_id, SK: SKU_PREFIX + sku}


def supply_terms_index_keys(sku: str, supplier_id: str) -> dict[str, str]:
    """gsi1: the suppliers of a SKU (supply_terms)."""
    return {"gsi1pk": SUPPLY_OF_SKU + sku, "gsi1sk": supplier_id}


def terms_of_supplier(supplier_id: str) -> KeyQuery:
    return KeyQuery(SUPPLIER_PREFIX + supplier_id, sk_from=SKU_PREFIX, sk_to=SKU_PREFIX + "\U0010ffff")


def suppliers_of_sku(sku: str) -> KeyQuery:
    return KeyQuery(SUPPLY_OF_SKU + sku, "gsi1")


def purchase_order_key(po_id: str) -> dict[str, str]:
    return {PK: PO_PREFIX + po_id, SK: "PO"}


def purchase_order_index_keys(po_id: str, status: str, created_at: str, supplier_id: str) -> dict[str, str]:
    """gsi1: every PO, newest first; gsi2: by status; gsi3: by supplier (all by creation time)."""
    return {
        "gsi1pk": ALL_POS,
        "gsi1sk": f"{created_at}#{po_id}",
        "gsi2pk": f"{ALL_POS}#STATUS#{status}",
        "gsi2sk": f"{created_at}#{po_id}",
        "gsi3pk": f"{ALL_POS}#SUPPLIER#{supplier_id}",
        "gsi3sk": f"{created_at}#{po_id}",
    }


def purchase_orders(status: str | None = None, supplier_id: str | None = None) -> KeyQuery:
    if status:
        return KeyQuery(f"{ALL_POS}#STATUS#{status}", "gsi2", newest_first=True)
    if supplier_id:
        return KeyQuery(f"{ALL_POS}#SUPPLIER#{supplier_id}", "gsi3", newest_first=True)
    return KeyQuery(ALL_POS, "gsi1", newest_first=True)


def on_order_key(sku: str) -> dict[str, str]:
    """A SKU's units on order (sent, not yet received or cancelled), counted in the POs' transactions."""
    return {PK: SKU_PREFIX + sku, SK: "ONORDER"}


# --- order rules -------------------------------------------------------------------------------------

RULES = "RULES"


def rule_key(rule_id: str) -> dict[str, str]:
    """The seller's order rules, all in one small partition (read whole: a seller keeps tens, not thousands)."""
    return {PK: RULES, SK: f"RULE#{rule_id}"}


def rules() -> KeyQuery:
    return KeyQuery(RULES, sk_from="RULE#", sk_to="RULE#~")


def rule_run_key(order_id: str, change_id: str) -> dict[str, str]:
    """Written with the rules' effects on an order, once per change they reacted to: a redelivered event
    finds it and changes nothing."""
    return {PK: ORDER_PREFIX + order_id, SK: f"RULERUN#{change_id}"}


def rule_log_key(order_id: str, at: str, change_id: str, index: int) -> dict[str, str]:
    """One action a rule took on an order (the order's timeline reads these)."""
    return {PK: ORDER_PREFIX + order_id, SK: f"RULELOG#{at}#{change_id}#{index:02d}"}


# --- integrations: webhook endpoints other systems call, and the deliveries they sent ----------------

INTEGRATION_PREFIX = "INTEGRATION#"
ALL_INTEGRATIONS = "INTEGRATIONS"


def integration_key(integration_id: str) -> dict[str, str]:
    return {PK: INTEGRATION_PREFIX + integration_id, SK: "INTEGRATION"}


def integration_index_keys(integration_id: str, created_at: str) -> dict[str, str]:
    """gsi1: every integration, oldest first."""
    return {"gsi1pk": ALL_INTEGRATIONS, "gsi1sk": f"{created_at}#{integration_id}"}


def integrations_by_creation() -> KeyQuery:
    return KeyQuery(ALL_INTEGRATIONS, "gsi1")


def inbound_delivery_key(integration_id: str, delivery_id: str) -> dict[str, str]:
    """A delivery an integration sent: queued once (the receiver), applied once (the processor)."""
    return {PK: INTEGRATION_PREFIX + integration_id, SK: f"DELIVERY#{delivery_id}"}


def integration_record_key(integration_id: str, kind: str, at: str, delivery_id: str) -> dict[str, str]:
    """What a delivery left behind, kept: a generic event (kind EVENT) or a refused payload (PROBLEM)."""
    return {PK: INTEGRATION_PREFIX + integration_id, SK: f"{kind}#{at}#{delivery_id}"}


def integration_records(integration_id: str, kind: str) -> KeyQuery:
    return KeyQuery(
        INTEGRATION_PREFIX + integration_id, sk_from=f"{kind}#", sk_to=f"{kind}#~", newest_first=True
    )


# --- customer care: buyer messages ------------------------------------------------------------------
# A thread (one order and one buyer alias) has its clock in the main table, with no PII: the order id,
# status and due time. Its messages and the buyer's alias are buyer data, in the buyer-data table, under
# the purge (gsi1 BUYERDATA#DUE there).

THREAD_PREFIX = "THREAD#"
MESSAGES_AWAITING = "MESSAGES#AWAITING"
MESSAGES_CLOSED = "MESSAGES#CLOSED"
MESSAGES_QUARANTINE = "MESSAGES#QUARANTINE"


def thread_key(thread_id: str) -> dict[str, str]:
    return {PK: THREAD_PREFIX + thread_id, SK: "THREAD"}


def thread_index_keys(
    *, thread_id: str, order_id: str, awaiting: bool, due_at: str, last_at: str
) -> dict[str, str]:
    """gsi1: threads waiting for an answer by due time (the inbox, least time left first), the others by their
    last message, newest first; gsi2: an order's threads."""
    return {
        "gsi1pk": MESSAGES_AWAITING if awaiting else MESSAGES_CLOSED,
        "gsi1sk": f"{due_at if awaiting else last_at}#{thread_id}",
        "gsi2pk": f"MESSAGES#ORDER#{order_id}",
        "gsi2sk": f"{last_at}#{thread_id}",
    }


def threads_awaiting() -> KeyQuery:
    return KeyQuery(MESSAGES_AWAITING, "gsi1")


def threads_closed() -> KeyQuery:
    return KeyQuery(MESSAGES_CLOSED, "gsi1", newest_first=True)


def threads_of_order(order_id: str) -> KeyQuery:
    return KeyQuery(f"MESSAGES#ORDER#{order_id}", "gsi2", newest_first=True)


def thread_buyer_key(thread_id: str) -> dict[str, str]:
    """Buyer-data table: the buyer's alias of a thread (their anonymised relay address)."""
    return {PK: THREAD_PREFIX + thread_id, SK: "BUYER"}


def thread_message_key(thread_id: str, received_at: str, message_hash: str) -> dict[str, str]:
    """Buyer-data table: one message of a thread, in the order received."""
    return {PK: THREAD_PREFIX + thread_id, SK: f"MSG#{received_at}#{message_hash}"}


def reply_request_key(scoped_key: str) -> dict[str, str]:
    """Main table, no PII: the reply an Idempotency-Key started (the caller's key on the replies route),
    written with the reply's "sending" record, so a retry finds it and never sends a second mail."""
    return {PK: f"REPLYREQ#{scoped_key}", SK: "REPLYREQ"}


def thread_messages(thread_id: str) -> KeyQuery:
    return KeyQuery(THREAD_PREFIX + thread_id, sk_from="MSG#", sk_to="MSG#~")


def mail_seen_key(message_hash: str) -> dict[str, str]:
    """Buyer-data table: a delivered mail (by its Message-ID's hash), written with what it changed: SES
    delivers at least once, so a second delivery finds it and changes nothing."""
    return {PK: f"MAIL#{message_hash}", SK: "MAIL"}


def quarantined_key(received_at: str, message_hash: str) -> dict[str, str]:
    """Buyer-data table: a mail that could not be taken as a buyer's message, with the reason."""
    return {PK: MESSAGES_QUARANTINE, SK: f"{received_at}#{message_hash}"}


def quarantined() -> KeyQuery:
    return KeyQuery(MESSAGES_QUARANTINE, newest_first=True)


def response_clock_key(received_at: str, thread_id: str, message_hash: str) -> dict[str, str]:
    """Main table, no PII: one buyer message's 24-hour clock (received, due, answered or not needed), kept
    after the purge for the late response rate; one partition per month of receipt."""
    return {PK: f"MSGCLOCK#{received_at[:7]}", SK: f"{received_at}#{thread_id}#{message_hash}"}


def response_clocks(month: str, since: str) -> KeyQuery:
    """A month's message clocks (`month` as YYYY-MM) received at or after `since`."""
    return KeyQuery(f"MSGCLOCK#{month}", sk_from=since)


def threads_due_before(instant: str) -> KeyQuery:
    """Waiting threads due before `instant` (the clock's at-risk horizon), least time left first."""
    return KeyQuery(MESSAGES_AWAITING, "gsi1", sk_before=instant)


def same_purge(item: dict[str, Any]) -> dict[str, Any]:
    """The purge index keys and TTL of a buyer-data item, for another item that must go with it."""
    return {name: item[name] for name in ("gsi1pk", "gsi1sk", TTL_ATTRIBUTE) if name in item}


REPLY_TEMPLATES = "MESSAGES#TEMPLATES"


def reply_template_key(template_id: str) -> dict[str, str]:
    return {PK: REPLY_TEMPLATES, SK: template_id}


def reply_templates() -> KeyQuery:
    return KeyQuery(REPLY_TEMPLATES)


def intent_rules_key() -> dict[str, str]:
    """The seller's rules that name what a buyer's message is about (oms.care.intents)."""
    return {PK: "MESSAGES#INTENTRULES", SK: "RULES"}


def care_setup_key() -> dict[str, str]:
    """The seller's customer-care choices (e.g. answering "where is my order" by itself)."""
    return {PK: "CONFIG#care", SK: "CONFIG"}


def buyer_thread_key(buyer_id: str, thread_id: str) -> dict[str, str]:
    """Buyer-data table: one of a buyer's threads (buyer id: a hash of their alias), for the per-buyer view."""
    return {PK: f"BUYER#{buyer_id}", SK: f"THREAD#{thread_id}"}


def buyer_threads(buyer_id: str) -> KeyQuery:
    return KeyQuery(f"BUYER#{buyer_id}", sk_from="THREAD#", sk_to="THREAD#~")
