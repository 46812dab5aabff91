"""End-of-day forms (manifests): every package handed to a carrier on a warehouse day, as JSON, CSV and PDF.

Read from the shipments' day index (one Query per carrier and day); a package is indexed under the day
of the carrier pickup it leaves with, so one recorded after the cutoff is on the next pickup's form. `close_day`, run by the daily_close
schedule every 15 minutes, stores each carrier's form in the documents bucket once its cutoff has passed,
so the form is ready when the driver comes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from oms.domain.carriers import CARRIERS, known_carrier
from oms.domain.types import Money, iso_z, utc_now
from oms.shipping.paperwork import (
    EndOfDayForm,
    ManifestPackage,
    PrintSetup,
    end_of_day_csv,
    end_of_day_pdf,
    label_cost_totals,
)
from oms.store import keys
from oms.store.documents import DocumentStore, document_key
from oms.store.table import Table
from oms.warehouse.settings import ShippingSettings, ShippingSettingsStore


def end_of_day_form(
    table: Table, day: date, carrier: str, settings: ShippingSettings | None = None
) -> EndOfDayForm:
    carrier = known_carrier(carrier).code
    settings = settings or ShippingSettingsStore(table).get()
    calendar = settings.calendar
    cutoff = datetime.combine(day, settings.carrier(carrier).cutoff, calendar.zone)
    packages = [
        ManifestPackage(
            order_id=item["orderId"],
            shipment_id=item["shipmentId"],
            tracking_number=item["trackingNumber"],
            service=item.get("service") or "",
            weight_grams=item.get("weightGrams"),
            shipped_at=datetime.fromisoformat(item["shipDate"]),
            label_cost=Money.model_validate(item["rate"]) if item.get("rate") else None,
        )
        for item in table.query_all(keys.shipments_on(day.isoformat(), carrier))
    ]
    return EndOfDayForm(
        day=day,
        carrier_code=carrier,
        carrier_name=CARRIERS[carrier].name,
        cutoff_local=cutoff.strftime("%Y-%m-%d %H:%M %Z"),
        packages=packages,
        print_setup=PrintSetup.for_warehouse(settings.warehouse.country, settings.warehouse.time_zone),
    )


def form_json(form: EndOfDayForm, links: dict[str, str] | None = None) -> dict[str, object]:
    return {
        "date": form.day.isoformat(),
        "carrier": form.carrier_code,
        "carrierName": form.carrier_name,
        "cutoff": form.cutoff_local,
        "packageCount": len(form.packages),
        "totalWeightGrams": sum(p.weight_grams or 0 for p in form.packages),
        "totalLabelCost": [
            m.model_dump(mode="json", by_alias=True)
            for m in label_cost_totals(p.label_cost for p in form.packages)
        ],
        "packages": [
            {
                "orderId": p.order_id,
                "shipmentId": p.shipment_id,
                "trackingNumber": p.tracking_number,
                "service": p.service,
                "weightGrams": p.weight_grams,
                "shippedAt": iso_z(p.shipped_at),
                "labelCost": p.label_cost.model_dump(mode="json", by_alias=True) if p.label_cost else None,
            }
            for p in form.packages
        ],
        **(links or {}),
    }


def store_form(
    table: Table, documents: DocumentStore, form: EndOfDayForm, *, at_cutoff: bool = False
) -> dict[str, str]:
    """The form's CSV and PDF in the bucket, recorded for the day; returns presigned links. The one stored
    at the cutoff (daily_close) is marked so; one asked for earlier is a preview the cutoff replaces."""
    stem = f"end-of-day-{form.day.isoformat()}-{form.carrier_code}"
    csv_key = document_key("end-of-day", form.day.isoformat(), f"{stem}.csv")
    pdf_key = document_key("end-of-day", form.day.isoformat(), f"{stem}.pdf")
    documents.put(csv_key, end_of_day_csv(form).encode(), "text/csv; charset=utf-8")
    documents.put(pdf_key, end_of_day_pdf(form), "application/pdf")
    table.put(
        {
            **keys.end_of_day_key(form.day.isoformat(), form.carrier_code),
            "entity": "EndOfDayForm",
            "csvKey": csv_key,
            "pdfKey": pdf_key,
            "packageCount": len(form.packages),
            "storedAt": iso_z(utc_now()),
            **({"closedAt": iso_z(utc_now())} if at_cutoff else {}),
        }
    )
    return {
        "csvUrl": documents.link(csv_key, filename=f"{stem}.csv"),
        "pdfUrl": documents.link(pdf_key, filename=f"{stem}.pdf"),
    }


def close_day(table: Table, documents: DocumentStore, now: datetime | None = None) -> list[str]:
    """Store today's form of every carrier whose cutoff has passed and whose form is not stored yet."""
    now = now or utc_now()
    settings = ShippingSettingsStore(table).get()
    calendar = settings.calendar
    today = calendar.local(now).date()
    closed = []
    for setup in settings.carriers:
        cutoff = datetime.combine(today, setup.cutoff, calendar.zone)
        stored = table.get(keys.end_of_day_key(today.isoformat(), setup.code)) or {}
        if now < cutoff or stored.get("closedAt"):
            continue
        store_form(table, documents, end_of_day_form(table, today, setup.code, settings), at_cutoff=True)
        closed.append(setup.code)
    return closed


MAX_SPEND_DAYS = 366


def shipping_spend(table: Table, first: date, last: date) -> dict[str, object]:
    """What labels bought through Amazon cost over warehouse days [first, last] (by the day each package
    leaves with its carrier), per currency and per carrier: one Query of the shipments' day index per day."""
    days = (last - first).days + 1
    if days < 1 or days > MAX_SPEND_DAYS:
        from oms.errors import InvalidInput

        raise InvalidInput.for_field("to", f"give a range of 1 to {MAX_SPEND_DAYS} days, from before to")
    by_carrier: dict[str, list[Money | None]] = {}
    for offset in range(days):
        for item in table.query_all(keys.shipments_on((first + timedelta(days=offset)).isoformat())):
            cost = Money.model_validate(item["rate"]) if item.get("rate") else None
            by_carrier.setdefault(item["carrier"], []).append(cost)
    every = [cost for costs in by_carrier.values() for cost in costs]
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "packages": len(every),
        "packagesWithLabelCost": sum(cost is not None for cost in every),
        "total": [m.model_dump(mode="json", by_alias=True) for m in label_cost_totals(every)],
        "byCarrier": [
            {
                "carrier": carrier,
                "packages": len(costs),
                "total": [m.model_dump(mode="json", by_alias=True) for m in label_cost_totals(costs)],
            }
            for carrier, costs in sorted(by_carrier.items())
        ],
    }
