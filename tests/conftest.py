"""Shared fixtures: moto in process with the stack's resources created from template.yaml."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import time_machine

# Powertools reads these when oms.observability is first imported, which may be at collection time.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "AmazonSellerOmsTests")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from oms_local import moto_fast_tx  # the same moto the local stack runs

moto_fast_tx.install()

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
# Whose notifications the test stacks accept (template parameters SellerId, SpApiApplicationId): the ones
# in events/ and tests/builders.py, as in Amazon's examples.
SELLER_ID = "A3TH9S8BH6GOGM"
APPLICATION_ID = "app-id-d0e9e693-c3ad-4373-979f-ed4ec98dd746"
STACK_PARAMETERS = {"SellerId": SELLER_ID, "SpApiApplicationId": APPLICATION_ID}


# make test runs the suite in pytest-xdist workers, a whole module to a worker, handed out in collection order
# (--dist loadfile --no-loadscope-reorder): the folders whose modules take longest (a local stack each, a
# browser) go first, so the run does not end with one worker alone on a long module.
_LONGEST_FIRST = ("browser", "e2e", "integration", "local")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        folder = (
            item.path.relative_to(ROOT / "tests").parts[0] if item.path.is_relative_to(ROOT / "tests") else ""
        )
        return _LONGEST_FIRST.index(folder) if folder in _LONGEST_FIRST else len(_LONGEST_FIRST)

    items.sort(key=rank)  # stable: within a folder, the order pytest collected


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach AWS: fake credentials, a fixed region, no local AWS config."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "AmazonSellerOmsTests",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


# The instant every unit and integration test starts at (a Tuesday, 10:00 in New York, two days before
# Thanksgiving): tests never depend on the day they run. The clock ticks from there, so waits still
# wait; a test that needs another instant travels there itself. End-to-end and browser tests drive a
# stack in other processes, which keep the machine's clock: they derive every date from now.
TEST_CLOCK = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
_OWN_CLOCK = ("e2e", "browser")


@pytest.fixture(autouse=True)
def _fixed_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    if any(part in _OWN_CLOCK for part in request.node.path.parts):
        yield
        return
    with time_machine.travel(TEST_CLOCK, tick=True):
        yield


def load_event(relative: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / relative).read_text())
    return event


@dataclass
class LambdaContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class Stack:
    """The template's resources in moto, and the environment the template gives every function."""

    resources: Any
    environment: dict[str, str]
    monkeypatch: pytest.MonkeyPatch

    def client(self, service: str) -> Any:
        return self.resources.client(service)

    @property
    def table_name(self) -> str:
        return self.environment["TABLE_NAME"]

    def handler(self, folder: str, environment: Mapping[str, str | None] | None = None) -> ModuleType:
        """Import the function's app.py afresh, as a cold start would, with the variables the template gives
        that function besides the Globals' (which the fixture set, and a test may have changed), changed
        by `environment` (None: unset)."""
        from oms.settings import forget_settings
        from oms_local.template import Template

        function = Template().function(folder)
        resolved = self.resources.resolver.resolve(function.environment).items()
        own = {k: str(v) for k, v in resolved if k not in self.environment}  # the Globals' are set already
        for key, value in {**own, **(environment or {})}.items():
            if value is None:
                self.monkeypatch.delenv(key, raising=False)
            else:
                self.monkeypatch.setenv(key, value)
        forget_settings()
        path = function.code_uri / "app.py"
        name = f"handler_{folder}_{uuid.uuid4().hex}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module


def _reset_warm_state() -> None:
    from aws_lambda_powertools.utilities import parameters

    from oms.settings import forget_settings
    from oms.store import default
    from oms.store.documents import default_documents
    from oms.warehouse.settings import ShippingSettingsStore

    forget_settings()
    ShippingSettingsStore.forget()  # each test's table starts with the default shipping setup
    default.default_table.cache_clear()
    default.default_buyer_table.cache_clear()
    default_documents.cache_clear()
    default._page_tokens.cache_clear()
    parameters.clear_caches()


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    from moto import mock_aws

    from oms_local.resources import create_resources
    from oms_local.template import Template

    with mock_aws():
        template = Template()
        resources = create_resources(template, "oms-test", "us-east-1", None, parameters=STACK_PARAMETERS)
        environment = {
            k: str(v)
            for k, v in resources.resolver.resolve(template.globals["Environment"]["Variables"]).items()
        }
        for key, value in environment.items():
            monkeypatch.setenv(key, value)
        _reset_warm_state()
        yield Stack(resources, environment, monkeypatch)
        _reset_warm_state()


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture(scope="session")
def moto_server_url() -> Iterator[str]:
    """moto as the local stack runs it (a server applying requests one at a time), for concurrency tests."""
    from oms_local.moto_process import running

    with running() as url:
        yield url


@pytest.fixture
def served_stack(moto_server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """The template's resources in a moto server (fresh names per test), the code pointed at it."""
    from oms_local.resources import create_resources
    from oms_local.template import Template

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server_url)
    template = Template()
    resources = create_resources(
        template, f"t{uuid.uuid4().hex[:8]}", "us-east-1", moto_server_url, parameters=STACK_PARAMETERS
    )
    environment = {
        k: str(v) for k, v in resources.resolver.resolve(template.globals["Environment"]["Variables"]).items()
    }
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    _reset_warm_state()
    yield Stack(resources, environment, monkeypatch)
    _reset_warm_state()
