"""The warehouse PDFs open, say what they must, span the pages they should and print in any script."""

from __future__ import annotations

import csv
import dataclasses
import io
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from oms.domain.orders import Order
from oms.domain.picking import PickLine
from oms.shipping import paperwork as documents
from oms.shipping.paperwork import (
    EndOfDayForm,
    ManifestPackage,
    PackingSlip,
    PrintSetup,
    end_of_day_csv,
    end_of_day_pdf,
    packing_slips_pdf,
    pick_list_pdf,
)

CREATED = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def order(order_id: str, *items: tuple[str, int, str | None]) -> Order:
    rows: list[dict[str, Any]] = [
        {"order_item_id": f"{order_id}-{n}", "sku": sku, "quantity": quantity, "title": title}
        for n, (sku, quantity, title) in enumerate(items)
    ]
    return Order(
        order_id=order_id,
        marketplace_id="ATVPDKIKX0DER",
        status="Unshipped",
        fulfillment_channel="MFN",
        purchase_date=datetime(2026, 11, 25, 18, tzinfo=UTC),
        last_update_date=datetime(2026, 11, 25, 19, tzinfo=UTC),
        items=rows,
    )


def form(packages: int = 3) -> EndOfDayForm:
    return EndOfDayForm(
        day=date(2026, 11, 26),
        carrier_code="UPS",
        carrier_name="United Parcel Service",
        cutoff_local="2026-11-26 16:00 EST",
        packages=[
            ManifestPackage(
                order_id=f"113-0000000-{n:07d}",
                shipment_id=f"SHP-{n}",
                tracking_number=f"9400100000000000{n:06d}",  # USPS: 22 digits
                service="Ground",
                weight_grams=None if n == 1 else 500 + n,
                shipped_at=datetime(2026, 11, 26, 15, n, tzinfo=UTC),
            )
            for n in range(packages)
        ],
    )


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def dark_pixels_on_page_1(pdf: bytes, tmp_path: Path) -> int:
    """Renders page 1 with poppler's pdftoppm (the Makefile installs it) and counts the dark pixels."""
    assert shutil.which("pdftoppm"), "pdftoppm is missing: install poppler-utils (make system-deps)"
    source = tmp_path / "document.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(source), str(tmp_path / "page")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    (png,) = tmp_path.glob("page*.png")
    with Image.open(png) as image:
        gray = image.convert("L")
        assert gray.width > 100 and gray.height > 100
        return sum(gray.histogram()[:128])


def pick_lines(count: int) -> list[PickLine]:
    return [
        PickLine(
            f"A-{n // 20 + 1}-{n % 20 + 1}",
            f"SKU-{n:04d}",
            f"Item number {n}",
            n % 4 + 1,
            (f"111-{n:07d}-0000001",),
        )
        for n in range(count)
    ]


# ---------------------------------------------------------------------------------------------- pick list


def test_pick_list_lists_every_location_and_sku_with_totals(tmp_path: Path):
    lines = [
        PickLine("A-2-10", "MUG-BLUE", "Mug, blue", 3, ("111-0000001-0000001", "111-0000002-0000002")),
        PickLine("default", "TEE-M", "T-shirt M", 1, ("111-0000002-0000002",)),
        PickLine(None, "CAP-X", None, 2, ("111-0000003-0000003",)),
    ]
    pdf = pick_list_pdf("BATCH-2026-11-26-01", CREATED, lines, order_count=3)
    (text,) = pages_text(pdf)
    for expected in (
        "Pick list",
        "BATCH-2026-11-26-01",
        "2026-11-26",
        "A-2-10",
        "MUG-BLUE",
        "Mug, blue",
        "default",
    ):
        assert expected in text
    assert "TEE-M" in text and "CAP-X" in text
    assert "not on hand" in text
    assert "111-0000001-0000001" in text
    assert "6 units" in text
    assert dark_pixels_on_page_1(pdf, tmp_path) > 500


def test_a_long_pick_list_spans_pages_and_repeats_the_header_row():
    pdf = pick_list_pdf("B-200", CREATED, pick_lines(200), order_count=200)
    texts = pages_text(pdf)
    assert len(texts) > 2
    for page_text in texts:
        assert "Location" in page_text and "SKU" in page_text  # the header row on every page
    everything = "\n".join(texts)
    assert all(f"SKU-{n:04d}" in everything for n in range(200))
    assert f"page {len(texts)} of {len(texts)}" in texts[-1]


