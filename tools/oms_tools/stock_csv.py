"""`oms stock import FILE.csv` and `oms stock export [FILE]`: stock rows and policies as CSV, through the API.

Columns: sku, location, onHand, then one per stock-policy field (unitCost as two: unitCost and
unitCostCurrency). Only `sku` is required; an empty cell leaves that value as it is. Every row is
checked before anything is sent; with any bad row nothing is imported unless --accept-partial.
onHand is set with an adjustment (reason "adjustment", reference "import:<file>:<line>") whose
Idempotency-Key is the file's content hash and the line, so a re-run never applies a row twice.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import typing
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

import click
from pydantic import ValidationError
from tqdm import tqdm

from oms.api.wording import plain_words
from oms.domain.types import Money
from oms.inventory.stock import StockPolicy
from oms_tools.api_client import Api, ApiError, api_options, resolve_api

DEFAULT_LOCATION = "default"
MAX_ON_HAND = 1_000_000  # the API's largest single adjustment
CURRENCY_SUFFIX = "Currency"


def _money_fields() -> set[str]:
    return {
        f.alias or name
        for name, f in StockPolicy.model_fields.items()
        if Money in typing.get_args(f.annotation) or f.annotation is Money
    }


MONEY_FIELDS = _money_fields()
POLICY_COLUMNS = tuple(
    column
    for name, f in StockPolicy.model_fields.items()
    for column in (
        (f.alias or name, f"{f.alias or name}{CURRENCY_SUFFIX}")
        if (f.alias or name) in MONEY_FIELDS
        else (f.alias or name,)
    )
)
COLUMNS = ("sku", "location", "onHand", *POLICY_COLUMNS)
_WHOLE = re.compile(r"[+-]?\d+")


@dataclass
class StockLine:
    """One good row: what to set for a SKU at a location."""

    line: int
    sku: str
    location: str
    on_hand: int | None
    policy: dict[str, Any] = field(default_factory=dict)  # the PUT /inventory/{sku} body


@dataclass
class BadRow:
    line: int
    problems: list[str]


def read_stock_csv(text: str) -> tuple[list[StockLine], list[BadRow]]:
    """Every row checked; line numbers count the header as line 1 (and each line of a quoted cell)."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        return [], [BadRow(1, ["the file is empty: the first line names the columns (at least sku)"])]
    except csv.Error as broken:
        return [], [BadRow(1, [f"not CSV: {broken}"])]
    problems = [
        f"unknown column {name!r} (known: {', '.join(COLUMNS)})" for name in header if name not in COLUMNS
    ]
    problems += [
        f"column {name!r} appears twice" for name in sorted({n for n in header if header.count(n) > 1})
    ]
    if "sku" not in header:
        problems.append("the sku column is missing")
    if problems:
        return [], [BadRow(1, problems)]

    good: list[StockLine] = []
    bad: list[BadRow] = []
    seen: dict[tuple[str, str], int] = {}
    last_line = reader.line_num
    while True:
        first_line = last_line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as broken:
            bad.append(BadRow(first_line, [f"not CSV: {broken}"]))
            break
        last_line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        if len(cells) != len(header):
            bad.append(BadRow(first_line, [f"has {len(cells)} cells, the header has {len(header)}"]))
            continue
        row = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
        line, row_problems = _check_row(first_line, row)
        if line is not None:
            where = (line.sku, line.location)
            if where in seen:
                row_problems.append(f"sku {line.sku} at {line.location} is already on line {seen[where]}")
            else:
                seen[where] = first_line
        if row_problems:
            bad.append(BadRow(first_line, row_problems))
        elif line is not None:
            good.append(line)
    return good, bad


