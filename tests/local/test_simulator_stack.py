"""The simulator inside the local stack: parameters and secret it overrides, notifications into the
order-notifications queue (moto in process), outputs, and `oms simulate order`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from oms_local.resources import create_resources
from oms_local.simulator import LOCAL_CREDENTIALS, Simulator, SimulatorConfig, contract
from oms_local.simulator.catalogue import builtin_catalogue
from oms_local.stack import LocalStack, Options
from oms_local.template import Template
from oms_tools.cli import main

pytestmark = pytest.mark.skipif(not contract.MODELS_DIR.exists(), reason="sp-api-models not present")


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    config = SimulatorConfig(duplicate_probability=0.0, delay_probability=0.0, seed=5)
    with Simulator(config, catalogue=builtin_catalogue()) as running:
        yield running


def test_functions_are_pointed_at_the_simulator_and_its_notifications_reach_the_queue(simulator, tmp_path):
    from moto import mock_aws

    with mock_aws():
        template = Template()
        resources = create_resources(
            template,
            "oms-test",
            "us-east-1",
            None,
            parameters=simulator.stack_parameters(),
            secret_values={"SpApiSecret": json.dumps(LOCAL_CREDENTIALS)},
        )
        environment = resources.resolver.resolve(template.globals["Environment"]["Variables"])
        ingest = resources.resolver.resolve(template.function("IngestNotificationsFunction").environment)
        assert (ingest["SPAPI_APPLICATION_ID"], ingest["SPAPI_SUBSCRIPTION_IDS"]) == (
            simulator.application_id,
            simulator.subscription_id,
        ), "the ingest function accepts the simulator's notifications"
        assert environment["SPAPI_ENDPOINT"] == simulator.url
        assert environment["LWA_TOKEN_URL"] == simulator.url + "/auth/o2/token"
        secret = resources.client("secretsmanager").get_secret_value(SecretId=environment["SPAPI_SECRET_ARN"])
        assert json.loads(secret["SecretString"])["refreshTokens"] == {"na": "local-refresh-token"}

        stack = LocalStack(Options(state_dir=tmp_path, quiet=True))
        stack.resources, stack.simulator, stack._sqs = resources, simulator, resources.client("sqs")
        simulator.notify = stack._notify
        order_id = simulator.marketplace.place_order([("85123A", 1)], prime=True)
        queue = resources.refs["OrderNotificationsQueue"]
        messages = resources.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
        (document,) = [json.loads(m["Body"]) for m in messages]
        contract.validate_notification(document)
        assert document["Payload"]["OrderChangeNotification"]["AmazonOrderId"] == order_id
        metadata = document["NotificationMetadata"]
        assert (metadata["ApplicationId"], metadata["SubscriptionId"]) == (
            simulator.application_id,
            simulator.subscription_id,
        )

        outputs = stack._outputs("http://127.0.0.1:3000", "http://127.0.0.1:3001")
        assert outputs["SpApiEndpoint"] == simulator.url
        assert outputs["LwaTokenUrl"] == simulator.lwa_token_url
        assert (outputs["SellerId"], outputs["MarketplaceId"]) == ("A1OMSLOCALSELLER", "ATVPDKIKX0DER")
        assert outputs["SpApiApplicationId"] == simulator.application_id

        with pytest.raises(ValueError, match="no parameter SpApiEndpointTypo"):
            create_resources(template, "oms-test2", "us-east-1", None, parameters={"SpApiEndpointTypo": "x"})


def test_oms_simulate_order_places_one_order_and_prints_its_id(simulator, tmp_path: Path):
    (tmp_path / "outputs.json").write_text(json.dumps(simulator.outputs()))
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["simulate", "order", "--sku", "SIM-1", "--quantity", "3", "--afn", "--prime",
         "--ship-by", "2030-01-02T18:00:00Z", "--state-dir", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    order_id = result.output.strip()
    order = simulator.marketplace.get_order(order_id)["order"]
    assert order["fulfillment"]["fulfilledBy"] == "AMAZON"
    assert order["programs"] == ["PRIME"]
    assert order["orderItems"][0]["product"]["sellerSku"] == "SIM-1"
    assert order["orderItems"][0]["quantityOrdered"] == 3
    assert order["fulfillment"]["shipByWindow"]["latestDateTime"] == "2030-01-02T18:00:00Z"
    bad = runner.invoke(main, ["simulate", "order", "--sku", "X", "--quantity", "1", "--ship-by", "soon",
                               "--state-dir", str(tmp_path)])  # fmt: skip
    assert bad.exit_code != 0 and "ISO-8601" in bad.output
    missing = runner.invoke(
        main, ["simulate", "order", "--sku", "X", "--quantity", "1", "--state-dir", str(tmp_path / "no")]
    )
    assert missing.exit_code != 0 and "no local stack runs there" in missing.output