def test_pick_list_metadata_and_deterministic_bytes():
    lines = pick_lines(5)
    first = pick_list_pdf("B-1", CREATED, lines, order_count=5)
    assert first == pick_list_pdf("B-1", CREATED, lines, order_count=5)
    metadata = PdfReader(io.BytesIO(first)).metadata
    assert metadata is not None
    assert metadata.title == "Pick list B-1"
    assert metadata.creator == "amazon-seller-oms"


def test_an_empty_pick_list_still_renders():
    (text,) = pages_text(pick_list_pdf("B-0", CREATED, [], order_count=0))
    assert "0 units" in text


# ------------------------------------------------------------------------------------------ packing slips


def test_one_packing_slip_page_per_order(tmp_path: Path):
    orders = [
        order("111-1111111-1111111", ("MUG-BLUE", 2, "Mug, blue"), ("TEE-M", 1, "T-shirt M")),
        order("222-2222222-2222222", ("CAP-X", 1, None)),
        order("333-3333333-3333333", ("MUG-BLUE", 1, "Mug, blue")),
    ]
    slips = [
        PackingSlip(o, ["Jane Doe", "1 Main St", "Springfield, IL 62701", "US"], "Acme Goods") for o in orders
    ]
    pdf = packing_slips_pdf(slips)
    texts = pages_text(pdf)
    assert len(texts) == 3
    for slip_order, page_text in zip(orders, texts, strict=True):
        assert slip_order.order_id in page_text
        assert "Acme Goods" in page_text and "Jane Doe" in page_text and "2026-11-25" in page_text
        assert all(item.sku in page_text for item in slip_order.items)
        assert "Thank you" in page_text
    assert "3 items" in texts[0]
    assert dark_pixels_on_page_1(pdf, tmp_path) > 500


def test_a_slip_lists_only_the_units_still_to_ship():
    partly = order("111-1111111-1111111", ("MUG-BLUE", 3, "Mug"), ("TEE-M", 1, "Tee"))
    partly.items[0].quantity_shipped = 1
    partly.items[1].quantity_shipped = 1
    (text,) = pages_text(packing_slips_pdf([PackingSlip(partly, None, "Acme")]))
    assert "MUG-BLUE" in text and "TEE-M" not in text
    assert "2 items" in text


def test_without_an_address_the_slip_points_to_the_label():
    (text,) = pages_text(packing_slips_pdf([PackingSlip(order("111-1-1", ("MUG", 1, None)), None, "Acme")]))
    assert "address on the shipping label" in text


def test_the_order_id_is_drawn_as_a_code39_barcode_when_it_can_be():
    slip = PackingSlip(order("111-1111111-1111111", ("MUG", 1, None)), None, "Acme")
    odd = PackingSlip(order("order#1_ü", ("MUG", 1, None)), None, "Acme")  # not Code 39: no barcode, no error
    with_barcode, without = packing_slips_pdf([slip]), packing_slips_pdf([odd])
    assert "order#1_ü" in pages_text(without)[0]
    # the bars are many filled rectangles in the page's content stream
    assert _content(with_barcode).count(b" re") > _content(without).count(b" re") + 50


def _content(pdf: bytes) -> bytes:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    return page.get_contents().get_data()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "address"),
    [
        ("Łucja Żółkiewska", ["ul. Piotrkowska 1", "90-001 Łódź", "Polska"]),
        ("山田太郎", ["東京都渋谷区1-2-3", "150-0002", "日本"]),
        ("Γιώργος Παπαδόπουλος", ["Οδός Ερμού 5", "Αθήνα"]),
        ("Пётр\tИванов\n", ["ул. Ленина 1\r\n", "Москва \U0001f600"]),  # noqa: RUF001 (Cyrillic on purpose)
    ],
)
def test_buyer_names_in_any_script_render(name: str, address: list[str], tmp_path: Path):
    slip = PackingSlip(
        order("111-1111111-1111111", ("MUG", 1, f"Kubek {name}")), [name, *address], "Sklep Łódź"
    )
    pdf = packing_slips_pdf([slip])
    (text,) = pages_text(pdf)
    assert "111-1111111-1111111" in text and "Sklep Łódź" in text
    assert dark_pixels_on_page_1(pdf, tmp_path) > 500


def test_latin_and_cyrillic_text_survives_and_missing_glyphs_become_replacement_characters():
    slip = PackingSlip(order("111-1", ("MUG", 1, None)), ["Łódź", "Пётр", "山田太郎"], "Acme")
    (text,) = pages_text(packing_slips_pdf([slip]))
    assert "Łódź" in text and "Пётр" in text
    assert "\ufffd" * 4 in text  # DejaVu Sans has no CJK; the gap is shown, not dropped


