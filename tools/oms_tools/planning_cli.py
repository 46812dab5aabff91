"""`oms planning import --history FILE.csv`: a seller's demand history from another tool or a spreadsheet,
written into a stack's daily demand counters (the local one, or a deployed one with --stack-name), so the
nightly plan forecasts from it at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from oms.planning.history import read_history_csv
from oms.planning.history_import import import_history
from oms.store.table import Table
from oms_tools.operate import resolve_target, target_options


def _no_page_tokens() -> Any:
    raise RuntimeError("the import does not page")


@click.group()
def planning() -> None:
    """Planning: demand history for the stock plans."""


@planning.command("import")
@click.option(
    "--history",
    "history_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="CSV with the header sku,date,units[,available] (dates YYYY-MM-DD, the warehouse's days; "
    "available 0 marks a stockout day).",
)
@click.option("--accept-partial", is_flag=True, help="Import the good lines when some are bad.")
@target_options
def import_command(
    history_file: Path,
    accept_partial: bool,
    port: int | None,
    state_dir: Path | None,
    stack_name: str | None,
    region: str | None,
) -> None:
    """Write each SKU's units per day as the counters orders add to; days already counted are kept."""
    read = read_history_csv(history_file.read_text(encoding="utf-8-sig"))
    for problem in read.problems:
        click.echo(f"{history_file.name}: {problem}", err=True)
    if read.problems and not accept_partial:
        raise click.ClickException(
            f"{len(read.problems)} bad line(s); nothing imported (fix them, or --accept-partial to skip them)"
        )
    if not read.histories:
        raise click.ClickException("no usable rows in the history")
    target = resolve_target(port, state_dir, stack_name, region)
    table = Table(target.outputs["TableName"], _no_page_tokens, client=target.client("dynamodb"))
    days = sum(len(h.units) for h in read.histories)
    with tqdm(total=days, desc="importing days", unit=" days") as bar:
        done = import_history(table, read.histories, bar.update)
    click.echo(
        f"imported {done.written} day(s) of {len(done.skus)} SKU(s); {done.kept} already counted here were kept. "
        "The next nightly plan uses them (`oms invoke plan_stock --event events/plan_stock/again.json` now)."
    )
