"""`oms report orders`: an order report as CSV from the API's JSON pages, with a progress bar on stderr.

The CSV is written with the product's own writer (oms.reports.export.csv_chunks), so it is the file
GET /reports/orders?format=csv gives, however large the report: pages are written as they arrive.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import click
from tqdm import tqdm

from oms.reports.columns import Row
from oms.reports.export import csv_chunks
from oms_tools.api_client import Api, api_options, resolve_api

PAGE_ORDERS = 500


def write_report(api: Api, query: dict[str, str], out: BinaryIO) -> int:
    """Writes the report as CSV; returns its rows. A refused request raises before anything is written."""
    query = {**query, "limit": str(PAGE_ORDERS)}
    first = api.call("GET", "/reports/orders", query=query)
    written = 0
    with tqdm(desc="report", unit=" rows", file=sys.stderr, disable=None) as bar:

        def rows() -> Iterator[Row]:
            nonlocal written
            page: dict[str, Any] = first
            while True:
                for row in page["items"]:
                    written += 1
                    yield row
                bar.update(len(page["items"]))
                if not page.get("nextToken"):
                    return
                page = api.call("GET", "/reports/orders", query={**query, "nextToken": page["nextToken"]})

        for chunk in csv_chunks(rows(), first["columns"]):
            out.write(chunk)
    out.flush()
    return written


@click.group()
def report() -> None:
    """Reports from the API, as CSV."""


@report.command("orders")
@click.option("--view", default="all", show_default=True, help="all, new, unshipped or archived.")
@click.option(
    "--columns", default=None, help="Comma list of columns (GET /reports/orders/columns) [the defaults]."
)
@click.option("--from", "purchased_from", default=None, help="Purchased at or after (ISO-8601 UTC).")
@click.option("--to", "purchased_to", default=None, help="Purchased at or before (ISO-8601 UTC).")
@click.option("--since", default=None, help="--view new: purchased since this time instead of your mark.")
@click.option("--mark-seen", is_flag=True, help="--view new: these orders are no longer new afterwards.")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None, help="File [stdout]."
)
@api_options
@click.pass_context
def report_orders(
    ctx: click.Context,
    view: str,
    columns: str | None,
    purchased_from: str | None,
    purchased_to: str | None,
    since: str | None,
    mark_seen: bool,
    output: Path | None,
    port: int | None,
    state_dir: Path | None,
    stack_name: str | None,
    region: str | None,
    api_url: str | None,
) -> None:
    """Write an order report as CSV (one row per order item) to standard output or --output."""
    api: Api = (ctx.obj or {}).get("api") or resolve_api(port, state_dir, stack_name, region, api_url)
    given = {"view": view, "columns": columns, "from": purchased_from, "to": purchased_to, "since": since}
    query = {name: value for name, value in given.items() if value}
    if mark_seen:
        query["markSeen"] = "true"
    if output is None:
        count = write_report(api, query, sys.stdout.buffer)
    else:
        partial = output.with_name(output.name + ".partial")
        try:
            with partial.open("wb") as out:
                count = write_report(api, query, out)
            partial.replace(output)  # a failed run never leaves a half report under the asked name
        finally:
            partial.unlink(missing_ok=True)
    click.echo(f"{count} row(s) of the {view} orders report", err=True)