def test_the_font_and_its_license_are_shipped_inside_the_package():
    names = {path.name for path in documents.FONT_DIR.iterdir()}
    assert {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE-DejaVu.txt"} <= names


# ---------------------------------------------------------------------------------------- end of day


def test_end_of_day_form_lists_packages_totals_and_signature_lines(tmp_path: Path):
    eod = form(3)
    pdf = end_of_day_pdf(eod)
    (text,) = pages_text(pdf)
    for package in eod.packages:
        assert package.tracking_number in text and package.order_id in text and package.shipment_id in text
    assert "United Parcel Service" in text and "UPS" in text and "2026-11-26 16:00 EST" in text
    assert "Packages: 3" in text
    assert "1,002 g" in text and "1 package without a weight" in text  # 500 + 502 grams, one unknown
    assert text.count("Signature") == 2 and "Driver" in text and "Shipper" in text
    assert dark_pixels_on_page_1(pdf, tmp_path) > 500


def test_a_long_end_of_day_form_spans_pages_and_keeps_every_package():
    eod = form(60)
    texts = pages_text(end_of_day_pdf(eod))
    assert len(texts) > 1
    everything = "\n".join(texts)
    assert all(package.tracking_number in everything for package in eod.packages)
    assert "Shipper" in texts[-1]


def test_a_carrier_whose_name_is_its_code_is_named_once_on_the_form():
    (text,) = pages_text(end_of_day_pdf(dataclasses.replace(form(1), carrier_name="UPS")))
    assert "UPS (UPS)" not in text and "UPS\n" in text


def test_an_empty_end_of_day_form_renders():
    (text,) = pages_text(end_of_day_pdf(form(0)))
    assert "Packages: 0" in text


def test_end_of_day_csv_has_a_header_and_one_row_per_package():
    rows = list(csv.reader(io.StringIO(end_of_day_csv(form(3)))))
    assert rows[0] == [
        "order-id",
        "shipment-id",
        "tracking-number",
        "carrier",
        "service",
        "weight-grams",
        "shipped-at",
        "label-cost",
        "label-currency",
    ]
    assert rows[1] == [
        "113-0000000-0000000",
        "SHP-0",
        "9400100000000000000000",
        "UPS",
        "Ground",
        "500",
        "2026-11-26T15:00:00Z",
        "",
        "",
    ]
    assert rows[2][5] == ""  # weight unknown
    assert len(rows) == 4


def test_end_of_day_csv_quotes_what_needs_quoting():
    eod = form(1)
    eod.packages[0] = ManifestPackage("113-1", "S,1", 'TRK"1', "Next Day, AM", 10, CREATED)
    rows = list(csv.reader(io.StringIO(end_of_day_csv(eod))))
    assert rows[1][:5] == ["113-1", "S,1", 'TRK"1', "UPS", "Next Day, AM"]


def test_label_costs_show_per_package_and_total_per_currency_on_the_end_of_day_form():
    from dataclasses import replace

    from oms.domain.types import Money
    from oms.shipping.paperwork import label_cost_totals

    usd = [Money(amount="8.45", currency_code="USD"), Money(amount="21.90", currency_code="USD")]
    manifest = form(3)
    packages = [replace(p, label_cost=cost) for p, cost in zip(manifest.packages, [*usd, None], strict=True)]
    manifest = replace(manifest, packages=packages)

    rows = list(csv.reader(io.StringIO(end_of_day_csv(manifest))))
    assert [r[-2:] for r in rows[1:]] == [["8.45", "USD"], ["21.90", "USD"], ["", ""]]
    assert label_cost_totals([*usd, None, Money(amount="5.00", currency_code="CAD")]) == [
        Money(amount="5.00", currency_code="CAD"),
        Money(amount="30.35", currency_code="USD"),
    ]
    assert "Labels bought: 30.35 USD" in "\n".join(pages_text(end_of_day_pdf(manifest)))


# ------------------------------------------------------------------------- the warehouse's paper and clock

NEW_YORK = PrintSetup.for_warehouse("US", "America/New_York")
BERLIN = PrintSetup.for_warehouse("DE", "Europe/Berlin")
LETTER_POINTS = (612, 792)
A4_POINTS = (595, 842)


def page_size(pdf: bytes) -> tuple[int, int]:
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    return round(float(box.width)), round(float(box.height))


def test_a_us_warehouse_prints_on_letter_in_pounds_and_ounces_and_everyone_else_on_a4_in_grams():
    assert (NEW_YORK.paper, NEW_YORK.imperial) == ("Letter", True)
    assert (BERLIN.paper, BERLIN.imperial) == ("A4", False)
    assert PrintSetup.for_warehouse("us", "America/Chicago").paper == "Letter"
    assert PrintSetup.for_warehouse("CA", "America/Toronto").paper == "A4"


@pytest.mark.parametrize(
    ("grams", "us", "elsewhere"),
    [
        (502, "1 lb 1.7 oz", "502 g"),
        (1002, "2 lb 3.3 oz", "1,002 g (1.00 kg)"),
        (340, "12.0 oz", "340 g"),
        (453, "1 lb 0.0 oz", "453 g"),  # 15.98 oz rounds up to a whole pound, never "16.0 oz"
        (452, "15.9 oz", "452 g"),
        (0, "0.0 oz", "0 g"),
    ],
)
def test_weights_read_in_the_warehouse_s_units(grams: int, us: str, elsewhere: str):
    assert NEW_YORK.weight(grams) == us
    assert BERLIN.weight(grams) == elsewhere


def test_a_us_end_of_day_form_is_letter_with_new_york_times_and_pounds(tmp_path: Path):
    eod = dataclasses.replace(form(3), print_setup=NEW_YORK)
    pdf = end_of_day_pdf(eod)
    (text,) = pages_text(pdf)

    assert page_size(pdf) == LETTER_POINTS
    assert "2026-11-26 10:02 EST" in text  # shipped 15:02 UTC
    assert "15:02" not in text
    assert "Times in the warehouse's zone, America/New_York" in text
    assert "Weight" in text and "1 lb 1.7 oz" in text  # package 2: 502 g
    assert "Total weight: 2 lb 3.3 oz, 1 package without a weight" in text
    assert " g " not in text and "kg" not in text and "Grams" not in text
    assert dark_pixels_on_page_1(pdf, tmp_path) > 500


def test_a_german_end_of_day_form_is_a4_with_berlin_times_and_grams():
    pdf = end_of_day_pdf(dataclasses.replace(form(3), print_setup=BERLIN))
    (text,) = pages_text(pdf)

    assert page_size(pdf) == A4_POINTS
    assert "2026-11-26 16:02 CET" in text
    assert "Grams" in text and "502" in text and "Total weight: 1,002 g (1.00 kg)" in text
    assert " oz" not in text and " lb" not in text


def test_a_pick_list_says_when_it_was_made_on_the_warehouse_clock():
    lines = [PickLine("A-1-1", "MUG", "Mug", 1, ("111-0000001-0000001",))]
    us = pick_list_pdf("B-1", CREATED, lines, order_count=1, setup=NEW_YORK)
    de = pick_list_pdf("B-1", CREATED, lines, order_count=1, setup=BERLIN)

    assert "Created 2026-11-26 04:30 EST" in pages_text(us)[0]  # 09:30 UTC
    assert "Created 2026-11-26 10:30 CET" in pages_text(de)[0]
    assert (page_size(us), page_size(de)) == (LETTER_POINTS, A4_POINTS)


def test_a_packing_slip_dates_the_order_on_the_warehouse_s_day():
    slip = PackingSlip(order("111-0000001-0000001", ("MUG", 1, "Mug")), None, "Acme")  # bought 18:00 UTC
    tokyo = PrintSetup.for_warehouse("JP", "Asia/Tokyo")
    los_angeles = PrintSetup.for_warehouse("US", "America/Los_Angeles")

    assert "Order date: 2026-11-26" in pages_text(packing_slips_pdf([slip], setup=tokyo))[0]
    assert "Order date: 2026-11-25" in pages_text(packing_slips_pdf([slip], setup=los_angeles))[0]
    assert page_size(packing_slips_pdf([slip], setup=los_angeles)) == LETTER_POINTS


def test_links_to_buyer_documents_live_minutes_and_others_an_hour() -> None:
    from urllib.parse import parse_qs, urlsplit

    import boto3
    from botocore.config import Config

    from oms.store.documents import DocumentStore, document_key

    client = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4"),  # the lifetime is a query parameter (X-Amz-Expires)
    )
    store = DocumentStore("documents", client)

    def lifetime(key: str) -> int:
        query = parse_qs(urlsplit(store.link(key, filename="x.pdf")).query)
        return int(query["X-Amz-Expires"][0])

    assert lifetime(document_key("labels", "111-1", "label.pdf", buyer_data=True)) == 300
    assert lifetime(document_key("batches", "B1", "pick-list.pdf")) == 3600
