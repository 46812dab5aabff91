"""Forecast accuracy on real sales: `.venv/bin/python bench/forecast.py [--products 300] [--origins 8]`.

Online Retail II (../shared/datasets, see its README): the two sheets' overlap dropped (sheet-2 rows dated
on or before 2010-12-09), non-product stock codes dropped (a product is 5 digits and an optional letter),
cancellations dropped together with the sale each one cancels (same code, customer and quantity: the
80,995 paper birdies of 2011-12-09 were never demand), other negative quantities (write-offs) dropped.
Daily units of the --products best-selling codes, each from its first sale; days without a sale are 0.
At --origins origins 14 days apart, the last ending at the data's last day, every product is forecast
28 and 56 days ahead from what came before, by the method its own backtest chose (oms.planning, the
code `oms forecast` and the Lambda layer run) and by the baselines. Printed: WAPE (absolute error over
units sold, all products and origins pooled) and MASE (mean absolute error over the in-sample error of
last week's same weekday, mean over products and origins), as ratios, and the 80% interval's coverage.

Then the reorder policy simulated over the last --policy-weeks weeks of the same products (bench/reorder_sim.py:
lead time 14 days, weekly review, lost sales): fill rate and average stock of the product's policy beside
Veeqo's 30-day sell-through x days of cover (lead time + review), and the days of cover sell-through needs
to reach the product's fill rate, with the stock that costs. `--part policy` runs only this half.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import re
import sys
import time
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import bench_env  # the import path and the data folder, before anything else
import reorder_sim

from oms.domain.audits import classify
from oms.planning.backtest import accuracy, plan
from oms.planning.history import SkuHistory
from oms.planning.methods import average_over_days_in_stock, moving_average, seasonal_naive, sell_through
from oms.planning.spikes import cap_spikes

DATA = bench_env.ROOT.parent / "shared" / "datasets" / "online_retail_II.csv.gz"
SHEET_ONE_ROWS = 525_461
OVERLAP_LAST_DAY = "2010-12-09"
PRODUCT = re.compile(r"^\d{5}[A-Z]{0,2}$")
HORIZONS = (28, 56)
NIGHTLY = "the nightly plan's (one-off spikes capped)"  # oms.planning.spikes before the same choice
BASELINES = {
    "seasonal naive (last week)": seasonal_naive,
    "moving average, 28 days": moving_average(28),
    "Veeqo: 30-day sell-through": sell_through(30),
    "Linnworks: 90-day average / days in stock": average_over_days_in_stock(90),
}


def load(path: Path) -> tuple[dict[str, dict[date, float]], date, date]:
    """Units sold per product code and day, cleaned as the dataset's README says."""
    sales: list[tuple[str, str, int, str]] = []
    cancelled: Counter[tuple[str, str, int]] = Counter()
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        col = {name: i for i, name in enumerate(header)}
        inv, code_i, qty_i, day_i, cust_i = (
            col["Invoice"], col["StockCode"], col["Quantity"], col["InvoiceDate"], col["Customer ID"]
        )  # fmt: skip
        for number, row in enumerate(reader):
            day = row[day_i][:10]
            if number >= SHEET_ONE_ROWS and day <= OVERLAP_LAST_DAY:
                continue
            code = row[code_i].strip().upper()
            if not PRODUCT.match(code):
                continue
            quantity = int(row[qty_i])
            if row[inv].startswith("C"):
                cancelled[(code, row[cust_i], -quantity)] += 1
            elif not row[inv].startswith("A") and quantity > 0:
                sales.append((code, row[cust_i], quantity, day))
    daily: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for code, customer, quantity, day in sales:
        key = (code, customer, quantity)
        if customer and cancelled[key] > 0:
            cancelled[key] -= 1
            continue
        daily[code][date.fromisoformat(day)] += quantity
    days = [d for per_day in daily.values() for d in per_day]
    return daily, min(days), max(days)


def series(per_day: dict[date, float], last: date) -> tuple[date, list[float | None]]:
    start = min(per_day)
    return start, [per_day.get(start + timedelta(days=i), 0.0) for i in range((last - start).days + 1)]


