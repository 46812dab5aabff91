"""Cold starts: the import time of each function's app.py against a bare `import boto3` plus one client.

Each figure is the median of several fresh interpreters (`--runs`), timed inside the child from before
the first import to after app.py ran (Python's own start-up, the same for every function, is left out),
in CPU time: on a machine shared with others the wall time swings with their load (2x from one minute to
the next here) while the CPU an import needs does not; on Lambda's own core the two are close.
The children get what Lambda gives a function: the template's environment (resolved against a moto
server the bench starts, so what a cold start reads, such as a secret, is really read), LAMBDA_TASK_ROOT
(so Powertools' Tracer is on, as on a deployed stack with `Tracing: Active`) and fake credentials.

One untimed run per function first writes the .pyc files a built layer ships with (`sam build` and the
layer's zip carry what `make install` compiled), so source compilation is counted for no one.

The baseline is `import boto3; boto3.client("dynamodb")`: what any Python Lambda that talks to DynamoDB
pays. The goals (issue 15): the API <= 2x, ingest_notifications <= 1.5x. `-X importtime` shows where
a function's time goes: `--importtime api` prints its 25 slowest imports (cumulative).

    .venv/bin/python bench/cold_start.py                 # every function, 7 runs each
    .venv/bin/python bench/cold_start.py --runs 3 --functions api,ingest_notifications
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench_env  # noqa: F401 - the repository on sys.path, harmless AWS settings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "cold_start.json"
# The template's parameters the functions check at cold start (as in tests/conftest.py).
STACK_PARAMETERS = {
    "SellerId": "A3TH9S8BH6GOGM",
    "SpApiApplicationId": "app-id-d0e9e693-c3ad-4373-979f-ed4ec98dd746",
}
GOALS = {"api": 2.0, "ingest_notifications": 1.5}
BASELINE = "import boto3\nboto3.client('dynamodb')\n"

# The child: time from before the first import to after the function's module ran, in seconds.
_CHILD = """
import sys, time
began, cpu = time.perf_counter(), time.process_time()
{body}
sys.stdout.write(repr(time.process_time() - cpu) + " " + repr(time.perf_counter() - began))
"""
_APP = """
import importlib.util
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
"""


def child_environment(extra: dict[str, str], task_root: Path, endpoint: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TZ")}
    python_path = os.pathsep.join(str(p) for p in (ROOT / "layers" / "oms", task_root))
    return {
        **keep,
        **extra,
        "PYTHONPATH": python_path,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_ENDPOINT_URL": endpoint,
        "LAMBDA_TASK_ROOT": str(task_root),  # Powertools turns its Tracer on inside Lambda only
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }


def time_once(body: str, env: dict[str, str], importtime: bool = False) -> tuple[float, str]:
    """(CPU seconds the import took, -X importtime's lines); the wall time is in the last line too."""
    command = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", _CHILD.format(body=body)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    cpu, _wall = done.stdout.strip().splitlines()[-1].split()
    return float(cpu), done.stderr


def slowest_imports(stderr: str, count: int = 25) -> list[tuple[int, str]]:
    """`-X importtime` lines -> the `count` largest cumulative times (microseconds) with their module."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _own, cumulative, name = line.removeprefix("import time:").split("|")
        rows.append((int(cumulative), name.rstrip()))
    return sorted(rows, reverse=True)[:count]


def measure(functions: list[str], runs: int) -> dict[str, Any]:
    from oms_local.moto_process import running
    from oms_local.resources import create_resources
    from oms_local.template import Template

    template = Template()
    figures: dict[str, Any] = {}
    with running() as url:
        os.environ["AWS_ENDPOINT_URL"] = url
        resources = create_resources(template, "cold", "us-east-1", url, parameters=STACK_PARAMETERS)
        globals_env = resources.resolver.resolve(template.globals["Environment"]["Variables"])
        with tempfile.TemporaryDirectory(prefix="oms-cold-") as empty:
            base_env = child_environment({k: str(v) for k, v in globals_env.items()}, Path(empty), url)
            # interleaved: a machine busy for a while slows every row alike, not one row
            envs = {}
            for name in functions:
                function = template.function(name)
                own = resources.resolver.resolve(function.environment)
                envs[name] = (
                    child_environment(
                        {**base_env, **{k: str(v) for k, v in own.items()}}, function.code_uri, url
                    ),
                    _APP.format(path=str(function.code_uri / "app.py")),
                )
            samples: dict[str, list[float]] = {"boto3": [], **{n: [] for n in functions}}
            for env, body in envs.values():  # untimed: compiles what has no .pyc yet, as a built layer has
                time_once(body, env)
            for _ in range(runs):
                samples["boto3"].append(time_once(BASELINE, base_env)[0])
                for name, (env, body) in envs.items():
                    samples[name].append(time_once(body, env)[0])
    baseline = statistics.median(samples["boto3"])
    figures["boto3"] = {"median": baseline, "samples": samples["boto3"]}
    for name in functions:
        median = statistics.median(samples[name])
        figures[name] = {"median": median, "ratio": median / baseline, "samples": samples[name]}
    return figures


def report(figures: dict[str, Any], runs: int) -> str:
    lines = [
        f"cold start: import of each function's app.py, CPU time, median of {runs} fresh interpreters",
        "",
        f"| {'function':<24} | {'import':>8} | {'x boto3':>7} | {'goal':>6} | {'':<4} |",
        f"| {'-' * 24} | {'-' * 8} | {'-' * 7} | {'-' * 6} | {'-' * 4} |",
        f"| {'import boto3 + 1 client':<24} | {figures['boto3']['median'] * 1000:>6.0f} ms | {1:>7.2f} | {'':>6} | {'':<4} |",
    ]
    for name, row in figures.items():
        if name == "boto3":
            continue
        goal = GOALS.get(name)
        verdict = "" if goal is None else ("met" if row["ratio"] <= goal else "MISS")
        goal_text = f"<= {goal}" if goal else ""
        lines.append(
            f"| {name:<24} | {row['median'] * 1000:>6.0f} ms | {row['ratio']:>7.2f} | {goal_text:>6} | {verdict:<4} |"
        )
    return "\n".join(lines)


def main() -> int:
    from oms_local.template import Template

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--functions", default="", help="comma list of function folders (default: every one)")
    parser.add_argument("--importtime", default="", help="a function folder: print its slowest imports")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    every = sorted(f.folder for f in Template().functions())
    chosen = [f.strip() for f in args.functions.split(",") if f.strip()] or every
    unknown = sorted(set(chosen) - set(every))
    if unknown:
        parser.error(f"no such function: {', '.join(unknown)} (one of {', '.join(every)})")
    order = [n for n in ("api", "ingest_notifications") if n in chosen] + [
        n for n in chosen if n not in ("api", "ingest_notifications")
    ]
    if args.importtime:
        return print_importtime(args.importtime)
    figures = measure(order, args.runs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    stamped = {
        "startedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": args.runs,
        "goals": GOALS,
    }
    args.out.write_text(json.dumps({**stamped, "figures": figures}, indent=2) + "\n")
    print(report(figures, args.runs))
    print(f"\nfigures in {args.out}")
    return 0


def print_importtime(name: str) -> int:
    from oms_local.moto_process import running
    from oms_local.resources import create_resources
    from oms_local.template import Template

    template = Template()
    function = template.function(name)
    with running() as url:
        os.environ["AWS_ENDPOINT_URL"] = url
        resources = create_resources(template, "cold", "us-east-1", url, parameters=STACK_PARAMETERS)
        own = resources.resolver.resolve(
            {**template.globals["Environment"]["Variables"], **function.environment}
        )
        env = child_environment({k: str(v) for k, v in own.items()}, function.code_uri, url)
        seconds, stderr = time_once(_APP.format(path=str(function.code_uri / "app.py")), env, importtime=True)
    print(f"{name}: {seconds * 1000:.0f} ms under -X importtime; slowest imports (cumulative):")
    for micros, module in slowest_imports(stderr):
        print(f"  {micros / 1000:>8.1f} ms  {module}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
