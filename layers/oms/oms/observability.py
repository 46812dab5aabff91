"""Logger, Metrics and Tracer: one instance each, shared by every module of a function."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

# A run that counted nothing (an empty schedule run, a health check) is normal, not worth a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")


class Untraced(Tracer):
    """A Tracer where tracing is off (POWERTOOLS_TRACE_DISABLED, or outside Lambda): Powertools' own
    disabled Tracer still imports and configures the X-Ray SDK, about 85 ms of a cold start
    (bench/cold_start.py); this one decorates nothing. Only the decorators the functions use exist."""

    def __init__(self) -> None:  # no super().__init__(): it would load the X-Ray SDK
        self.disabled = True

    def capture_lambda_handler(
        self,
        lambda_handler: Callable[..., Any] | None = None,
        capture_response: bool | None = None,
        capture_error: bool | None = None,
    ) -> Callable[..., Any]:
        return lambda_handler if lambda_handler is not None else _unchanged

    def capture_method(  # type: ignore[override]
        self,
        method: Callable[..., Any] | None = None,
        capture_response: bool | None = None,
        capture_error: bool | None = None,
    ) -> Callable[..., Any]:
        return method if method is not None else _unchanged


def _unchanged(function: Callable[..., Any]) -> Callable[..., Any]:
    return function


# Service name and namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE.
logger = Logger()
metrics = Metrics()
tracer: Tracer = Untraced() if Tracer._is_tracer_disabled() else Tracer()