class Score:
    """Pooled WAPE, mean MASE and interval coverage of one method at one horizon."""

    def __init__(self) -> None:
        self.errors = self.units = 0.0
        self.mase: list[float] = []
        self.inside = self.days = 0

    def add(self, y: list[float | None], origin: int, forecast: list[float]) -> None:
        a = accuracy(y, {origin: forecast}, [origin])
        actual = [v for v in y[origin : origin + len(forecast)] if v is not None]
        self.units += sum(actual)
        self.errors += sum(abs(v - f) for v, f in zip(y[origin:], forecast, strict=False) if v is not None)
        if not math.isnan(a.mase):
            self.mase.append(a.mase)

    @property
    def wape(self) -> float:
        return self.errors / self.units if self.units else math.nan

    @property
    def mean_mase(self) -> float:
        return sum(self.mase) / len(self.mase) if self.mase else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=300, help="best-selling products to forecast")
    parser.add_argument("--origins", type=int, default=8, help="forecast origins, 14 days apart")
    parser.add_argument("--policy-weeks", type=int, default=26, help="weeks of the reorder simulation")
    parser.add_argument("--part", choices=["both", "forecast", "policy"], default="both")
    args = parser.parse_args()
    started = time.perf_counter()
    daily, _, last = load(DATA)
    loaded = time.perf_counter() - started
    best = sorted(daily, key=lambda code: -sum(daily[code].values()))[: args.products]
    results: dict[str, object] = {}
    if args.part != "policy":
        results.update(forecasts(args, daily, best, last, started, loaded))
    if args.part != "forecast":
        results["policy"] = policies(args, daily, best, last)
    out = bench_env.ROOT / "bench" / "results" / "forecast.json"
    out.parent.mkdir(exist_ok=True)
    previous = json.loads(out.read_text()) if out.exists() else {}
    previous.update(
        {"products": len(best), "origins": args.origins, "seconds": time.perf_counter() - started}
    )
    previous.update(results)
    out.write_text(json.dumps(previous, indent=1))


