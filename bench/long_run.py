"""Long runs: the local stack with the simulator for an hour (or `--minutes`), its memory sampled.

Orders arrive at `--per-minute` through the simulator (the buyers' mix of bench/intake_common.py), the
stack ingests them, its stream pollers read every change; every `--every` seconds the bench notes the
resident memory of the moto process (which holds the table, its stream and the queues) and of the stack
process. Flat means: the second half of the run grows by less than `--flat-mb` (the goal), since the table
itself grows by the orders (about 1 to 2 KB each, with their stock and ledger rows). Without
oms_local.stream_trim, moto kept every stream record and every shard iterator (one per poll of each of
the stack's stream readers, twice a second): the same hour grew by them.

    .venv/bin/python bench/long_run.py                      # one hour, 20 orders a minute
    .venv/bin/python bench/long_run.py --minutes 5 --every 30
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import bench_env  # noqa: F401 - the repository on sys.path, harmless AWS settings
from intake_common import draw_plans, say
from intake_stack import Stack, local_stack

RESULTS = Path(__file__).resolve().parent / "results" / "long_run.json"


def rss_mb(pid: int) -> float | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


def place(stack: Stack, plan: object) -> None:
    body = {
        "items": [{"sku": sku, "quantity": quantity} for sku, quantity in plan.items],  # type: ignore[attr-defined]
        "afn": plan.afn,  # type: ignore[attr-defined]
        "prime": plan.prime,  # type: ignore[attr-defined]
        "business": plan.business,  # type: ignore[attr-defined]
        "status": "Unshipped",
    }
    stack.sim("/_simulator/orders", body, post=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--per-minute", type=int, default=20)
    parser.add_argument("--every", type=float, default=300, help="seconds between samples")
    parser.add_argument("--flat-mb", type=float, default=30, help="goal: growth over the second half")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    total = int(args.minutes * args.per_minute)
    plans = draw_plans(total, args.seed)
    samples: list[dict[str, float | int | None]] = []
    work = Path(tempfile.mkdtemp(prefix="oms-bench-long-"))
    say(f"long run: {args.minutes} min, {args.per_minute} orders a minute, work files in {work}")
    with local_stack(work, dict(os.environ)) as stack:
        began = time.monotonic()
        placed, next_sample = 0, began
        while (elapsed := time.monotonic() - began) < args.minutes * 60:
            due = min(total, int(elapsed / 60 * args.per_minute) + 1)
            while placed < due:
                place(stack, plans[placed])
                placed += 1
            if time.monotonic() >= next_sample:
                sample = {
                    "minute": round(elapsed / 60, 1),
                    "orders": placed,
                    "motoMb": stack.moto_rss_mb(),
                    "stackMb": rss_mb(stack.process.pid),
                }
                samples.append(sample)
                say(f"  {sample}")
                next_sample += args.every
            time.sleep(0.5)
    half = [s for s in samples if float(s["minute"] or 0) >= args.minutes / 2]
    growth = None
    if len(half) >= 2 and half[0]["motoMb"] is not None and half[-1]["motoMb"] is not None:
        growth = float(half[-1]["motoMb"]) - float(half[0]["motoMb"])  # type: ignore[arg-type]
    result = {
        "startedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "minutes": args.minutes,
        "perMinute": args.per_minute,
        "samples": samples,
        "secondHalfGrowthMb": growth,
        "goalMb": args.flat_mb,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print("\n| minute | orders | moto MB | stack MB |\n| --- | --- | --- | --- |")
    for s in samples:
        print(f"| {s['minute']} | {s['orders']} | {s['motoMb']:.0f} | {s['stackMb'] or 0:.0f} |")
    verdict = "n/a" if growth is None else ("met" if growth <= args.flat_mb else "MISS")
    print(f"\nmoto's growth over the second half: {growth} MB (goal <= {args.flat_mb} MB): {verdict}")
    print(f"figures in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