def _check_row(number: int, row: dict[str, str]) -> tuple[StockLine | None, list[str]]:
    problems: list[str] = []
    sku = row.get("sku", "")
    location = row.get("location") or DEFAULT_LOCATION
    if not sku:
        problems.append("sku: is empty")
    elif len(sku) > 200:
        problems.append("sku: is longer than 200 characters")
    if len(location) > 64:
        problems.append("location: is longer than 64 characters")

    on_hand: int | None = None
    if text := row.get("onHand", ""):
        if not _WHOLE.fullmatch(text):
            problems.append(f"onHand: must be a whole number, got {text!r}")
        elif (on_hand := int(text)) < 0:
            problems.append(f"onHand: must not be negative, got {text!r}")
        elif on_hand > MAX_ON_HAND:
            problems.append(f"onHand: must be at most {MAX_ON_HAND:,}, got {text!r}")

    cells: dict[str, Any] = {
        name: value
        for name, value in row.items()
        if value and name in POLICY_COLUMNS and not _is_currency_column(name)
    }
    for name in MONEY_FIELDS:
        currency = row.get(name + CURRENCY_SUFFIX, "")
        if name not in cells:
            if currency:
                problems.append(f"{name}{CURRENCY_SUFFIX}: is set without {name}")
            continue
        try:
            amount = Decimal(cells[name])
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite() or amount < 0:
            problems.append(f"{name}: must be an amount such as 12.34, got {cells[name]!r}")
        if not re.fullmatch(r"[A-Z]{3}", currency):
            problems.append(f"{name}{CURRENCY_SUFFIX}: must be a currency code such as USD, got {currency!r}")
        cells[name] = {"amount": cells[name], "currencyCode": currency}
    policy: dict[str, Any] = {}
    try:
        policy = StockPolicy.model_validate(cells).model_dump(mode="json", by_alias=True, exclude_unset=True)
    except ValidationError as invalid:
        for error in invalid.errors():
            column = str(error["loc"][0]) if error.get("loc") else "row"
            if column in MONEY_FIELDS:
                continue  # reported above, in the seller's words
            problems.append(f"{column}: {plain_words(error)}, got {cells.get(column)!r}")
    if problems:
        return (StockLine(number, sku, location, on_hand) if sku else None), problems
    return StockLine(number, sku, location, on_hand, policy), []


def _is_currency_column(name: str) -> bool:
    return name.endswith(CURRENCY_SUFFIX) and name.removesuffix(CURRENCY_SUFFIX) in MONEY_FIELDS


# ------------------------------------------------------------------------------ import


def _sku_path(sku: str) -> str:
    return "/inventory/" + quote(sku, safe="")


def _current(api: Api, line: StockLine) -> dict[str, Any] | None:
    try:
        row: dict[str, Any] = api.call("GET", _sku_path(line.sku), query={"location": line.location})
    except ApiError as error:
        if error.status == 404:
            return None
        raise
    return row


def _plan(line: StockLine, current: dict[str, Any] | None) -> str:
    changes = []
    if current is None:
        changes.append("new stock row")
    if line.on_hand is not None:
        before = int(current["onHand"]) if current else 0
        if line.on_hand != before:
            changes.append(f"onHand {before} -> {line.on_hand} ({line.on_hand - before:+d})")
    changed_policy = [k for k, v in line.policy.items() if current is None or current.get(k) != v]
    if changed_policy:
        changes.append("policy: " + ", ".join(changed_policy))
    return "; ".join(changes)


def _import_line(api: Api, line: StockLine, file_name: str, content_key: str) -> str:
    current = _current(api, line)
    plan = _plan(line, current)
    where = {"location": line.location}
    if current is None or (line.policy and "policy" in plan):
        current = api.call("PUT", _sku_path(line.sku), body=line.policy, query=where)
    assert current is not None
    if line.on_hand is not None and line.on_hand != int(current["onHand"]):
        api.call(
            "POST",
            _sku_path(line.sku) + "/adjustments",
            body={
                "delta": line.on_hand - int(current["onHand"]),
                "reason": "adjustment",
                "reference": f"import:{file_name[:150]}:{line.line}",
                "location": line.location,
            },
            # same file, same line: one effect however often the import is run (the API keeps keys a day)
            headers={"Idempotency-Key": f"stock-import-{content_key}-{line.line}"},
        )
    return plan


