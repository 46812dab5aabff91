"""What the intake benchmark's parts share: its settings, HTTP on loopback, the bench's own moto and
the buyers' mix drawn ahead."""

from __future__ import annotations

import contextlib
import json
import random
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "intake.json"
REGION = "us-east-1"
ORDERS_PER_HOUR = 500
RECONCILE_EVERY = timedelta(minutes=15)
SEARCH_LAG = timedelta(seconds=120)  # Amazon's: searchOrders sees changes two minutes late
SELLER_SHIPS_AFTER = (15 * 60.0, 2 * 3600.0)  # seconds after payment
SHIP_SHARE, TWO_PACKAGES_SHARE = 0.95, 0.2  # of seller-fulfilled orders that are not canceled
GOALS = {"calls": 0.1, "throttles": 0, "writes": 3}
STATUS_NAMES = {  # Orders API v2026-01-01 fulfillmentStatus -> the status notifications and the product use
    "PENDING_AVAILABILITY": "PendingAvailability",
    "PENDING": "Pending",
    "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "PartiallyShipped",
    "SHIPPED": "Shipped",
    "CANCELLED": "Canceled",
    "UNFULFILLABLE": "Unfulfillable",
}


def local_handler_environment() -> None:
    """The environment a handler run in the bench's own process gets: the local endpoint's dummy credentials,
    no profile or config file of the machine, Powertools as the template sets it (tracing off)."""
    import os

    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "POWERTOOLS_SERVICE_NAME": "ingest_notifications",
            "POWERTOOLS_METRICS_NAMESPACE": "AmazonSellerOms",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    os.environ.pop("AWS_PROFILE", None)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------- the bench's moto


@contextlib.contextmanager
def own_moto(log: Path) -> Iterator[str]:
    """A moto server as the local stack runs it (oms_local.moto_process), for part B's tables."""
    from oms_local import moto_process

    with log.open("ab") as output, moto_process.running(stdout=output, stderr=subprocess.STDOUT) as url:
        yield url


# ---------------------------------------------------------------------------------- HTTP helpers

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, never a proxy


def _open(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None, timeout: float = 60
) -> Any:
    request = urllib.request.Request(
        url, data=data, headers=headers or {}, method="POST" if data is not None else "GET"
    )
    return _opener.open(request, timeout=timeout)


def call_json(
    url: str,
    body: Any = None,
    *,
    post: bool = False,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if (post or body is not None) else None
    try:
        with _open(url, data, {"Content-Type": "application/json", **(headers or {})}, timeout) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


# ---------------------------------------------------------------------------------- the buyers' mix


@dataclass
class OrderPlan:
    """One order the buyers' mix draws (oms_local.simulator.buyer): what the control endpoint takes."""

    items: list[tuple[str, int]]
    afn: bool
    prime: bool
    business: bool
    status: str
    cancel: str | None  # "buyer", "payment" or None


def draw_plans(count: int, seed: int) -> list[OrderPlan]:
    """Baskets and shares of the simulator's BuyerMix, drawn without a running marketplace."""
    from oms_local.simulator import SimulatorConfig
    from oms_local.simulator.buyer import BuyerMix, Buyers
    from oms_local.simulator.marketplace import Marketplace

    rng = random.Random(seed)
    buyers = Buyers(Marketplace(SimulatorConfig(seed=seed)), rng=rng)
    mix = BuyerMix()
    plans = []
    for _ in range(count):
        afn = rng.random() < mix.afn_share
        items = [(w.sku, w.quantity) for w in buyers.basket(afn)]
        prime = rng.random() < (mix.prime_afn if afn else mix.prime_mfn)
        business = rng.random() < mix.business_share
        cancel = None
        if rng.random() < mix.cancel_share:
            cancel = "buyer" if rng.random() < mix.buyer_cancel_share else "payment"
        roll = rng.random()
        if cancel == "payment" or mix.preorder_share <= roll < mix.preorder_share + mix.pending_share:
            status = "Pending"
        elif roll < mix.preorder_share:
            status = "PendingAvailability"
        else:
            status = "Unshipped"
        plans.append(OrderPlan(items, afn, prime, business, status, cancel))
    return plans


def no_paging() -> Any:
    """The page tokens of a Table that never pages (the bench reads no page of a query)."""
    raise RuntimeError("nothing here reads a page of a query")
