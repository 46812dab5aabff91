"""The warehouse's paper: pick lists, packing slips and the carrier's end-of-day form, as PDF bytes.

Rendering only: callers gather the orders, stock and shipments and store the bytes (oms.store.documents).
Text is set in DejaVu Sans, shipped in oms/fonts/ with its license, because buyer names, addresses
and titles come in any script and PDF's built-in fonts are latin-1 only. A character the font lacks
(Chinese, Japanese and Korean among them) prints as U+FFFD instead of failing the document; right-to-left
scripts print unshaped. The same input gives the same bytes: no random ids, and the PDF's creation date
is the document's own date. The PDF library (fpdf2 and its fonts) loads on the first document drawn
(oms.shipping.pdf_document), not when a function that may print starts. Each document reads like its warehouse: times in the warehouse's zone with
the zone named, Letter paper and pounds and ounces for a US warehouse, A4 and grams elsewhere (PrintSetup).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from oms.domain.orders import Order
from oms.domain.picking import PickLine
from oms.domain.types import Money, iso_z

if TYPE_CHECKING:
    from oms.shipping.pdf_document import _Document

Paper = Literal["A4", "Letter"]

FONT_DIR = Path(__file__).parent / "fonts"
FONT_FAMILY = "DejaVuSans"
CREATOR = "amazon-seller-oms"
NOT_ON_HAND = "not on hand"
NO_ADDRESS = "address on the shipping label"
MANIFEST_CSV_COLUMNS = (
    "order-id",
    "shipment-id",
    "tracking-number",
    "carrier",
    "service",
    "weight-grams",
    "shipped-at",
    "label-cost",
    "label-currency",
)

_GRAMS_PER_OUNCE = 28.349523125
_REPLACEMENT = "\ufffd"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CODE39 = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%")
_MAX_ORDER_IDS_ON_A_LINE = 6
_GRAY = 110


@dataclass(frozen=True)
class PrintSetup:
    """How the warehouse reads its paper: the sheet, the clock and the scale."""

    time_zone: str = "UTC"
    paper: Paper = "A4"
    imperial: bool = False  # pounds and ounces instead of grams

    @classmethod
    def for_warehouse(cls, country: str, time_zone: str) -> PrintSetup:
        """Letter and lb/oz for a US warehouse, A4 and metric elsewhere; times in the warehouse's zone."""
        us = country.upper() == "US"
        return cls(time_zone=time_zone, paper="Letter" if us else "A4", imperial=us)

    def local(self, value: datetime) -> datetime:
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(ZoneInfo(self.time_zone))

    def when(self, value: datetime) -> str:
        """ "2026-11-26 04:30 EST": the warehouse's wall clock, its zone named."""
        return self.local(value).strftime("%Y-%m-%d %H:%M %Z").strip()

    def zone_note(self) -> str:
        return f"Times in the warehouse's zone, {self.time_zone}"

    def weight(self, grams: int) -> str:
        """ "2 lb 3.3 oz" or "12.5 oz" for a US warehouse, "1,002 g (1.00 kg)" elsewhere."""
        if not self.imperial:
            return f"{grams:,} g ({grams / 1000:.2f} kg)" if grams >= 1000 else f"{grams:,} g"
        tenths = round(grams / _GRAMS_PER_OUNCE * 10)  # whole tenths of an ounce: 15.96 oz is 1 lb 0.0 oz
        pounds, tenths = divmod(tenths, 160)
        ounces = f"{tenths / 10:.1f} oz"
        return f"{pounds:,} lb {ounces}" if pounds else ounces

    def package_weight(self, grams: int) -> str:
        """A table cell: "1 lb 1.7 oz", or "502" under a "Grams" heading."""
        return self.weight(grams) if self.imperial else f"{grams:,}"

    @property
    def weight_heading(self) -> str:
        return "Weight" if self.imperial else "Grams"


UTC_A4 = PrintSetup()


@dataclass(frozen=True)
class PackingSlip:
    """One order's slip: ship_to is the address lines, or None when the buyer's address is not at hand."""

    order: Order
    ship_to: list[str] | None
    seller_name: str


@dataclass(frozen=True)
class ManifestPackage:
    order_id: str
    shipment_id: str
    tracking_number: str
    service: str
    weight_grams: int | None
    shipped_at: datetime
    label_cost: Money | None = None  # what a label bought through Amazon cost


@dataclass(frozen=True)
class EndOfDayForm:
    """A carrier's packages of one shipping day, for the driver to sign at pickup."""

    day: date
    carrier_code: str
    carrier_name: str
    cutoff_local: str  # e.g. "2026-11-26 16:00 EST"
    packages: list[ManifestPackage]
    print_setup: PrintSetup = UTC_A4  # the warehouse's paper, zone and units


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# ---------------------------------------------------------------------------------------------- pick list


