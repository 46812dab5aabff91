"""Buyers' returns and the Reports API (2021-06-30) of the local marketplace, for Amazon's two returns reports.

- A buyer returns units of a shipped order (the buyer thread returns a share of them; `oms simulate return`
  or POST /_simulator/orders/{orderId}/returns makes one now) with one of Amazon's reason codes. A
  seller-fulfilled return gets an Amazon RMA id, in policy or not (in policy: approved at once, with a
  prepaid label and its tracking id); an FBA return goes back to a fulfilment centre, where Amazon grades
  it (detailed disposition) under a licence plate.
- createReport / getReport / getReportDocument answer GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE and
  GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA in Amazon's tab-separated formats (columns:
  ../shared/sp-api-models/returns-reports.md), at most 60 days a request. A report finishes a moment
  later and REPORT_PROCESSING_FINISHED is sent; an empty one ends CANCELLED without a document, as
  Amazon's do. An FBA return is listed a second time with a later date now and then (Amazon's quirk).
  Documents over a size are gzipped (compressionAlgorithm GZIP) and served from a presigned-like URL.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from oms_local.simulator import contract, shapes
from oms_local.simulator.config import DOCUMENTS_PATH
from oms_local.simulator.entities import Order
from oms_local.simulator.market_core import ApiError, MarketCore, invalid

MFN_RETURNS = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
FBA_RETURNS = "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA"
REPORT_TYPES = (MFN_RETURNS, FBA_RETURNS)
MAX_WINDOW = timedelta(days=60)
GZIP_OVER_BYTES = 1024  # documents larger than this are served gzipped, as Amazon does large ones

# Amazon's return reason codes, weighted roughly as buyers use them; those the seller caused are marked.
REASONS: tuple[tuple[str, float, bool], ...] = (
    ("UNWANTED_ITEM", 0.22, False),
    ("DEFECTIVE", 0.18, True),
    ("NOT_AS_DESCRIBED", 0.12, True),
    ("ORDERED_WRONG_ITEM", 0.1, False),
    ("WRONG_ITEM", 0.07, True),
    ("DAMAGED_BY_CARRIER", 0.07, True),
    ("FOUND_BETTER_PRICE", 0.08, False),
    ("NO_REASON_GIVEN", 0.06, False),
    ("APPAREL_TOO_SMALL", 0.05, False),
    ("MISSED_ESTIMATED_DELIVERY", 0.05, True),
)
SELLER_FAULT = {code for code, _, fault in REASONS if fault}
DISPOSITIONS = (("SELLABLE", 0.6), ("CUSTOMER_DAMAGED", 0.15), ("DEFECTIVE", 0.1), ("CARRIER_DAMAGED", 0.1),
                ("DAMAGED", 0.05))  # fmt: skip
RMA_STATUSES = ("Pending", "Approved", "Closed", "Rejected")  # Return request status, as the report writes it
FULFILMENT_CENTRES = ("PHX7", "SDF8", "BFI4", "MDW2", "TPA1")

MFN_COLUMNS = (
    "Order ID", "Order date", "Return request date", "Return request status", "Amazon RMA ID",
    "Merchant RMA ID", "Label type", "Label cost", "Currency code", "Return carrier", "Tracking ID",
    "Label to be paid by", "A-to-Z Claim", "Is prime", "ASIN", "Merchant SKU", "Item Name", "Return quantity",
    "Return Reason", "In policy", "Return type", "Resolution", "Invoice number", "Return delivery date",
    "Order Amount", "Order quantity", "SafeT Action reason", "SafeT claim id", "SafeT claim state",
    "SafeT claim creation time", "SafeT claim reimbursement amount", "Refunded Amount",
)  # fmt: skip
FBA_COLUMNS = (
    "return-date", "order-id", "sku", "asin", "fnsku", "product-name", "quantity", "fulfillment-center-id",
    "detailed-disposition", "reason", "status", "license-plate-number", "customer-comments",
)  # fmt: skip


@dataclass
class BuyerReturn:
    """One returned SKU of an order, as Amazon's report lists it."""

    order_id: str
    afn: bool
    order_created: datetime
    prime: bool
    sku: str
    asin: str
    fnsku: str
    title: str
    quantity: int
    unit_price: Decimal
    reason: str
    requested: datetime
    in_policy: bool
    rma_id: str | None = None  # seller-fulfilled
    status: str = "Approved"
    tracking_id: str | None = None
    label_cost: Decimal | None = None
    license_plate: str | None = None  # FBA
    fulfillment_centre: str | None = None
    disposition: str | None = None
    listed_again: datetime | None = None  # FBA: the same return listed once more, with this later date


@dataclass
class SimReport:
    report_id: str
    report_type: str
    start: datetime
    end: datetime
    created: datetime
    status: str = "IN_QUEUE"
    started: datetime | None = None
    finished: datetime | None = None
    document_id: str | None = None


