"""Where tracing is off the functions' tracer loads no X-Ray SDK and decorates nothing; inside Lambda with
tracing on it is Powertools' Tracer (oms.observability)."""

from __future__ import annotations

import os
import subprocess
import sys

_PROBE = (
    "import sys\n"
    "from oms.observability import tracer, Untraced\n"
    "def handler(event, context): return event\n"
    "same = tracer.capture_lambda_handler(capture_response=False)(handler) is handler\n"
    "print(type(tracer) is Untraced, same, 'aws_xray_sdk.core' in sys.modules)\n"
)


def _probe(**env: str) -> str:
    environment = {
        k: v for k, v in os.environ.items() if k not in ("POWERTOOLS_TRACE_DISABLED", "LAMBDA_TASK_ROOT")
    }
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], env={**environment, **env}, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_tracing_off_loads_no_xray_sdk_and_leaves_handlers_as_they_are() -> None:
    assert _probe(POWERTOOLS_TRACE_DISABLED="true", LAMBDA_TASK_ROOT="/var/task") == "True True False"
    assert _probe() == "True True False"  # outside Lambda Powertools would not trace either


def test_inside_lambda_with_tracing_on_it_is_powertools_tracer() -> None:
    assert _probe(POWERTOOLS_TRACE_DISABLED="false", LAMBDA_TASK_ROOT="/var/task") == "False False True"
