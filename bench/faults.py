"""Faults (issue 15, part 3): N orders through intake, shipping (labels bought through Amazon, shipments
confirmed) and returns (received, refunded through the feed) on a local stack in fault mode, against a
fault-free run of the same seed on another stack; prints the comparison, the DLQs, what Amazon acted on
more than once and the faults injected by kind. The drill itself: local/oms_local/fault_drill.py.

    .venv/bin/python bench/faults.py                       # 1,000 orders, 15% faults, seed 1, 4 stations
    .venv/bin/python bench/faults.py --orders 50 --faults 0.3 --seed 4

Results in bench/results/faults.json (not committed: they depend on the machine).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import bench_env  # noqa: F401 - the repository on sys.path, harmless AWS settings

from oms_local import fault_drill

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "faults.json"
# what Amazon must act on once only; feeds and listing patches batch differently with the run's timing
ONCE_EACH = {
    "createShipment": "once per label",
    "confirmShipment": "once per package (repeats below)",
    "refundPostings": "once per refund",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--faults", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=7200, help="seconds each run may take")
    parser.add_argument(
        "--stations", type=int, default=4, help="packing stations shipping at once, each a client of its own"
    )
    parser.add_argument(
        "--sequential", action="store_true", help="one stack after the other (default: both at once)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-faults-"))

    def run(name: str, rate: float) -> fault_drill.DrillResult:
        return fault_drill.run(
            work / name,
            orders=args.orders,
            faults=rate,
            seed=args.seed,
            timeout=args.timeout,
            stations=args.stations,
            say=lambda text: print(f"  {name:7} {text}", flush=True),
        )

    started = time.monotonic()
    if args.sequential:
        clean, faulty = run("clean", 0.0), run("faulty", args.faults)
    else:
        with ThreadPoolExecutor(2) as pool:
            clean_run, faulty_run = pool.submit(run, "clean", 0.0), pool.submit(run, "faulty", args.faults)
            clean, faulty = clean_run.result(), faulty_run.result()
    differences = fault_drill.differences(clean, faulty)
    twice = fault_drill.sent_twice(faulty)
    same = "equal"
    rows = [
        ("orders", args.orders, args.orders, ""),
        *(
            (entity, len(clean.state.get(entity, [])), len(faulty.state.get(entity, [])), same)
            for entity in sorted(set(clean.state) | set(faulty.state))
        ),
        *(
            (
                f"Amazon acted: {operation}",
                sum(clean.acted.get(operation, {}).values()),
                sum(counts.values()),
                ONCE_EACH.get(operation, ""),
            )
            for operation, counts in sorted(faulty.acted.items())
        ),
        (
            "confirmations sent again for the same package (an edit at Amazon)",
            fault_drill.repeated_confirmations(clean),
            fault_drill.repeated_confirmations(faulty),
            "",
        ),
        (
            "messages in a DLQ",
            _messages(clean),
            _messages(faulty),
            "poison only",
        ),
        (
            "a schedule's runs that failed, in the failure queue (the next run resumes; no work in them)",
            _failed_runs(clean),
            _failed_runs(faulty),
            "",
        ),
        ("labels whose answer was lost, recorded by hand", clean.labels_by_hand, faulty.labels_by_hand, ""),
        (
            "seller's requests sent again (5xx, dropped, busy)",
            clean.seller_retries,
            faulty.seller_retries,
            "",
        ),
        ("seconds (stack start included)", round(clean.seconds), round(faulty.seconds), ""),
    ]
    print(
        f"\nbench/faults.py: {args.orders} orders, faults {args.faults:.0%}, seed {args.seed},"
        f" {args.stations} packing stations"
    )
    print("| | fault-free | with faults | goal |\n| --- | --- | --- | --- |")
    for name, a, b, goal in rows:
        print(f"| {name} | {a} | {b} | {goal} |")
    print("\n| check | with faults | goal |\n| --- | --- | --- |")
    print(
        f"| state equal after normalising | {'yes' if not differences else f'NO ({len(differences)})'} | yes |"
    )
    print(
        f"| things Amazon acted on twice (a label, a package, a refund) | {sum(len(v) for v in twice.values())} | 0 |"
    )
    print(
        f"| dead letters that are not poison (the fault-free run's DLQs lack them) | {_not_poison(clean, faulty)} | 0 |"
    )
    for line in differences:
        print(f"  {line}")
    if twice:
        print(f"sent twice: {json.dumps(twice)}")
    print("\n| faults injected | count |\n| --- | --- |")
    for kind, count in faulty.faults.items():
        print(f"| {kind} | {count} |")
    print("\n| seller's requests sent again, with faults: answer and route | count |\n| --- | --- |")
    for why, count in list(faulty.seller_retried.items())[:12]:
        print(f"| {why} | {count} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "orders": args.orders,
                "faults": args.faults,
                "seed": args.seed,
                "stations": args.stations,
                "measuredAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "seconds": round(time.monotonic() - started),
                "rows": rows,
                "differences": differences,
                "sentTwice": twice,
                "deadLetters": {"clean": clean.dead_letters, "faulty": faulty.dead_letters},
                "injected": faulty.faults,
                "sellerRetried": faulty.seller_retried,
            },
            indent=1,
            default=str,
        )
    )
    print(f"\nresults: {RESULTS.relative_to(ROOT)}")
    ok = not differences and not twice and not _not_poison(clean, faulty)
    return 0 if ok else 1


def _failed_runs(result: fault_drill.DrillResult) -> int:
    return sum(1 for letter in result.dead_letters if fault_drill.scheduled_run(letter))


def _messages(result: fault_drill.DrillResult) -> int:
    return len(result.dead_letters) - _failed_runs(result)


def _not_poison(clean: fault_drill.DrillResult, faulty: fault_drill.DrillResult) -> int:
    return len(fault_drill.not_poison(clean, faulty))


if __name__ == "__main__":
    sys.exit(main())