def run_import(
    api: Api, lines: list[StockLine], *, file_name: str, content: bytes, dry_run: bool
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(line, change) for every row that changed (or would), and (line, reason) for every row the API refused."""
    content_key = hashlib.sha256(content).hexdigest()[:32]
    changed: list[tuple[int, str]] = []
    refused: list[tuple[int, str]] = []
    with tqdm(total=len(lines), desc="checking" if dry_run else "importing", unit=" rows") as bar:
        for line in lines:
            try:
                plan = (
                    _plan(line, _current(api, line))
                    if dry_run
                    else _import_line(api, line, file_name, content_key)
                )
            except ApiError as error:
                refused.append((line.line, f"{line.sku} at {line.location}: {error.message}"))
            else:
                if plan:
                    changed.append((line.line, f"{line.sku} at {line.location}: {plan}"))
            bar.update(1)
    return changed, refused


@click.group()
def stock() -> None:
    """Stock rows and policies as CSV (sku, location, onHand, policy columns)."""


@stock.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and show what would change; change nothing.")
@click.option("--accept-partial", is_flag=True, help="Import the good rows even when some rows are bad.")
@api_options
@click.pass_context
def stock_import(
    ctx: click.Context,
    file: Path,
    dry_run: bool,
    accept_partial: bool,
    port: int | None,
    state_dir: Path | None,
    stack_name: str | None,
    region: str | None,
    api_url: str | None,
) -> None:
    """Set stock (onHand) and policies from FILE.csv; exits 1 when any row was not imported."""
    content = file.read_bytes()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise click.ClickException(
            f"{file} is not UTF-8 text ({error.reason} at byte {error.start})"
        ) from None
    lines, bad = read_stock_csv(text)
    for row in bad:
        click.echo(f"line {row.line}: {'; '.join(row.problems)}", err=True)
    if bad and not (accept_partial or dry_run):
        raise click.ClickException(
            f"{len(bad)} bad row(s), nothing imported: fix them, or import the {len(lines)} good row(s) "
            "with --accept-partial"
        )
    api = (ctx.obj or {}).get("api") or resolve_api(port, state_dir, stack_name, region, api_url)
    changed, refused = run_import(api, lines, file_name=file.name, content=content, dry_run=dry_run)
    for number, change in changed:
        click.echo(f"line {number}: {'would change' if dry_run else 'changed'} {change}")
    for number, reason in refused:
        click.echo(f"line {number}: refused: {reason}", err=True)
    unchanged = len(lines) - len(changed) - len(refused)
    if dry_run:
        click.echo(
            f"dry run: {len(changed)} row(s) would change, {unchanged} unchanged, {len(refused)} refused, "
            f"{len(bad)} bad; nothing imported"
            + ("" if not bad or accept_partial else "; with bad rows, an import needs --accept-partial")
        )
    else:
        click.echo(
            f"imported {file.name}: {len(changed)} row(s) changed, {unchanged} unchanged, "
            f"{len(refused)} refused, {len(bad)} bad"
        )
    if bad or refused:
        ctx.exit(1)


# ------------------------------------------------------------------------------ export


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def stock_csv_row(row: dict[str, Any]) -> list[str]:
    cells: dict[str, Any] = {"sku": row["sku"], "location": row.get("location"), "onHand": row.get("onHand")}
    for name in POLICY_COLUMNS:
        if _is_currency_column(name):
            cells[name] = (row.get(name.removesuffix(CURRENCY_SUFFIX)) or {}).get("currencyCode")
        elif name in MONEY_FIELDS:
            cells[name] = (row.get(name) or {}).get("amount")
        else:
            cells[name] = row.get(name)
    return [_cell(cells.get(name)) for name in COLUMNS]


def export_rows(api: Api, out: TextIO) -> int:
    """Every stock row, page by page; nothing is written before the first page has answered."""
    writer = None
    count, next_token = 0, None
    while True:
        query = {"limit": "500", **({"nextToken": next_token} if next_token else {})}
        page = api.call("GET", "/inventory", query=query)
        if writer is None:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(COLUMNS)
        for row in page["items"]:
            writer.writerow(stock_csv_row(row))
            count += 1
        next_token = page.get("nextToken")
        if not next_token:
            return count


@stock.command("export")
@click.argument("file", type=click.File("w", encoding="utf-8", lazy=True), default="-")
@api_options
@click.pass_context
def stock_export(
    ctx: click.Context,
    file: TextIO,
    port: int | None,
    state_dir: Path | None,
    stack_name: str | None,
    region: str | None,
    api_url: str | None,
) -> None:
    """Write every stock row as CSV (to FILE, or standard output) with the columns import reads."""
    api = (ctx.obj or {}).get("api") or resolve_api(port, state_dir, stack_name, region, api_url)
    count = export_rows(api, file)
    click.echo(f"exported {count} stock row(s)", err=True)
