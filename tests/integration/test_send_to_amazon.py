"""Send-to-Amazon suggestions (GET /planning/reorder, `sendToAmazon`) for SKUs Amazon fulfils, from Amazon's
FBA figures on the stock row and the nightly forecast, on moto in process at the suite's TEST_CLOCK."""

from __future__ import annotations

import math
from datetime import date, timedelta
from itertools import cycle

from oms.domain.reorder import demand_over
from oms.inventory.fba import record_fba_figures
from oms.inventory.stock import FbaFigures
from oms.planning.fba_send import FBA_COVER_DAYS, FBA_INBOUND_DAYS
from oms.store.conditional import add_ordered
from oms.store.default import default_table
from tests.api_calls import call_api
from tests.conftest import TEST_CLOCK
from tests.integration.test_stock_plans import WEEK, _run

TODAY = date(2026, 11, 24)
US = "ATVPDKIKX0DER"


def _amazon_sku(stack, context, sku: str, *, fulfillable: int, inbound: int, afn_share: float = 1.0) -> None:
    """An FBA SKU (nothing on the shelf here) with 12 weeks of orders and Amazon's figures as of now."""
    status, answer = call_api(stack, context, "PUT", f"/inventory/{sku}", {"channel": "FBA", "casePack": 6})
    assert status == 200, answer
    table = default_table()
    pattern = cycle(WEEK)
    for back in range(84, 0, -1):
        units = next(pattern)
        afn = round(units * afn_share)
        writes = [
            add_ordered(
                (TODAY - timedelta(days=back)).isoformat(), sku, units=afn, channel="AFN", marketplace=US
            )
        ]
        if units - afn:
            writes.append(
                add_ordered(
                    (TODAY - timedelta(days=back)).isoformat(),
                    sku,
                    units=units - afn,
                    channel="MFN",
                    marketplace=US,
                )
            )
        for write in writes:  # one counter item a day: one transaction each
            table.transact([write])
    figures = {US: FbaFigures(fulfillable=fulfillable, inbound=inbound, reserved=5)}
    record_fba_figures(
        table, sku, figures, as_of=TEST_CLOCK, reference="summaries", actor="amazon:FBA", marketplaces=[US]
    )


def test_fba_skus_get_units_to_send_from_amazons_figures_and_the_forecast(stack, context):
    # given three FBA SKUs selling ~5 a day: one short at Amazon, one with plenty there, one sold half by Amazon
    _amazon_sku(stack, context, "FBA-SHORT", fulfillable=40, inbound=20)
    _amazon_sku(stack, context, "FBA-PLENTY", fulfillable=900, inbound=0)
    _amazon_sku(stack, context, "FBA-HALF", fulfillable=40, inbound=20, afn_share=0.5)

    assert _run(stack)["planned"] == 3
    status, answer = call_api(stack, context, "GET", "/planning/reorder")
    assert status == 200, answer
    send = {s["sku"]: s for s in answer["sendToAmazon"]}

    # then the short one is told to send what covers 14 days of check-in + 28 days, less what Amazon holds
    assert set(send) == {"FBA-SHORT", "FBA-HALF"}
    short = send["FBA-SHORT"]
    plan = call_api(stack, context, "GET", "/planning/skus/FBA-SHORT")[1]
    forecast = [f["units"] for f in plan["forecast"]]
    need = math.ceil(demand_over(forecast, FBA_INBOUND_DAYS + FBA_COVER_DAYS) - 40 - 20 - 1e-9)
    assert short["units"] == math.ceil(need / 6) * 6 and short["units"] > 0
    assert (short["fulfillable"], short["inbound"], short["reserved"]) == (40, 20, 5)
    assert short["inputs"]["amazonShare"] == 1.0 and "fulfillable - inbound" in short["formula"]

    # and nothing on the shelf here does not make Amazon's days unknown: the forecast sees the orders
    assert not any(d["units"] is None for d in plan["history"]["cleaned"])
    assert 4 < plan["reorderPoint"]["inputs"]["dailyDemand"] < 7

    # a SKU sold half by Amazon sends half as much demand's worth
    half = send["FBA-HALF"]
    assert half["inputs"]["amazonShare"] == 0.5 and half["units"] < short["units"]
