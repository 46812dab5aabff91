"""Fault mode (oms_local.faults): seeded decisions, the DynamoDB faults a handler's client meets, batches
that die part way, and the simulated SP-API's faults before and after acting."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from oms_local import faults
from oms_local.faults import FaultPlan


def test_a_plan_comes_from_the_environment_and_is_off_without_it(tmp_path):
    assert FaultPlan.from_environment({}) is None
    assert FaultPlan.from_environment({faults.RATE_ENV: "0"}) is None
    plan = FaultPlan.from_environment(
        {faults.RATE_ENV: "0.15", faults.SEED_ENV: "7", faults.LOG_ENV: str(tmp_path / "f.jsonl")}
    )
    assert plan is not None and (plan.rate, plan.seed) == (0.15, 7)
    assert FaultPlan.from_environment(plan.environment()) == plan
    with pytest.raises(ValueError):
        FaultPlan.from_environment({faults.RATE_ENV: "1.5"})


def test_decisions_are_seeded_and_a_repeated_request_is_a_new_draw():
    def draws(seed):
        plan = FaultPlan(rate=0.15, seed=seed)
        return [plan.draw("dynamodb", "PutItem", {"n": n % 5}) for n in range(50)]

    assert draws(1) == draws(1)
    assert draws(1) != draws(2)
    assert len(set(draws(1))) == 50  # the same request seen again draws again


def test_about_the_rate_of_calls_fail_with_every_kind():
    plan = FaultPlan(rate=0.15, seed=3)
    kinds = [faults.dynamodb_kind(plan, op, {"i": i}) for i in range(4000) for op in ("PutItem", "GetItem")]
    failed = [k for k in kinds if k]
    assert 0.13 < len(failed) / len(kinds) < 0.17
    assert {
        "throttled, retried by the SDK",
        "applied, answer lost, sent again by the SDK",
        "throttled past the SDK's retries",
        "InternalServerError before applying",
        "InternalServerError after applying",
    } == set(failed)
    sp = [faults.sp_api_fault(plan, "createShipment", {"i": i}) for i in range(4000)]
    assert {f.kind.split(" ", 1)[1] if f.kind[0] == "5" else f.kind for f in sp if f} == {
        "429 QuotaExceeded",
        "before acting",
        "after acting",
        "timeout before acting",
        "timeout after acting",
    }


_WORKER = """
import json, sys
import boto3
from botocore.stub import Stubber
from oms_local import faults

plan = faults.FaultPlan(rate=0.5, seed=int(sys.argv[1]), log_path=None)
faults.install_in_worker(plan, "fn")
client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
stub = Stubber(client)
for _ in range(200):
    stub.add_response("put_item", {})
stub.activate()
seen = []
for i in range(40):
    try:
        client.put_item(TableName="t", Item={"pk": {"S": str(i)}})
        seen.append("ok")
    except client.exceptions.ClientError as error:
        seen.append(error.response["Error"]["Code"])
print(json.dumps(seen))
"""


def test_a_handlers_client_meets_throttles_and_server_errors(tmp_path):
    """In a worker process (as the local runtime installs it): some calls raise what DynamoDB answers."""
    done = subprocess.run(
        [sys.executable, "-c", _WORKER, "5"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert "ok" in seen
    assert {"ProvisionedThroughputExceededException", "InternalServerError"} <= set(seen)


def test_a_batch_dies_part_way_and_other_events_never_do():
    plan = FaultPlan(rate=0.99, seed=1)
    faults._invocation.function = "fn"
    faults.before_invocation(plan, {"Records": [{"messageId": "a", "eventSource": "aws:sqs"}]})
    assert faults._invocation.crash_after is not None and 1 <= faults._invocation.crash_after <= 12
    faults.before_invocation(plan, {"httpMethod": "GET"})
    assert faults._invocation.crash_after is None
    assert faults.batch_source({"Records": [{"eventSource": "aws:dynamodb"}]}) == "stream"


def test_a_worker_that_replaces_a_dead_one_draws_anew(tmp_path):
    """Counts of requests seen die with the worker: without its generation, its successor would meet the
    same faults in the same order and a batch that dies would die again on every redelivery."""
    log = tmp_path / "faults.jsonl"
    first, successor = FaultPlan(rate=0.5, seed=1, log_path=log), FaultPlan(rate=0.5, seed=1, log_path=log)
    first.start_generation("fn")
    successor.start_generation("fn")
    batch = [{"messageId": str(n)} for n in range(20)]
    assert [first.draw("crash", "fn", b) for b in batch] != [successor.draw("crash", "fn", b) for b in batch]
