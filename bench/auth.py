"""The API's authorizer, measured through the local stack: `.venv/bin/python bench/auth.py [--keys 10]`.

Starts `oms local --no-simulator`, makes --keys API keys with the ApiToken, then times GET /orders: each key's
first call (the authorizer function runs: a GetItem by hash, the last use noted), the same keys again (API
Gateway's cached answer, as the local gateway keeps it for ReauthorizeEvery), and unknown keys (the authorizer
runs and refuses: 401). The difference is what a key costs a request when its answer is not cached.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_env  # noqa: F401 - the import path and a harmless AWS environment, before anything else


def measure(count: int) -> dict[str, Any]:
    import requests

    from oms_local import harness

    stack = harness.start_stack(Path(tempfile.mkdtemp()) / "state", timeout=180)
    try:
        url, admin = stack.outputs["ApiUrl"], stack.outputs["ApiToken"]
        session = requests.Session()
        session.trust_env = False  # loopback only

        def timed(token: str) -> tuple[int, float]:
            started = time.perf_counter()
            answer = session.get(f"{url}/orders", headers={"Authorization": f"Bearer {token}"}, timeout=30)
            return answer.status_code, (time.perf_counter() - started) * 1000

        keys = [
            session.post(
                f"{url}/api-keys",
                json={"name": f"bench {n}", "scopes": ["orders:read"]},
                headers={"Authorization": f"Bearer {admin}"},
                timeout=30,
            ).json()["key"]
            for n in range(count)
        ]
        first = [timed(key) for key in keys]
        cached = [timed(key) for key in keys for _ in range(3)]
        refused = [timed(f"oms_live_unknown{n}") for n in range(count)]
        assert {s for s, _ in first + cached} == {200} and {s for s, _ in refused} == {401}
        return {
            "keys": count,
            "firstCallMedianMs": round(statistics.median(ms for _, ms in first)),
            "cachedCallMedianMs": round(statistics.median(ms for _, ms in cached)),
            "refusedCallMedianMs": round(statistics.median(ms for _, ms in refused)),
        }
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=10)
    result = measure(parser.parse_args().keys)
    print(json.dumps(result, indent=2))
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "auth.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