def pick_list_pdf(
    batch_id: str,
    created_at: datetime,
    lines: Sequence[PickLine],
    order_count: int,
    *,
    setup: PrintSetup = UTC_A4,
) -> bytes:
    """The batch's pick list: one row per bin and SKU in walking order, with a box to tick."""
    from fpdf.enums import Align

    from oms.shipping.pdf_document import _TABLE_STYLE, _Document, _row

    pdf = _Document(
        title=f"Pick list {batch_id}", created=created_at, paper=setup.paper, footer=f"Pick list {batch_id}"
    )
    pdf.add_page()
    units = sum(line.units for line in lines)
    short = [line for line in lines if line.location is None]

    pdf.line_of("Pick list", size=18, bold=True, height=9)
    pdf.line_of(f"Batch {batch_id}", size=11, bold=True)
    pdf.line_of(f"Created {setup.when(created_at)}")
    pdf.line_of(f"{_plural(order_count, 'order')} · {_plural(len(lines), 'line')} · {_plural(units, 'unit')}")
    pdf.ln(3)

    pdf.font(9)
    with pdf.table(
        col_widths=(30, 38, 88, 15, 15),
        text_align=(Align.L, Align.L, Align.L, Align.R, Align.C),
        **_TABLE_STYLE,
    ) as table:
        _row(table, pdf, ("Location", "SKU", "Title", "Units", "Picked"))
        for line in lines:
            title = line.title or ""
            if line.order_ids:
                shown = ", ".join(line.order_ids[:_MAX_ORDER_IDS_ON_A_LINE])
                more = len(line.order_ids) - _MAX_ORDER_IDS_ON_A_LINE
                title += f"\nfor {shown}" + (f" and {more} more" if more > 0 else "")
            location = NOT_ON_HAND if line.location is None else line.location
            _row(table, pdf, (location, line.sku, title.strip(), str(line.units), "☐"), bold=(0, 3))

    pdf.ln(4)
    pdf.line_of(f"Total: {_plural(units, 'unit')} in {_plural(len(lines), 'line')}", bold=True)
    if short:
        missing = sum(line.units for line in short)
        pdf.line_of(
            f"Not on hand: {_plural(missing, 'unit')} of {_plural(len(short), 'SKU')}"
            " (no location holds them; see the last lines)"
        )
    pdf.ln(6)
    pdf.line_of("Picked by: ______________________    Checked by: ______________________")
    return pdf.done()


def packing_slips_pdf(slips: Sequence[PackingSlip], *, setup: PrintSetup = UTC_A4) -> bytes:
    """One page per order (more only if its items do not fit): what is in the box, for the buyer."""
    from oms.shipping.pdf_document import _Document

    latest = max((slip.order.last_update_date for slip in slips), default=datetime(2000, 1, 1, tzinfo=UTC))
    pdf = _Document(title="Packing slips", created=latest, paper=setup.paper, footer=None)
    for slip in slips:
        _packing_slip(pdf, slip, setup)
    if not slips:
        pdf.add_page()
        pdf.line_of("No packing slips in this batch.")
    return pdf.done()


def _packing_slip(pdf: _Document, slip: PackingSlip, setup: PrintSetup) -> None:
    from fpdf.enums import Align

    from oms.shipping.pdf_document import _TABLE_STYLE, _row

    order = slip.order
    pdf.add_page()
    pdf.line_of(slip.seller_name, size=16, bold=True, height=8)
    pdf.line_of("Packing slip", size=11)
    pdf.ln(2)
    pdf.rule()

    pdf.line_of(f"Order {order.order_id}", size=12, bold=True, height=6.5)
    code = f"*{order.order_id.upper()}*"
    if set(code[1:-1]) <= _CODE39 and len(code) <= 32:
        pdf.set_fill_color(0)
        pdf.code39(code, x=pdf.l_margin, y=pdf.get_y() + 1, w=0.75, h=11)
        pdf.set_y(pdf.get_y() + 14)
    pdf.line_of(f"Order date: {setup.local(order.purchase_date):%Y-%m-%d}")  # the warehouse's day
    pdf.ln(3)

    pdf.line_of("Ship to", bold=True)
    if slip.ship_to:
        for address_line in slip.ship_to:
            pdf.line_of(address_line)
    else:
        pdf.set_text_color(_GRAY)
        pdf.line_of(NO_ADDRESS)
        pdf.set_text_color(0)
    pdf.ln(5)

    to_ship = [(item, item.quantity - item.quantity_shipped) for item in order.items]
    to_ship = [(item, units) for item, units in to_ship if units > 0]
    pdf.font(9.5)
    with pdf.table(
        col_widths=(45, 116, 25),
        text_align=(Align.L, Align.L, Align.R),
        **_TABLE_STYLE,
    ) as table:
        _row(table, pdf, ("SKU", "Item", "Quantity"))
        for item, units in to_ship:
            _row(table, pdf, (item.sku, item.title or item.asin or "", str(units)), bold=(2,))
    pdf.ln(3)
    total = sum(units for _, units in to_ship)
    pdf.line_of(
        f"{_plural(total, 'item')} in this package" if to_ship else "Nothing left to ship.", bold=True
    )
    pdf.ln(10)
    pdf.line_of(f"Thank you for your order from {slip.seller_name}!", size=11)