def forecasts(
    args: argparse.Namespace,
    daily: dict[str, dict[date, float]],
    best: list[str],
    last: date,
    started: float,
    loaded: float,
) -> dict[str, dict[str, float]]:
    names = ["this product's choice", NIGHTLY, *BASELINES]
    scores = {h: {name: Score() for name in names} for h in HORIZONS}
    chosen: dict[int, Counter[str]] = {h: Counter() for h in HORIZONS}
    for i, code in enumerate(best, 1):
        start, y = series(daily[code], last)
        for h in HORIZONS:
            for k in range(args.origins):
                origin = len(y) - h - 14 * k
                if origin < 28:
                    continue
                p = plan(SkuHistory(code, start, y[:origin]), h)
                chosen[h][p.method] += 1
                scores[h]["this product's choice"].add(y, origin, p.forecast)
                s = scores[h]["this product's choice"]
                for v, lo, hi in zip(y[origin : origin + h], p.low, p.high, strict=False):
                    if v is not None:
                        s.days += 1
                        s.inside += lo <= v <= hi
                capped = plan(
                    cap_spikes(SkuHistory(code, start, y[:origin]))[0], h
                )  # what the nightly plan forecasts
                scores[h][NIGHTLY].add(y, origin, capped.forecast)  # scored on the true days, spikes included
                for name, method in BASELINES.items():
                    scores[h][name].add(y, origin, method(y[:origin], [origin], h)[origin])
        if i % 25 == 0 or i == len(best):
            print(f"... {i} of {len(best)} products, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    elapsed = time.perf_counter() - started
    print(
        f"Online Retail II: {len(best)} best-selling products, daily units to {last}, "
        f"{args.origins} origins 14 days apart (load {loaded:.0f} s, total {elapsed:.0f} s)\n"
    )
    header = "| method |" + "".join(f" WAPE {h} d | MASE {h} d |" for h in HORIZONS)
    print(header)
    print("| --- |" + " --- | --- |" * len(HORIZONS))
    results: dict[str, dict[str, float]] = {}
    for name in scores[HORIZONS[0]]:
        cells = ""
        for h in HORIZONS:
            s = scores[h][name]
            cells += f" {s.wape:.3f} | {s.mean_mase:.3f} |"
            results[f"{name}, {h} days"] = {"wape": s.wape, "mase": s.mean_mase}
        print(f"| {name} |{cells}")
    print()
    for h in HORIZONS:
        mine = scores[h]["this product's choice"]
        ratios = ", ".join(
            f"{name} {mine.wape / scores[h][name].wape:.2f}" for name in BASELINES if scores[h][name].wape
        )
        print(f"{h} days: the choice's WAPE over each baseline's: {ratios}")
        nightly = scores[h][NIGHTLY]
        ratios = ", ".join(
            f"{name} {nightly.wape / scores[h][name].wape:.2f}" for name in BASELINES if scores[h][name].wape
        )
        print(f"{h} days: the nightly plan's WAPE over each baseline's: {ratios}")
        print(f"{h} days: 80% interval held {mine.inside / max(1, mine.days):.0%} of the days")
        print(f"{h} days: methods chosen: {dict(chosen[h].most_common())}")
    return results


COVERS = range(14, 92, 7)  # sell-through's days of cover tried, to reach the product's fill rate


def policies(
    args: argparse.Namespace, daily: dict[str, dict[date, float]], best: list[str], last: date
) -> dict[str, object]:
    """The reorder simulation over the last --policy-weeks weeks: both policies on every product, pooled."""
    started = time.perf_counter()
    window = 7 * args.policy_weeks
    histories = {code: series(daily[code], last) for code in best}
    before = {code: Decimal(str(sum(y[: len(y) - window]))) for code, (_, y) in histories.items()}
    abc = classify(before)  # ABC by units sold before the window (the product uses sales value)
    ours = reorder_sim.Outcome()
    every_review = reorder_sim.Outcome()
    theirs = {cover: reorder_sim.Outcome() for cover in COVERS}
    default_cover = reorder_sim.LEAD_DAYS + reorder_sim.REVIEW_DAYS
    simulated = 0
    for i, code in enumerate(best, 1):
        first, y = histories[code]
        start = len(y) - window
        if start < 56:  # too little history before the window to plan from
            continue
        simulated += 1
        decide, up_to = reorder_sim.product_policy(code, first, y, abc[code])
        ours.add(reorder_sim.simulate(y, start, decide, up_to(start)))
        decide_all, _ = reorder_sim.product_policy(code, first, y, abc[code], gate=False)
        every_review.add(reorder_sim.simulate(y, start, decide_all, up_to(start)))
        for cover in COVERS:
            decide_st, up_to_st = reorder_sim.sell_through_policy(y, cover)
            theirs[cover].add(reorder_sim.simulate(y, start, decide_st, up_to_st(start)))
        if i % 50 == 0 or i == len(best):
            print(
                f"... policy {i} of {len(best)} products, {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
    veeqo = theirs[default_cover]
    curve = [theirs[c] for c in COVERS]
    print(
        f"\nReorder policy, last {args.policy_weeks} weeks, {simulated} products: lead time "
        f"{reorder_sim.LEAD_DAYS} days, weekly review, lost sales, each starting at its own order-up-to level "
        f"({time.perf_counter() - started:.0f} s)\n"
    )
    print("| policy | fill rate | average stock (units per product) | orders |")
    print("| --- | --- | --- | --- |")
    rows = [
        ("this product's (reorder point, then up to forecast + safety stock)", ours),
        ("the same figures, topped up at every review", every_review),
        (f"Veeqo: 30-day sell-through x {default_cover} days of cover", veeqo),
    ]
    rows += [
        (f"Veeqo: 30-day sell-through x {c} days of cover", theirs[c]) for c in COVERS if c != default_cover
    ]
    for name, o in rows:
        print(f"| {name} | {o.fill_rate:.1%} | {o.average_stock:.1f} | {o.orders} |")
    print()
    same: dict[str, float | None] = {}
    for name, o in rows[:2]:
        theirs_stock = reorder_sim.stock_at(o.fill_rate, curve)
        same[name] = None if theirs_stock is None else o.average_stock / theirs_stock
        if theirs_stock is None:
            print(
                f"{name}: sell-through reaches no fill rate of {o.fill_rate:.1%} with up to {COVERS[-1]} days"
            )
        else:
            print(
                f"{name}: at its fill rate of {o.fill_rate:.1%} sell-through would hold {theirs_stock:.1f} units: "
                f"ours holds {same[name]:.2f} of that"
            )
    print(
        "simplified: the forecasts see true demand (the product leaves out-of-stock days out), the lead time is "
        "fixed, no case packs or minimum orders"
    )
    return {
        "weeks": args.policy_weeks,
        "products": simulated,
        "ours": {"fillRate": ours.fill_rate, "averageStock": ours.average_stock, "orders": ours.orders},
        "oursEveryReview": {
            "fillRate": every_review.fill_rate,
            "averageStock": every_review.average_stock,
            "orders": every_review.orders,
        },
        "stockOverSellThroughAtSameFillRate": list(same.values()),
        **{
            f"sellThrough{cover}": {
                "fillRate": o.fill_rate,
                "averageStock": o.average_stock,
                "orders": o.orders,
            }
            for cover, o in theirs.items()
        },
    }


if __name__ == "__main__":
    main()