@dataclass
class SimDocument:
    document_id: str
    data: bytes
    gzipped: bool


def _tsv(columns: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    return (
        "\n".join(["\t".join(columns)] + ["\t".join(row.get(c, "") for c in columns) for row in rows]) + "\n"
    )


class ReportsApi(MarketCore):
    """Buyers' returns, createReport, getReport, getReportDocument and the documents' bytes."""

    # state kept beside the core's, created on first use (the core knows nothing of returns)
    @property
    def returns(self) -> list[BuyerReturn]:
        return self.__dict__.setdefault("_returns", [])

    @property
    def reports(self) -> dict[str, SimReport]:
        return self.__dict__.setdefault("_reports", {})

    @property
    def documents(self) -> dict[str, SimDocument]:
        return self.__dict__.setdefault("_documents", {})

    # ------------------------------------------------------------------ buyers return things

    def returnable(self, order: Order) -> dict[str, int]:
        """Units per SKU of the order shipped and not returned yet."""
        left: dict[str, int] = {}
        for line in order.lines:
            left[line.product.sku] = left.get(line.product.sku, 0) + line.shipped
        for ret in self.returns:
            if ret.order_id == order.order_id:
                left[ret.sku] -= ret.quantity
        return {sku: units for sku, units in left.items() if units > 0}

    def return_order(
        self,
        order_id: str,
        *,
        sku: str | None = None,
        quantity: int | None = None,
        reason: str | None = None,
        in_policy: bool | None = None,
        disposition: str | None = None,
    ) -> dict[str, Any]:
        """A buyer returns units of a shipped order now (one SKU; all its shipped units unless `quantity`)."""
        with self._lock:
            order = self._order(order_id)
            left = self.returnable(order)
            if not left:
                raise invalid("Invalid Input", f"order {order_id} has no shipped units left to return")
            sku = sku or self.rng.choice(sorted(left))
            if sku not in left:
                raise invalid(
                    "Invalid Input", f"order {order_id} has no shipped units of {sku} left to return"
                )
            quantity = quantity or left[sku]
            if not 0 < quantity <= left[sku]:
                raise invalid("Invalid Input", f"at most {left[sku]} unit(s) of {sku} can be returned")
            codes = [code for code, _, _ in REASONS]
            if reason is not None and reason not in codes:
                raise invalid("Invalid Input", f"reason must be one of {', '.join(codes)}")
            reason = reason or self.rng.choices(codes, [w for _, w, _ in REASONS])[0]
            line = next(ln for ln in order.lines if ln.product.sku == sku)
            now = self.clock()
            ret = BuyerReturn(
                order_id=order_id,
                afn=order.afn,
                order_created=order.created,
                prime=order.prime,
                sku=sku,
                asin=line.product.asin,
                fnsku=line.product.fn_sku,
                title=line.product.title,
                quantity=quantity,
                unit_price=line.unit_price,
                reason=reason,
                requested=now,
                in_policy=self.rng.random() < 0.85 if in_policy is None else in_policy,
            )
            if order.afn:
                ret.license_plate = "LPNRR" + "".join(
                    self.rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(9)
                )
                ret.fulfillment_centre = self.rng.choice(FULFILMENT_CENTRES)
                ret.disposition = (
                    disposition
                    or self.rng.choices([d for d, _ in DISPOSITIONS], [w for _, w in DISPOSITIONS])[0]
                )
                if self.rng.random() < 0.2:
                    ret.listed_again = now + timedelta(days=self.rng.randint(1, 3))
            else:
                ret.rma_id = "D" + "".join(
                    self.rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(9)
                )
                ret.status = "Approved" if ret.in_policy else "Pending"
                if ret.in_policy:  # a prepaid label: Amazon's carrier, a tracking id
                    ret.tracking_id = "1Z" + "".join(self.rng.choice("0123456789") for _ in range(16))
                    ret.label_cost = Decimal(self.rng.randint(550, 1290)) / 100
            self.returns.append(ret)
            return self.return_view(ret)

    def decide_return(self, rma_id: str, status: str) -> dict[str, Any]:
        """Amazon moves a seller-fulfilled return request on (the seller decided in Seller Central, or Amazon
        closed it): Approved gives it a prepaid label; the next returns reports show the new status."""
        if status not in RMA_STATUSES:
            raise invalid("Invalid Input", f"status must be one of {', '.join(RMA_STATUSES)}")
        with self._lock:
            ret = next((r for r in self.returns if r.rma_id == rma_id), None)
            if ret is None:
                raise ApiError(404, "NotFound", f"Return {rma_id} was not found.")
            ret.status = status
            if status == "Approved" and ret.tracking_id is None:
                ret.tracking_id = "1Z" + "".join(self.rng.choice("0123456789") for _ in range(16))
                ret.label_cost = Decimal(self.rng.randint(550, 1290)) / 100
            return self.return_view(ret)

    @staticmethod
    def return_view(ret: BuyerReturn) -> dict[str, Any]:
        """A return as the control endpoint shows it (not an SP-API shape)."""
        return {
            "orderId": ret.order_id,
            "sku": ret.sku,
            "quantity": ret.quantity,
            "reason": ret.reason,
            "inPolicy": ret.in_policy,
            "requestedTime": shapes.iso(ret.requested),
            **({"amazonRmaId": ret.rma_id, "status": ret.status} if ret.rma_id else {}),
            **({"trackingId": ret.tracking_id, "carrier": "UPS"} if ret.tracking_id else {}),
            **(
                {
                    "licensePlateNumber": ret.license_plate,
                    "fulfillmentCenterId": ret.fulfillment_centre,
                    "detailedDisposition": ret.disposition,
                }
                if ret.license_plate
                else {}
            ),
        }

    def return_random_order(self) -> dict[str, Any] | None:
        """The buyer thread: someone returns units of a shipped order, if any is left to return."""
        with self._lock:
            candidates = [o.order_id for o in self.orders.values() if self.returnable(o)]
        if not candidates:
            return None
        return self.return_order(self.rng.choice(sorted(candidates)))

    # ------------------------------------------------------------------ Reports API

    def create_report(self, body: Any) -> dict[str, Any]:
        problems = contract.request_body_problems("createReport", body)
        if problems or not isinstance(body, dict):
            raise invalid("Invalid Input", "; ".join(problems[:3]) or "the body must be a JSON object")
        report_type = body["reportType"]
        if report_type not in REPORT_TYPES:
            raise invalid("Invalid Input", f"this local marketplace builds {' and '.join(REPORT_TYPES)} only")
        if body["marketplaceIds"] != [self.marketplace_id]:
            raise invalid("Invalid Input", f"marketplaceIds takes one marketplace ({self.marketplace_id}).")
        now = self.clock()
        try:
            end = datetime.fromisoformat(body.get("dataEndTime", shapes.iso(now)).replace("Z", "+00:00"))
            start = datetime.fromisoformat(
                body.get("dataStartTime", shapes.iso(end - timedelta(days=30))).replace("Z", "+00:00")
            )
        except ValueError:
            raise invalid("Invalid Input", "dataStartTime and dataEndTime are ISO 8601 date-times") from None
        if start.tzinfo is None or end.tzinfo is None or start > end:
            raise invalid("Invalid Input", "dataStartTime must be a zoned time before dataEndTime")
        if end - start > MAX_WINDOW:
            raise invalid("Invalid Input", "Returns reports cover at most 60 days: narrow the date range.")
        with self._lock:
            report_id = str(self.rng.randrange(10**10, 10**11))
            self.reports[report_id] = SimReport(report_id, report_type, start, end, created=now)
        self._later((0.3, 1.2), lambda: self._process_report(report_id))
        return {"reportId": report_id}

    def _process_report(self, report_id: str) -> None:
        with self._lock:
            report = self.reports[report_id]
            now = self.clock()
            report.started, report.status = now, "IN_PROGRESS"
            text, rows = self._document_text(report)
            report.finished = now
            fatal = int(self.__dict__.get("_fatal", 0))
            if fatal:
                self.__dict__["_fatal"] = fatal - 1
                report.status = "FATAL"
            elif rows:
                document_id = f"amzn1.tortuga.4.na.{self._uuid()}.T{report_id}"
                data = text.encode("utf-8")
                gzipped = len(data) > GZIP_OVER_BYTES
                self.documents[document_id] = SimDocument(
                    document_id, gzip.compress(data) if gzipped else data, gzipped
                )
                report.document_id, report.status = document_id, "DONE"
            else:
                report.status = "CANCELLED"  # Amazon's way of finishing a returns report with nothing in it
            notice = self._report_finished(report)
        self._publish([notice])

    def _document_text(self, report: SimReport) -> tuple[str, int]:
        if report.report_type == MFN_RETURNS:
            # Amazon dates a return to the second (the report's own column): one made within the second the
            # window ends at is in it, as its date reads
            mfn = [
                r for r in self.returns if not r.afn and report.start <= _second(r.requested) <= report.end
            ]
            return _tsv(MFN_COLUMNS, [self._mfn_row(r) for r in mfn]), len(mfn)
        rows = []
        for ret in (r for r in self.returns if r.afn):
            for day in (ret.requested, ret.listed_again):
                if day is not None and report.start <= _second(day) <= report.end:
                    rows.append(self._fba_row(ret, day))
        return _tsv(FBA_COLUMNS, rows), len(rows)

    @staticmethod
    def _mfn_row(ret: BuyerReturn) -> dict[str, str]:
        fault = ret.reason in SELLER_FAULT
        return {
            "Order ID": ret.order_id,
            "Order date": ret.order_created.strftime("%d-%b-%Y"),
            "Return request date": ret.requested.strftime("%d-%b-%Y %H:%M:%S"),
            "Return request status": ret.status,
            "Amazon RMA ID": ret.rma_id or "",
            "Label type": "AmazonPrePaidLabel" if ret.tracking_id else "",
            "Label cost": str(ret.label_cost) if ret.label_cost is not None else "",
            "Currency code": "USD" if ret.label_cost is not None else "",
            "Return carrier": "UPS" if ret.tracking_id else "",
            "Tracking ID": ret.tracking_id or "",
            "Label to be paid by": ("Seller" if fault else "Customer") if ret.tracking_id else "",
            "A-to-Z Claim": "N",
            "Is prime": "Y" if ret.prime else "N",
            "ASIN": ret.asin,
            "Merchant SKU": ret.sku,
            "Item Name": ret.title,
            "Return quantity": str(ret.quantity),
            "Return Reason": ret.reason,
            "In policy": "Y" if ret.in_policy else "N",
            "Return type": "C-Returns",
            "Resolution": "StandardRefund",
            "Order Amount": str(ret.unit_price * ret.quantity),
            "Order quantity": str(ret.quantity),
        }

    @staticmethod
    def _fba_row(ret: BuyerReturn, day: datetime) -> dict[str, str]:
        return {
            "return-date": day.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "order-id": ret.order_id,
            "sku": ret.sku,
            "asin": ret.asin,
            "fnsku": ret.fnsku,
            "product-name": ret.title.replace("\t", " "),
            "quantity": str(ret.quantity),
            "fulfillment-center-id": ret.fulfillment_centre or "",
            "detailed-disposition": ret.disposition or "",
            "reason": ret.reason,
            "status": "Unit returned to inventory" if ret.disposition == "SELLABLE" else "Unit quarantined",
            "license-plate-number": ret.license_plate or "",
            "customer-comments": "",
        }

    def _report_finished(self, report: SimReport) -> dict[str, Any]:
        """REPORT_PROCESSING_FINISHED, camelCase as Amazon writes this type (schemas/notifications)."""
        now = report.finished or self.clock()
        finished: dict[str, Any] = {
            "sellerId": self.seller_id,
            "accountId": f"amzn1.merchant.o.{self.seller_id}",
            "reportId": report.report_id,
            "reportType": report.report_type,
            "processingStatus": report.status,
        }
        if report.document_id:
            finished["reportDocumentId"] = report.document_id
        return {
            "notificationVersion": "2020-09-04",
            "notificationType": "REPORT_PROCESSING_FINISHED",
            "payloadVersion": "2020-09-04",
            "eventTime": shapes.iso_ms(now),
            "payload": {"reportProcessingFinishedNotification": finished},
            "notificationMetadata": {
                "applicationId": self.application_id,
                "subscriptionId": self.subscription_id,
                "publishTime": shapes.iso_ms(now + timedelta(milliseconds=self.rng.randint(30, 900))),
                "notificationId": self._uuid(),
            },
        }

    def get_report(self, report_id: str) -> dict[str, Any]:
        with self._lock:
            report = self.reports.get(report_id)
            if report is None:
                raise ApiError(404, "NotFound", f"Report {report_id} was not found.")
            answer: dict[str, Any] = {
                "marketplaceIds": [self.marketplace_id],
                "reportId": report.report_id,
                "reportType": report.report_type,
                "dataStartTime": shapes.iso(report.start),
                "dataEndTime": shapes.iso(report.end),
                "createdTime": shapes.iso(report.created),
                "processingStatus": report.status,
            }
            if report.started:
                answer["processingStartTime"] = shapes.iso(report.started)
            if report.finished:
                answer["processingEndTime"] = shapes.iso(report.finished)
            if report.document_id:
                answer["reportDocumentId"] = report.document_id
            return answer

    def get_report_document(self, document_id: str, base_url: str) -> dict[str, Any]:
        with self._lock:
            document = self.documents.get(document_id)
            if document is None:
                raise ApiError(404, "NotFound", f"Report document {document_id} was not found.")
            answer = {"reportDocumentId": document_id, "url": f"{base_url}{DOCUMENTS_PATH}{document_id}"}
            if document.gzipped:
                answer["compressionAlgorithm"] = "GZIP"
            return answer

    def document_bytes(self, document_id: str) -> bytes | None:
        with self._lock:
            document = self.documents.get(document_id)
            return document.data if document else None

    def fail_next_reports(self, count: int) -> None:
        """The control endpoint: the next `count` reports end FATAL (Amazon could not build them)."""
        self.__dict__["_fatal"] = max(count, 0)


def _second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)
