"""The `oms` command: the local stack (`oms local`, from oms_local) and the operator's tools."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from oms_local.command import local
from oms_tools.forecast_cli import forecast
from oms_tools.operate import backfill, dlq, local_stack_options, post_json, resolve_target
from oms_tools.planning_cli import planning
from oms_tools.reports_cli import report
from oms_tools.stock_csv import stock
from oms_tools.webhook_cli import webhook


def local_stack(command: Any) -> Any:
    for option in reversed(local_stack_options()):
        command = option(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Order management for Amazon sellers: run it locally and operate it."""


@main.command()
@click.argument("function")
@click.option(
    "--event",
    "event_file",
    type=click.File("r"),
    default=None,
    help="JSON event to send (default: a schedule's event, fired now).",
)
@local_stack
def invoke(function: str, event_file: Any, port: int | None, state_dir: Path | None) -> None:
    """Run FUNCTION (logical id or folder under functions/) now, in the running local stack."""
    target = resolve_target(port, state_dir, None, None)
    answer = target.invoke_raw(function, json.load(event_file) if event_file else None)
    click.echo(json.dumps(answer.get("result", answer.get("error")), indent=2))
    if "error" in answer:
        sys.exit(1)


@main.group()
def simulate() -> None:
    """Act as Amazon's buyers in the running local marketplace."""


@simulate.command("order")
@click.option("--sku", required=True, help="Seller SKU to order (any SKU; new ones are listed).")
@click.option("--quantity", type=click.IntRange(min=1), required=True, help="Units of it.")
@click.option("--afn", is_flag=True, help="Fulfilled by Amazon (FBA) instead of by the seller (MFN).")
@click.option("--prime", is_flag=True, help="A Prime order.")
@click.option("--ship-by", default=None, help="Latest ship date, ISO-8601 [usual handling time].")
@local_stack
def simulate_order(
    sku: str,
    quantity: int,
    afn: bool,
    prime: bool,
    ship_by: str | None,
    port: int | None,
    state_dir: Path | None,
) -> None:
    """Place one order in the local marketplace, which notifies like Amazon; prints its orderId."""
    if ship_by is not None:
        try:
            datetime.fromisoformat(ship_by)
        except ValueError:
            raise click.BadParameter(f"{ship_by!r} is not an ISO-8601 time", param_hint="--ship-by") from None
    outputs = resolve_target(port, state_dir, None, None).outputs
    if "SpApiEndpoint" not in outputs:
        raise click.ClickException("the running local stack has no marketplace simulator (SpApiEndpoint)")
    order: dict[str, Any] = {"sku": sku, "quantity": quantity, "afn": afn, "prime": prime}
    if ship_by is not None:
        order["shipBy"] = ship_by
    answer = post_json(f"{outputs['SpApiEndpoint']}/_simulator/orders", order, what="the local marketplace")
    click.echo(answer["orderId"])


@simulate.command("return")
@click.option("--order", "order_id", required=True, help="Amazon order id of a shipped order.")
@click.option("--sku", default=None, help="The SKU returned (default: one of the order's, at random).")
@click.option("--quantity", type=click.IntRange(min=1), default=None, help="Units (default: all shipped).")
@click.option("--reason", default=None, help="Amazon's reason code, e.g. DEFECTIVE (default: a likely one).")
@click.option(
    "--in-policy/--out-of-policy", "in_policy", default=None, help="Within Amazon's policy (default: mostly)."
)
@local_stack
def simulate_return(
    order_id: str,
    sku: str | None,
    quantity: int | None,
    reason: str | None,
    in_policy: bool | None,
    port: int | None,
    state_dir: Path | None,
) -> None:
    """A buyer returns units of a shipped order now; the returns reports list it (prints the return)."""
    outputs = resolve_target(port, state_dir, None, None).outputs
    if "SpApiEndpoint" not in outputs:
        raise click.ClickException("the running local stack has no marketplace simulator (SpApiEndpoint)")
    body: dict[str, Any] = {
        k: v
        for k, v in {"sku": sku, "quantity": quantity, "reason": reason, "inPolicy": in_policy}.items()
        if v is not None
    }
    answer = post_json(
        f"{outputs['SpApiEndpoint']}/_simulator/orders/{order_id}/returns", body, what="the local marketplace"
    )
    click.echo(json.dumps(answer, indent=2))


@simulate.command("message")
@click.option("--order", "order_id", required=True, help="Amazon order id in the local marketplace.")
@click.option(
    "--intent",
    type=click.Choice(["where-is-my-order", "return", "cancel", "damaged", "question", "thanks"]),
    default=None,
    help="What the buyer writes about (default: a likely one for the order's state).",
)
@local_stack
def simulate_message(order_id: str, intent: str | None, port: int | None, state_dir: Path | None) -> None:
    """The order's buyer writes to the seller now, delivered by mail as Amazon's Buyer-Seller Messaging does."""
    outputs = resolve_target(port, state_dir, None, None).outputs
    if "SpApiEndpoint" not in outputs:
        raise click.ClickException("the running local stack has no marketplace simulator (SpApiEndpoint)")
    body = {"intent": intent} if intent else {}
    answer = post_json(
        f"{outputs['SpApiEndpoint']}/_simulator/orders/{order_id}/messages",
        body,
        what="the local marketplace",
    )
    click.echo(json.dumps(answer, indent=2))


main.add_command(local)
main.add_command(dlq)
main.add_command(backfill)
main.add_command(stock)
main.add_command(report)
main.add_command(forecast)
main.add_command(planning)
main.add_command(webhook)

# What each command does in a line that fits an 80-column `--help` listing whole (click cuts a longer
# docstring's first sentence mid-phrase, "interrupted,..."); the docstrings stay the full help.
SHORT_HELP = {
    "invoke": "Run one function of the local stack now.",
    "simulate": "Act as Amazon's buyers in the local marketplace.",
    "simulate order": "Place one order; prints its order id.",
    "simulate return": "A buyer returns units of a shipped order.",
    "simulate message": "The buyer of an order writes to you.",
    "local": "Start the whole product locally until Ctrl-C.",
    "dlq": "Notifications that failed: show them, replay them.",
    "dlq show": "List them with the reason each failed.",
    "dlq redrive": "Move them back to the queue after a fix.",
    "backfill": "Import order history from Amazon (resumable).",
    "stock": "Stock and policies as CSV: import, export.",
    "stock import": "Set stock and policies from a CSV file.",
    "stock export": "Write every stock row as CSV.",
    "report": "Reports as CSV.",
    "report orders": "An order report as CSV, one row per item.",
    "forecast": "Forecast daily units per SKU from a CSV history.",
    "planning": "Demand history for the stock plans.",
    "planning import": "Import daily units per SKU from a CSV file.",
    "webhook": "Send a signed webhook as another system would.",
    "webhook send": "Sign a file and POST it to an integration.",
}


def _shorten(group: click.Group, path: str = "") -> None:
    for name, command in group.commands.items():
        command.short_help = SHORT_HELP.get(f"{path}{name}", command.short_help)
        if isinstance(command, click.Group):
            _shorten(command, f"{path}{name} ")


_shorten(main)

if __name__ == "__main__":
    main()
