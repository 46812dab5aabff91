"""`oms forecast`: forecasts from a history CSV, with no stack, by the planning code the Lambda layer ships."""

from __future__ import annotations

import csv
import math
import sys
from datetime import timedelta
from pathlib import Path

import click

from oms.planning.backtest import Plan, plan
from oms.planning.history import read_history_csv
from oms.planning.methods import BASELINES


def _ratio(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f}"


def summary_line(p: Plan) -> str:
    """One SKU: its method, why, and its backtest accuracy beside the baselines'."""
    line = f"{p.sku}: {p.method} ({p.note})"
    if p.method in p.accuracy:
        chosen = p.accuracy[p.method]
        line += f"; WAPE {_ratio(chosen.wape)}, MASE {_ratio(chosen.mase)}"
        for name in BASELINES:
            if name != p.method:
                base = p.accuracy[name]
                line += f"; {name}: WAPE {_ratio(base.wape)}, MASE {_ratio(base.mase)}"
    return line


@click.command()
@click.option(
    "--history",
    "history_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="CSV with the header sku,date,units[,available] (dates YYYY-MM-DD; available 0 marks a stockout day).",
)
@click.option(
    "--horizon", type=click.IntRange(1, 182), required=True, help="Days to forecast after the history."
)
@click.option("--accept-partial", is_flag=True, help="Forecast from the good lines when some are bad.")
@click.option("--quiet", is_flag=True, help="No progress and no per-SKU summary on standard error.")
def forecast(history_file: Path, horizon: int, accept_partial: bool, quiet: bool) -> None:
    """Forecast each SKU's daily units: sku,date,units,low,high (an 80% interval) on standard output.

    Each SKU's method is chosen by a backtest on its own history; the summary (method, WAPE and MASE
    beside seasonal naive and a 28-day moving average) goes to standard error.
    """
    read = read_history_csv(history_file.read_text(encoding="utf-8-sig"))
    for problem in read.problems:
        click.echo(f"{history_file.name}: {problem}", err=True)
    if read.problems and not accept_partial:
        raise click.ClickException(
            f"{len(read.problems)} bad line(s); nothing forecast (fix them, or --accept-partial to skip them)"
        )
    if not read.histories:
        raise click.ClickException("no usable rows in the history")
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["sku", "date", "units", "low", "high"])
    total = len(read.histories)
    for i, history in enumerate(read.histories, 1):
        p = plan(history, horizon)
        for k in range(horizon):
            day = history.end + timedelta(days=k + 1)
            out.writerow(
                [p.sku, day.isoformat(), f"{p.forecast[k]:.2f}", f"{p.low[k]:.2f}", f"{p.high[k]:.2f}"]
            )
        if not quiet:
            click.echo(summary_line(p), err=True)
            if total >= 20 and (i % max(1, total // 10) == 0 or i == total):
                click.echo(f"... {i} of {total} SKUs forecast", err=True)
