"""The intake benchmark's table and notes, from the results both parts wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from intake_common import GOALS, ORDERS_PER_HOUR, RECONCILE_EVERY


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def report(results: dict[str, Any]) -> str:
    sizes = [int(n) for n in results["inProcess"]]
    parts = [results["inProcess"][str(n)] for n in sizes]
    stack = results.get("stack")
    rows: list[tuple[str, list[str], str, str]] = []

    def row(name: str, values: list[Any], goal: str = "", met: bool | None = None, digits: int = 3) -> None:
        rows.append(
            (name, [_fmt(v, digits) for v in values], goal, "" if met is None else ("yes" if met else "NO"))
        )

    calls = [p["spApi"]["callsPerOrder"] for p in parts]
    row(
        "SP-API calls per order, product [1]",
        calls,
        f"<= {GOALS['calls']}",
        all(c <= GOALS["calls"] for c in calls),
        4,
    )
    row("SP-API calls per order, naive [2]", [p["naiveCallsPerOrder"] for p in parts], digits=2)
    row(
        "  notifications delivered per order (incl. duplicates)",
        [p["notifications"]["delivered"] / p["orders"] for p in parts],
        digits=2,
    )
    row(
        "  backstop runs / searchOrders pages [1]",
        [f"{p['spApi']['reconcileRuns']} / {p['spApi']['pages']}" for p in parts],
    )
    row(
        "  429s seen by the backstop [1]",
        [p["spApi"]["throttled"] for p in parts],
        "0",
        all(p["spApi"]["throttled"] == 0 for p in parts),
    )
    if stack:
        rate = stack["consumers"]
        same = [f"{rate['product']['throttled']} of {rate['product']['calls']}*"] * len(parts)
        row(
            f"429s, {rate['workers']} concurrent consumers, product client [3]",
            same,
            "0",
            rate["product"]["throttled"] == 0,
        )
        naive = [f"{rate['naive']['throttled']} of {rate['naive']['calls']}*"] * len(parts)
        row(f"429s, {rate['workers']} concurrent consumers, naive client [3]", naive)
    writes = [p["ingest"]["writeRequestsPerNotification"] for p in parts]
    row(
        "DynamoDB write requests per notification [4]",
        writes,
        f"<= {GOALS['writes']}",
        all(w <= GOALS["writes"] for w in writes),
        2,
    )
    row(
        "DynamoDB requests per notification, all [4]",
        [p["ingest"]["requestsPerNotification"] for p in parts],
        digits=2,
    )
    row(
        "  items written per notification (in transactions)",
        [p["ingest"]["itemsWrittenPerNotification"] for p in parts],
        digits=2,
    )
    row(
        "DynamoDB write units per notification [5]",
        [p["ingest"]["wcuPerNotification"] for p in parts],
        digits=2,
    )
    row(
        "  of which table (transactional) / GSIs",
        [
            f"{p['ingest']['tableWcuPerNotification']:.2f} / {p['ingest']['indexWcuPerNotification']:.2f}"
            for p in parts
        ],
    )
    row("  read units per notification", [p["ingest"]["rcuPerNotification"] for p in parts], digits=2)
    row("DynamoDB requests per order, intake [4]", [p["ingest"]["requestsPerOrder"] for p in parts], digits=2)
    row("DynamoDB write units per order, intake [5]", [p["ingest"]["wcuPerOrder"] for p in parts], digits=2)
    row(
        "  + backstop: requests / write units per order",
        [f"{p['backstop']['requestsPerOrder']:.2f} / {p['backstop']['wcuPerOrder']:.2f}" for p in parts],
    )
    row("Handler CPU ms per notification, warm [6]", [p["cpuMsPerNotification"] for p in parts], digits=2)
    row(
        "  handler wall ms per notification (moto on loopback)",
        [p["wallMsPerNotification"] for p in parts],
        digits=1,
    )
    row(
        "Orders right after the run (table vs marketplace)",
        [f"{p['ordersRight']}/{p['orders']}" for p in parts],
        "all",
        all(p["ordersRight"] == p["orders"] for p in parts),
    )
    if stack:
        row(
            f"Local stack end to end, {stack['orders']} orders [7]",
            [f"{stack['ordersRight']}/{stack['orders']} right*"] * len(parts),
            "all",
            stack["ordersRight"] == stack["orders"] and not stack["deadLettered"],
        )
        backlog = stack["backlog"]
        row(
            "  local stack throughput, notifications/s [7]",
            [f"{_fmt(backlog['perSecond'], 2)}*"] * len(parts),
        )

    headers = ["figure", *[f"N={n}" for n in sizes], "goal", "met?"]
    table = [headers, *[[name, *values, goal, met] for name, values, goal, met in rows]]
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]
    lines = []
    for n, line in enumerate(table):
        lines.append(
            " | ".join(
                cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line)
            )
        )
        if n == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def notes(results: dict[str, Any], out: Path) -> str:
    stack = results.get("stack")
    first = next(iter(results["inProcess"].values()))
    text = [
        "",
        f"How each figure was obtained (details: {out}):",
        f"[1] In process on simulated time (part B): orders arrive at {ORDERS_PER_HOUR}/h; the product's backstop"
        f" (oms.orders.reconcile.sync_orders, SpApiClient + RateBudget) runs every {RECONCILE_EVERY.seconds // 60} min against"
        " the simulator's SP-API and reads the orders updated since its last run (5 min overlap, up to 100 a page);"
        " runs continue until the last change has been read, so the tail after the last arrival is included."
        " Calls = every SP-API request the simulator saw / N; the ingest path itself makes none.",
        "[2] getOrder + getOrderItems for every notification the marketplace delivered (duplicates included), / N.",
    ]
    if stack:
        rate = stack["consumers"]
        text.append(
            f"[3] * Measured once, in the local-stack run (part A): {rate['workers']} threads work off a backlog of"
            f" {rate['product']['calls']} notifications with one getOrder each (Amazon: 0.5/s, burst 30). Product client:"
            f" the shared RateBudget in the stack's table ({rate['product']['seconds']} s; a consumer whose wait would"
            " exceed 10 s gives its message back, as a Lambda would); plain client: one attempt each"
            f" ({rate['naive']['seconds']} s). 429s counted by the simulator. The figure does not depend on N."
        )
    text += [
        "[4] botocore after-call hooks on the handler's DynamoDB client; the handler (functions/orders/ingest_notifications)"
        " runs in this process on every delivered notification, in the batches that arrive within a second"
        f" (mean batch {first['meanBatch']}). Write requests = TransactWriteItems + Put/Update/Delete/BatchWrite.",
        "[5] Computed from the written items by DynamoDB's size rules (moto reports no capacity): 2 WCU per started KB"
        " of each transaction item (larger of old and new; canceled transactions, i.e. duplicates, counted as"
        " charged), plus 1 WCU per started KB for every GSI entry written (2 when its key moves).",
        "[6] time.thread_time() around each handler call, first (cold) call excluded; moto runs in another process.",
    ]
    if stack:
        text.append(
            f"[7] * The local stack (oms local --no-simulator) with {stack['orders']} orders of the buyers' mix placed"
            " through POST /_simulator/orders: every order checked with GET /orders/{orderId} once the marketplace"
            f" had made its own changes and the queue had drained ({stack['drainedSeconds']} s);"
            f" throughput = {stack['backlog']['delivered']} notifications delivered by the time the queue first ran"
            f" empty ({stack['backlog']['seconds']} s, with the 429 test alongside). One reconcile_orders run read"
            f" {stack['reconcile']['spApiCalls']} for {stack['orders']} orders. moto's RSS at the end:"
            f" {_fmt(stack['motoRssMb'], 0)} MB."
        )
    return "\n".join(text)
