"""Logger, Metrics and Tracer: one instance each, shared by every module of a function."""

from __future__ import annotations

import functools
import re
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


# A name that says something went wrong: what someone alarms on or looks at.
PROBLEM = re.compile(r"Refused|Failed|Failures|Bad|Flagged")


class ProblemMetrics(Metrics):
    """Only problems become CloudWatch metrics: each distinct metric is billed $0.30 a month whether
    anyone reads it or not (decision 81), and nothing in the stack alarms on or graphs a routine count.
    A problem (a name PROBLEM matches) is published when it happened (a value above zero), so a healthy
    month has no custom metric at all. Routine counts (orders applied, products read, webhooks attempted)
    go into one log line per invocation, `counts`, read with Logs Insights at no charge per name."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.counts: dict[str, float] = {}

    def add_metric(self, name: str, unit: Any, value: float, resolution: Any = 60) -> None:
        if PROBLEM.search(name) is None:
            self.counts[name] = self.counts.get(name, 0) + value
        elif value > 0:
            super().add_metric(name=name, unit=unit, value=value, resolution=resolution)

    def log_metrics(  # type: ignore[override]
        self, lambda_handler: Callable[..., Any] | None = None, **kwargs: Any
    ) -> Callable[..., Any]:
        if lambda_handler is None:
            return functools.partial(self.log_metrics, **kwargs)
        handler = lambda_handler

        @functools.wraps(handler)
        def counted(*args: Any, **kw: Any) -> Any:
            try:
                return handler(*args, **kw)
            finally:
                self.log_counts()

        return super().log_metrics(lambda_handler=counted, **kwargs)

    def log_counts(self) -> None:
        """The routine counts of this invocation, in one log line (none when nothing was counted)."""
        if self.counts:
            logger.info("counts", extra={"counts": dict(self.counts)})
            self.counts.clear()


# Service name and namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE.
logger = Logger()
metrics = ProblemMetrics()
tracer: Tracer = Untraced() if Tracer._is_tracer_disabled() else Tracer()
