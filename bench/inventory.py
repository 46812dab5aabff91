"""Inventory you can trust, measured: `.venv/bin/python bench/inventory.py [--skus 10000] [--samples 5]`.

1. SP-API calls of one inventory_sync cycle for a catalogue of --skus SKUs (80% merchant-fulfilled,
   20% in FBA) of which 1% changed since the last cycle, measured against the local marketplace with
   moto in process; next to it, what reading the whole catalogue would cost (computed from the same
   catalogue and Amazon's page sizes).
2. Seconds from a stock change (POST /inventory/{sku}/adjustments) to the local marketplace's listing
   showing it (getListingsItem), in a local stack started for the purpose (`oms local --no-simulator`).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import bench_env  # noqa: F401 - the import path and a harmless AWS environment, before anything else

CHANGED_SHARE = 0.01
FBA_SHARE = 0.20
DRIFTED = 5  # changed MFN SKUs whose quantity Amazon shows differently (e.g. edited in Seller Central)


# ------------------------------------------------------------------------------ 1. calls per cycle


def calls_per_cycle(skus: int) -> dict[str, Any]:
    from moto import mock_aws

    with mock_aws():
        return _calls_per_cycle(skus)


def _calls_per_cycle(skus: int) -> dict[str, Any]:
    import boto3

    from oms.amazon.client import Credentials, SpApiClient
    from oms.amazon.inventory_api import SUMMARIES_PER_PAGE
    from oms.amazon.listings_api import SEARCH_BATCH, quantity_patch
    from oms.amazon.rate_budget import RateBudget
    from oms.domain.stock import StockLevel
    from oms.domain.types import iso_z, utc_now
    from oms.inventory.stock import row_item
    from oms.inventory.sync import JOB, sync_inventory
    from oms.store import keys
    from oms.store.default import default_table
    from oms.store.table import to_dynamo
    from oms_local.resources import create_resources
    from oms_local.simulator import LOCAL_CREDENTIALS, Simulator, SimulatorConfig
    from oms_local.simulator.catalogue import Catalogue
    from oms_local.template import Template

    template = Template()
    resources = create_resources(template, "bench", "us-east-1", None)
    for name, value in resources.resolver.resolve(template.globals["Environment"]["Variables"]).items():
        os.environ[name] = str(value)
    table = default_table()
    fba_count = int(skus * FBA_SHARE)
    mfn_count = skus - fba_count
    mfn = [f"MFN-{n:06d}" for n in range(mfn_count)]
    fba = [f"FBA-{n:06d}" for n in range(fba_count)]
    changed_mfn = mfn[:: round(1 / CHANGED_SHARE)]
    changed_fba = fba[:: round(1 / CHANGED_SHARE)]
    long_ago = utc_now() - timedelta(hours=2)

    empty = Catalogue(products={}, baskets=[], consumer_quantities=[1])
    config = SimulatorConfig(duplicate_probability=0.0, delay_probability=0.0, seed=1)
    with Simulator(config, catalogue=empty) as simulator:
        market = simulator.marketplace
        # the catalogue as it stood at the last cycle: our rows, Amazon's listings and FBA stock
        dynamodb = boto3.client("dynamodb")

        def write_rows(skus: list[str], units: int, at: str) -> None:
            # written directly: moto copies the whole table for every transaction, which would make the
            # seeding of a 10,000-SKU table take minutes; the rows are the ones the product writes
            rows = [
                {
                    **row_item(None, sku, StockLevel(units), location=keys.DEFAULT_LOCATION, at=at),
                    "channel": "MFN",
                    "version": 1,
                }
                for sku in skus
            ]
            for start in range(0, len(rows), 25):
                dynamodb.batch_write_item(
                    RequestItems={
                        table.name: [{"PutRequest": {"Item": to_dynamo(r)}} for r in rows[start : start + 25]]
                    }
                )

        write_rows(mfn, 5, iso_z(long_ago))
        for sku in mfn:
            market.patch_listing(simulator.seller_id, sku, quantity_patch(6))  # what the last push left
        for n, sku in enumerate(fba):
            market.set_fba_stock(sku, fulfillable=n % 300)
        for stock in market.fba.values():
            stock.updated = long_ago
        for half in ("fba", "listings"):
            table.put(
                {
                    **keys.watermark_key(f"{JOB}:{half}", simulator.marketplace_id),
                    "entity": "Watermark",
                    "since": (utc_now() - timedelta(hours=1)).isoformat(),
                }
            )
        # since then: 1% of each side changed; Amazon drifted on a few of ours
        write_rows(changed_mfn, 6, iso_z(utc_now()))  # 5 -> 6, as a receipt of one unit leaves them
        for sku in changed_mfn[:DRIFTED]:
            market.listings[sku].quantity = 2
        for sku in changed_fba:
            market.set_fba_stock(sku, fulfillable=1)

        client = SpApiClient(
            credentials=lambda: Credentials(
                LOCAL_CREDENTIALS["clientId"],
                LOCAL_CREDENTIALS["clientSecret"],
                LOCAL_CREDENTIALS["refreshTokens"],
            ),
            # the shared budget in a table of its own: the same tokens and waits, without moto copying
            # the 10,000-SKU table for each token it hands out
            budget=RateBudget(_budget_table(resources)),
            endpoint_override=simulator.url,
            lwa_url=simulator.lwa_token_url,
        )
        started = time.monotonic()
        report = sync_inventory(table, client, simulator.marketplace_id, seller_id=simulator.seller_id)
        seconds = time.monotonic() - started

    whole_per_sku = math.ceil(fba_count / SUMMARIES_PER_PAGE) + mfn_count + report.disagreed
    whole_batched = (
        math.ceil(fba_count / SUMMARIES_PER_PAGE) + math.ceil(mfn_count / SEARCH_BATCH) + report.disagreed
    )
    changed = len(changed_mfn) + len(changed_fba)
    return {
        "skus": skus,
        "changed": changed,
        "calls": dict(client.calls),
        "total": sum(client.calls.values()),
        "reads": client.calls.get("getInventorySummaries", 0) + client.calls.get("searchListingsItems", 0),
        "goal": math.ceil(len(changed_fba) / SUMMARIES_PER_PAGE) + math.ceil(len(changed_mfn) / SEARCH_BATCH),
        "repushed": report.disagreed,
        "wholePerSku": whole_per_sku,
        "wholeBatched": whole_batched,
        "seconds": seconds,
        "report": report.as_dict(),
    }


def _budget_table(resources: Any) -> Any:
    from oms.store.default import _page_tokens
    from oms.store.table import Table

    dynamodb = resources.client("dynamodb")
    dynamodb.create_table(
        TableName="bench-budget",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return Table("bench-budget", _page_tokens)


# ------------------------------------------------------------------------------ 2. change -> listing


def seconds_to_listing(samples: int, timeout: float = 90.0) -> list[float]:
    import requests

    with tempfile.TemporaryDirectory(prefix="oms-bench-") as state:
        stack = _start_stack(Path(state))
        try:
            outputs = stack["outputs"]
            session = requests.Session()
            session.trust_env = False
            api, auth = outputs["ApiUrl"], {"Authorization": f"Bearer {outputs['ApiToken']}"}
            token = session.post(
                outputs["LwaTokenUrl"],
                data={"grant_type": "refresh_token", "refresh_token": "bench"},
                timeout=10,
            ).json()["access_token"]

            def amazon_shows(sku: str) -> int | None:
                answer = session.get(
                    f"{outputs['SpApiEndpoint']}/listings/2021-08-01/items/{outputs['SellerId']}/{quote(sku, safe='')}",
                    params={
                        "marketplaceIds": outputs["MarketplaceId"],
                        "includedData": "fulfillmentAvailability",
                    },
                    headers={"x-amz-access-token": token},
                    timeout=10,
                )
                if answer.status_code != 200:
                    return None
                return next(
                    (
                        a.get("quantity")
                        for a in answer.json()["fulfillmentAvailability"]
                        if a["fulfillmentChannelCode"] == "DEFAULT"
                    ),
                    None,
                )

            found = []
            for n in range(samples):
                sku = f"BENCH-{uuid.uuid4().hex[:8]}"
                path = f"{api}/inventory/{quote(sku, safe='')}"
                session.put(
                    path, json={"channel": "MFN", "amazonBuffer": 1}, headers=auth, timeout=30
                ).raise_for_status()
                units = 5 + n
                session.post(
                    f"{path}/adjustments",
                    json={"delta": units, "reason": "receipt"},
                    headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
                    timeout=30,
                ).raise_for_status()
                changed = time.monotonic()
                if not _wait(lambda sku=sku, units=units: amazon_shows(sku) == units - 1, timeout):
                    raise RuntimeError(f"{sku} did not reach the listing within {timeout}s")
                found.append(time.monotonic() - changed)
                time.sleep(1)  # the next change starts on a quiet stream, as a seller's would
            return found
        finally:
            _stop(stack)


def _start_stack(state: Path) -> dict[str, Any]:
    from oms_local.harness import start_stack

    stack = start_stack(state / "s")
    return {"process": stack, "outputs": stack.outputs}


def _stop(stack: dict[str, Any]) -> None:
    stack["process"].stop(timeout=15)


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


# ------------------------------------------------------------------------------ report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--no-stack", action="store_true", help="skip the local-stack latency part")
    options = parser.parse_args()

    cycle = calls_per_cycle(options.skus)
    print(f"1. One inventory_sync cycle: {cycle['skus']:,} SKUs, {cycle['changed']} changed (1%), measured")
    print(f"   {'approach':<44} {'SP-API calls':>12}")
    print(f"   {'changed since the watermark (this product)':<44} {cycle['total']:>12}   {cycle['calls']}")
    print(
        f"     of which reads {cycle['reads']} (goal: changed / batch size = {cycle['goal']}), re-pushes {cycle['repushed']}"
    )
    print(f"   {'whole catalogue, one getListingsItem per SKU':<44} {cycle['wholePerSku']:>12}   (computed)")
    print(f"   {'whole catalogue, batched 50 / 20 a call':<44} {cycle['wholeBatched']:>12}   (computed)")
    print(
        f"   the measured cycle took {cycle['seconds']:.1f}s against moto in process, which copies the whole"
        " table for every TransactWriteItems"
    )
    if options.no_stack:
        return
    samples = seconds_to_listing(options.samples)
    print(
        f"2. Stock change -> the local marketplace's listing shows it ({len(samples)} samples, local stack)"
    )
    print(
        f"   median {statistics.median(samples):.1f}s, max {max(samples):.1f}s   "
        f"[{', '.join(f'{s:.1f}' for s in samples)}]"
    )


if __name__ == "__main__":
    main()
