"""The local marketplace in process, wired to a moto `stack` as the local stack wires it, and the table's
stream delivered to a function the way the local stack does (its FilterCriteria, retries).

Test modules import the fixtures `amazon_fixture` and `simulator_fixture` (named `amazon`, `simulator`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from oms.amazon import client as client_module
from oms.amazon.client import Credentials, SpApiClient
from oms.amazon.rate_budget import RateBudget
from oms.store.default import default_table
from oms_local import triggers
from oms_local.simulator import LOCAL_CREDENTIALS, Simulator, SimulatorConfig
from oms_local.simulator.catalogue import builtin_catalogue
from oms_local.simulator.marketplace import ApiError
from oms_local.template import Template
from oms_local.triggers import StreamPoller, filter_patterns
from tests.conftest import LambdaContext, Stack

SELLER = "A1OMSLOCALSELLER"
MARKETPLACE = "ATVPDKIKX0DER"
STREAMS_ENDPOINT = "https://streams.dynamodb.us-east-1.amazonaws.com"


@pytest.fixture(name="simulator")
def simulator_fixture() -> Iterator[Simulator]:
    config = SimulatorConfig(duplicate_probability=0.0, delay_probability=0.0, seed=11)
    with Simulator(config, catalogue=builtin_catalogue()) as running:
        yield running


@pytest.fixture(name="amazon")
def amazon_fixture(stack: Stack, simulator: Simulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    """The stack's functions pointed at the simulator (endpoint, LWA, seller id, credentials)."""
    return point_at(stack, simulator, monkeypatch)


def point_at(stack: Stack, simulator: Simulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    """Point a stack (in process or on a moto server) at the simulator, as the local stack does."""
    from aws_lambda_powertools.utilities import parameters

    from oms.settings import forget_settings

    monkeypatch.setenv("SPAPI_ENDPOINT", simulator.url)
    monkeypatch.setenv("LWA_TOKEN_URL", simulator.lwa_token_url)
    # The simulator's seller and application: the stack accepts its notifications, as the local stack does.
    pointed = {
        "SELLER_ID": simulator.seller_id,
        "SPAPI_APPLICATION_ID": simulator.application_id,
        "SPAPI_SUBSCRIPTION_IDS": simulator.subscription_id,
    }
    stack.environment.update(pointed)  # stack.handler() keeps these over the template's
    for name, value in pointed.items():
        monkeypatch.setenv(name, value)
    stack.client("secretsmanager").put_secret_value(
        SecretId=stack.environment["SPAPI_SECRET_ARN"], SecretString=json.dumps(LOCAL_CREDENTIALS)
    )
    forget_settings()
    parameters.clear_caches()
    monkeypatch.setattr(client_module, "_token_cache", client_module._TokenCache())  # a new LWA each test
    monkeypatch.setattr(triggers, "LOCAL_RETRY_DELAY_SECONDS", 0)
    return simulator


def fast_client(simulator: Simulator) -> SpApiClient:
    """The product's client against the simulator, with the shared budget, but no back-off sleeps."""
    return SpApiClient(
        credentials=lambda: Credentials(**_credentials()),
        budget=RateBudget(default_table()),
        endpoint_override=simulator.url,
        lwa_url=simulator.lwa_token_url,
        sleep=lambda seconds: None,
    )


def _credentials() -> dict[str, Any]:
    return {
        "client_id": LOCAL_CREDENTIALS["clientId"],
        "client_secret": LOCAL_CREDENTIALS["clientSecret"],
        "refresh_tokens": LOCAL_CREDENTIALS["refreshTokens"],
    }


def listing_quantity(simulator: Simulator, sku: str) -> int | None:
    """What Amazon shows as the SKU's merchant-fulfilled quantity (getListingsItem, as a buyer's page would)."""
    try:
        item = simulator.marketplace.get_listing(SELLER, sku, ["fulfillmentAvailability"])
    except ApiError as error:
        if error.status == 404:  # not listed; any other error is the test's to see
            return None
        raise
    return next(
        (a["quantity"] for a in item["fulfillmentAvailability"] if a["fulfillmentChannelCode"] == "DEFAULT"),
        None,
    )


def calls(simulator: Simulator, operation: str, field: str = "requests") -> int:
    return int(simulator.server.stats[operation].as_dict()[field])


def inject_fault(simulator: Simulator, operation: str, status: int, count: int) -> None:
    status_code, answer = simulator.server.control(
        "POST", "/_simulator/faults", {"operation": operation, "status": status, "count": count}
    )
    assert status_code == 200, answer


class TableStream:
    """The table's stream delivered to one function as the local stack delivers it."""

    def __init__(self, stack: Stack, folder: str, handler: Callable[[dict, Any], Any]) -> None:
        function = Template().function(folder)
        (trigger,) = [t for t in function.triggers if t.type == "DynamoDB"]
        props = trigger.properties
        self.batches: list[dict[str, Any]] = []
        self.answers: list[Any] = []
        self._handler = handler
        self.poller = StreamPoller(
            function=function.logical_id,
            stream_arn=stack.resources.attributes[("Table", "StreamArn")],
            batch_size=int(props["BatchSize"]),
            max_retries=int(props["MaximumRetryAttempts"]),
            report_failures="ReportBatchItemFailures" in props["FunctionResponseTypes"],
            on_failure_url=None,
            starting_position=props["StartingPosition"],
            region="us-east-1",
            # moto in process answers streams only at the regional endpoint; botocore now picks an
            # account-based one from the StreamArn, so name the regional one.
            streams=boto3.client("dynamodbstreams", region_name="us-east-1", endpoint_url=STREAMS_ENDPOINT),
            sqs=stack.client("sqs"),
            invoke=self._invoke,
            say=print,
            patterns=filter_patterns(props),
        )

    def _invoke(self, function: str, event: dict[str, Any]) -> Any:
        self.batches.append(event)
        answer = self._handler(event, LambdaContext())
        self.answers.append(answer)
        return answer

    def deliver(self) -> None:
        """Everything committed so far, in one batch (retried as the trigger says until it succeeds)."""
        started = time.monotonic()
        self.poller.tick()
        assert time.monotonic() - started < 60
