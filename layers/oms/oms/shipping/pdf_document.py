"""The PDF canvas every paper of the warehouse is drawn on: fpdf2 with the shipped Unicode font.

Kept apart from oms.shipping.paperwork so that importing the paperwork (every route that may print) does
not load fpdf2 and its font tools; they load on the first document drawn (bench/cold_start.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from fpdf import FPDF, FontFace
from fpdf.enums import Align, TableBordersLayout

from oms.shipping.paperwork import _CONTROL, _GRAY, _REPLACEMENT, CREATOR, FONT_DIR, FONT_FAMILY, Paper

_BOLD = FontFace(emphasis="BOLD")
_TABLE_STYLE: dict[str, Any] = {
    "headings_style": FontFace(emphasis="BOLD", fill_color=(225, 225, 225)),
    "line_height": 4.6,
    "borders_layout": TableBordersLayout.HORIZONTAL_LINES,
    "padding": (1.2, 1.2),
    "v_align": "TOP",
}


class _Document(FPDF):
    """FPDF with the shipped Unicode font, safe text, metadata and a page footer."""

    def __init__(self, *, title: str, created: datetime, paper: Paper, footer: str | None) -> None:
        super().__init__(orientation="portrait", unit="mm", format=paper.lower())
        self._footer = footer
        self.set_margins(12, 12, 12)
        self.set_auto_page_break(auto=True, margin=16)
        self.add_font(FONT_FAMILY, "", FONT_DIR / "DejaVuSans.ttf")
        self.add_font(FONT_FAMILY, "B", FONT_DIR / "DejaVuSans-Bold.ttf")
        self.set_font(FONT_FAMILY, size=10)
        # Characters both weights can draw; any other prints as U+FFFD (fpdf2 would silently drop it).
        cmaps = [getattr(font, "cmap", {}) for font in self.fonts.values()]
        self._glyphs: frozenset[int] = frozenset.intersection(*(frozenset(cmap) for cmap in cmaps))
        self.set_title(title)
        self.set_creator(CREATOR)
        self.set_producer(CREATOR)
        self.set_creation_date(created if created.tzinfo else created.replace(tzinfo=UTC))

    def safe(self, text: str | None, *, newlines: bool = False) -> str:
        """The text with control characters as spaces and characters the font lacks as U+FFFD."""
        if not text:
            return ""
        if newlines:
            text = "\n".join(_CONTROL.sub(" ", line) for line in text.splitlines())
        else:
            text = _CONTROL.sub(" ", text)
        return "".join(c if c == "\n" or ord(c) in self._glyphs else _REPLACEMENT for c in text)

    def font(self, size: float, *, bold: bool = False) -> None:
        self.set_font(FONT_FAMILY, "B" if bold else "", size)

    def line_of(self, text: str | None, *, size: float = 10, bold: bool = False, height: float = 5.5) -> None:
        """One paragraph, wrapped at the right margin."""
        self.font(size, bold=bold)
        self.multi_cell(0, height, self.safe(text, newlines=True), new_x="LMARGIN", new_y="NEXT")

    def footer(self) -> None:
        if self._footer is None:
            return
        self.set_y(-12)
        self.font(8)
        self.set_text_color(_GRAY)
        self.cell(0, 5, self.safe(f"{self._footer} · page {self.page_no()} of {{nb}}"), align=Align.C)
        self.set_text_color(0)

    def rule(self) -> None:
        self.set_draw_color(160)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.set_draw_color(0)
        self.ln(2)

    def done(self) -> bytes:
        return bytes(self.output())


def _row(table: Any, pdf: _Document, cells: Sequence[str], *, bold: Sequence[int] = ()) -> None:
    row = table.row()
    for index, text in enumerate(cells):
        row.cell(pdf.safe(text, newlines=True), style=_BOLD if index in bold else None)


# ------------------------------------------------------------------------------------------ packing slips
