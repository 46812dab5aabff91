"""Only problems become CloudWatch metrics (each distinct one is billed a month); routine counts are logged."""

from __future__ import annotations

import json
from typing import Any

import pytest

from oms.observability import metrics


def _lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def _metric_names(lines: list[dict[str, Any]]) -> set[str]:
    return {
        metric["Name"]
        for line in lines
        if "_aws" in line
        for directive in line["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    }


def _counts(caplog: pytest.LogCaptureFixture) -> list[dict[str, float]]:
    return [record.counts for record in caplog.records if record.getMessage() == "counts"]  # type: ignore[attr-defined]


def test_a_handler_publishes_only_the_problems_that_happened_and_logs_its_routine_counts(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: object) -> str:
        metrics.add_metric(name="OrderChangesApplied", unit="Count", value=1)
        metrics.add_metric(name="OrderChangesApplied", unit="Count", value=1)
        metrics.add_metric(name="ProductsRead", unit="Count", value=3)
        metrics.add_metric(name="ProductReadsRefused", unit="Count", value=2)
        metrics.add_metric(name="WebhookFailures", unit="Count", value=0)  # nothing failed: no metric
        return "done"

    assert handler({}, None) == "done"
    lines = _lines(capfd.readouterr().out)
    assert _metric_names(lines) == {"ProductReadsRefused"}
    emf = next(line for line in lines if "_aws" in line)
    assert emf["ProductReadsRefused"] == [2.0]
    assert _counts(caplog) == [{"OrderChangesApplied": 2, "ProductsRead": 3}]


def test_counts_are_per_invocation_even_when_the_handler_fails(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: object) -> None:
        metrics.add_metric(name="NotificationsReceived", unit="Count", value=1)
        if event.get("fail"):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        handler({"fail": True}, None)
    handler({}, None)
    lines = _lines(capfd.readouterr().out)
    assert _counts(caplog) == [
        {"NotificationsReceived": 1},
        {"NotificationsReceived": 1},
    ]
    assert _metric_names(lines) == set()