# ---------------------------------------------------------------------------------- end-of-day manifest


def _weight_summary(packages: Sequence[ManifestPackage], setup: PrintSetup) -> str:
    grams = sum(package.weight_grams or 0 for package in packages)
    unknown = sum(1 for package in packages if package.weight_grams is None)
    text = setup.weight(grams)
    if unknown:
        text += f", {_plural(unknown, 'package')} without a weight"
    return text


def end_of_day_pdf(form: EndOfDayForm) -> bytes:
    """The carrier's manifest for the day: every package handed over, totals, and both signatures."""
    from fpdf.enums import Align

    from oms.shipping.pdf_document import _TABLE_STYLE, _Document, _row

    setup = form.print_setup
    name = f"End of day {form.carrier_name} {form.day.isoformat()}"
    created = max(
        (package.shipped_at for package in form.packages),
        default=datetime.combine(form.day, time(), tzinfo=UTC),
    )
    pdf = _Document(title=name, created=created, paper=setup.paper, footer=name)
    pdf.add_page()
    pdf.line_of("End-of-day manifest", size=18, bold=True, height=9)
    title = (
        form.carrier_name
        if form.carrier_name == form.carrier_code
        else f"{form.carrier_name} ({form.carrier_code})"
    )
    pdf.line_of(title, size=12, bold=True, height=6.5)
    pdf.line_of(f"Shipping day: {form.day.isoformat()}    Pickup cutoff: {form.cutoff_local}")
    pdf.line_of(
        f"{_plural(len(form.packages), 'package')} · total weight {_weight_summary(form.packages, setup)}"
    )
    pdf.line_of(setup.zone_note(), size=8.5)
    pdf.ln(3)

    pdf.font(8)
    with pdf.table(
        col_widths=(6, 36, 20, 44, 18, 20, 42),
        text_align=(Align.R, Align.L, Align.L, Align.L, Align.L, Align.R, Align.L),
        **_TABLE_STYLE,
    ) as table:
        headings = (
            "#",
            "Order",
            "Shipment",
            "Tracking number",
            "Service",
            setup.weight_heading,
            "Shipped at",
        )
        _row(table, pdf, headings)
        for number, package in enumerate(form.packages, start=1):
            weight = "" if package.weight_grams is None else setup.package_weight(package.weight_grams)
            cells = (
                str(number),
                package.order_id,
                package.shipment_id,
                package.tracking_number,
                package.service,
                weight,
                setup.when(package.shipped_at),
            )
            _row(table, pdf, cells)

    pdf.ln(4)
    pdf.line_of(f"Packages: {len(form.packages)}", bold=True)
    pdf.line_of(f"Total weight: {_weight_summary(form.packages, setup)}", bold=True)
    costs = label_cost_totals(p.label_cost for p in form.packages)
    if costs:
        pdf.line_of("Labels bought: " + ", ".join(f"{c.amount} {c.currency_code}" for c in costs), bold=True)
    if pdf.get_y() > pdf.h - pdf.b_margin - 62:  # keep the signatures together
        pdf.add_page()
    pdf.ln(8)
    for role in ("Driver", "Shipper"):
        pdf.line_of(role, bold=True)
        pdf.ln(7)
        pdf.line_of("Name: ______________________________    Signature: ______________________________")
        pdf.ln(5)
        pdf.line_of(
            f"Date and time: ______________________    Packages received: ________ of {len(form.packages)}"
        )
        pdf.ln(8)
    return pdf.done()


def label_cost_totals(costs: Iterable[Money | None]) -> list[Money]:
    """Label costs summed per currency (a seller shipping from two countries pays in two)."""
    totals: dict[str, Decimal] = {}
    for cost in costs:
        if cost is not None:
            totals[cost.currency_code] = totals.get(cost.currency_code, Decimal(0)) + Decimal(cost.amount)
    return [
        Money(amount=format(total.quantize(Decimal("0.01")), "f"), currency_code=code)
        for code, total in sorted(totals.items())
    ]


def end_of_day_csv(form: EndOfDayForm) -> str:
    """The manifest as CSV, one row per package (weights in grams, times in UTC ending in Z)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MANIFEST_CSV_COLUMNS)
    for package in form.packages:
        writer.writerow(
            (
                package.order_id,
                package.shipment_id,
                package.tracking_number,
                form.carrier_code,
                package.service,
                "" if package.weight_grams is None else package.weight_grams,
                iso_z(package.shipped_at),
                package.label_cost.amount if package.label_cost else "",
                package.label_cost.currency_code if package.label_cost else "",
            )
        )
    return out.getvalue()
