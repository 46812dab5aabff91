"""A purchase order as the supplier reads it, as PDF bytes: set like the warehouse's other paper
(oms.shipping.paperwork: DejaVu Sans, the warehouse's sheet and zone, the same bytes for the same PO).
fpdf2 loads on the first purchase order drawn."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from oms.domain.supply import PurchaseOrder
from oms.shipping.paperwork import PrintSetup


@dataclass(frozen=True)
class PurchaseOrderPaper:
    po: PurchaseOrder
    buyer_name: str  # the seller, as the supplier knows them
    supplier_lines: list[str]  # name, address, contact
    ship_to: list[str]  # the warehouse
    setup: PrintSetup
    titles: Mapping[str, str] = field(default_factory=dict)  # the catalogue's title per SKU, where known


def purchase_order_pdf(paper: PurchaseOrderPaper) -> bytes:
    from fpdf.enums import Align  # the PDF library loads on the first document drawn, not with the routes

    from oms.shipping.pdf_document import _TABLE_STYLE, _Document, _row

    po, setup = paper.po, paper.setup
    when = po.sent_at or po.created_at
    title = f"Purchase order {po.po_id}"
    pdf = _Document(title=title, created=when, paper=setup.paper, footer=title)
    pdf.add_page()
    pdf.line_of(paper.buyer_name, size=16, bold=True, height=8)
    pdf.line_of("Purchase order", size=12)
    pdf.ln(2)
    pdf.rule()
    pdf.line_of(f"PO number {po.po_id}", size=12, bold=True, height=6.5)
    pdf.line_of(f"Date: {setup.when(when)}")
    pdf.line_of(setup.zone_note(), size=8.5)
    pdf.ln(3)

    pdf.line_of("Supplier", bold=True)
    for text in paper.supplier_lines:
        pdf.line_of(text)
    pdf.ln(3)
    pdf.line_of("Deliver to", bold=True)
    for text in paper.ship_to:
        pdf.line_of(text)
    pdf.ln(5)

    pdf.font(9)
    with pdf.table(
        col_widths=(50, 30, 24, 16, 26, 30),  # the first holds the SKU and its title
        text_align=(Align.L, Align.L, Align.L, Align.R, Align.R, Align.R),
        **_TABLE_STYLE,
    ) as table:
        headings = (
            "Our SKU, product",
            "Your code",
            "Deliver by",
            "Units",
            f"Unit cost ({po.currency_code})",
            "Amount",
        )
        _row(table, pdf, headings)
        for line in po.lines:
            amount = Decimal(line.unit_cost.amount) * line.quantity
            product = paper.titles.get(line.sku)
            cells = (
                f"{line.sku}\n{product}" if product else line.sku,
                line.supplier_sku or "",
                f"{setup.local(line.expected_by):%Y-%m-%d}"
                if line.expected_by
                else "",  # the warehouse's day
                f"{line.quantity:,}",
                line.unit_cost.amount,
                format(amount.quantize(Decimal("0.01")), ",f"),
            )
            _row(table, pdf, cells, bold=(3,))
    pdf.ln(3)
    units = sum(line.quantity for line in po.lines)
    pdf.line_of(f"{units:,} units in {len(po.lines)} line(s)", bold=True)
    pdf.line_of(f"Total: {Decimal(po.total.amount):,.2f} {po.total.currency_code}", bold=True)
    if po.note:
        pdf.ln(4)
        pdf.line_of(po.note)
    pdf.ln(6)
    pdf.line_of(f"Please quote PO number {po.po_id} on the delivery note and the invoice.")
    return pdf.done()
