"""Fault mode of the local stack (`oms local --faults 0.15 --faults-seed 7`): AWS and Amazon failing as they
do at peak, so that a run shows what the product survives. Local only: nothing here reaches the layer.

Three places fail, each at the plan's rate:

- DynamoDB, in the worker processes that run the handlers (`install_in_worker`, before the handler is
  imported): every DynamoDB call a handler's boto3 client makes may throttle or fail. Some of these the
  SDK absorbs as it would in Lambda (a first attempt throttled, or applied with its answer lost and sent
  again by the SDK's own retry: a second application, which a conditional write refuses), the others
  reach the handler as the SDK's last error (retries exhausted): throttled or InternalServerError, before
  or AFTER the write applied (the ambiguous case).
- the simulated SP-API (`SpApiChaos`, used by simulator/server.py): an operation answers 429 (Amazon's
  headers), 500 or 503, or drops the connection without an answer (a timeout, as the client sees it),
  before acting or after acting (the request applied, the answer lost).
- the invocation itself (`install_in_worker` too): a batch from SQS or the table's stream dies part way
  (the worker process exits after its k-th AWS call, as a Lambda timeout or an out-of-memory kill would),
  so the queue redelivers it or the stream retries it.

Reproducible: a decision is a hash of the seed, the place, the request's content and how many times that
same request was seen before (so the same request meets the same fate in a rerun; a retry of it is a new
draw). What was injected is appended as JSON lines to the file OMS_LOCAL_FAULTS_LOG names, one line per
fault, so a test or bench counts them by kind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RATE_ENV = "OMS_LOCAL_FAULTS"
SEED_ENV = "OMS_LOCAL_FAULTS_SEED"
LOG_ENV = "OMS_LOCAL_FAULTS_LOG"

DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})
CRASH_EXIT_CODE = 137  # what Lambda reports of a process killed for running out of memory


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass
class FaultPlan:
    rate: float
    seed: int = 0
    log_path: Path | None = None
    _seen: dict[tuple[str, ...], int] = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    generation: str = field(default="", compare=False)

    def start_generation(self, name: str) -> None:
        """Number this process among those that ran `name` in this stack (kept next to the log, so it survives
        the worker's death): the first worker of a function is 0, its replacement after a crash 1, and so on."""
        if self.log_path is None:
            return
        folder = self.log_path.parent / "fault-generations"
        folder.mkdir(exist_ok=True)
        fd = os.open(
            folder / hashlib.sha256(name.encode()).hexdigest()[:16], os.O_WRONLY | os.O_APPEND | os.O_CREAT
        )
        try:
            os.write(fd, b".")
            self.generation = f"{name}#{os.fstat(fd).st_size}"
        finally:
            os.close(fd)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> FaultPlan | None:
        """The plan the stack's environment sets; None when fault mode is off."""
        environ = os.environ if environ is None else environ
        rate = float(environ.get(RATE_ENV) or 0)
        if rate <= 0:
            return None
        if rate >= 1:
            raise ValueError(f"{RATE_ENV} is a share of calls, above 0 and below 1 (got {rate})")
        log = environ.get(LOG_ENV)
        return cls(rate=rate, seed=int(environ.get(SEED_ENV) or 0), log_path=Path(log) if log else None)

    def environment(self) -> dict[str, str]:
        """The variables that hand this plan to another process."""
        return {
            RATE_ENV: str(self.rate),
            SEED_ENV: str(self.seed),
            **({LOG_ENV: str(self.log_path)} if self.log_path else {}),
        }

    def draw(self, place: str, operation: str, request: Any) -> float:
        """A number in [0, 1): the seed, the place, the request, how often this same request came before in
        this process, and the process's generation (a worker that died is replaced by the next one: its
        successor draws anew rather than meeting the same faults in the same order forever)."""
        digest = _digest(request)
        with self._lock:
            nth = self._seen.get((place, operation, digest), 0)
            self._seen[(place, operation, digest)] = nth + 1
        key = f"{self.seed}|{self.generation}|{place}|{operation}|{digest}|{nth}"
        hashed = hashlib.sha256(key.encode()).digest()
        return int.from_bytes(hashed[:8], "big") / 2**64

    def record(self, place: str, kind: str, operation: str, **detail: Any) -> None:
        if self.log_path is None:
            return
        line = json.dumps({"place": place, "kind": kind, "operation": operation, "at": time.time(), **detail})
        # one short append per fault (O_APPEND): processes writing at once do not interleave their lines
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)


def read_log(path: Path) -> list[dict[str, Any]]:
    """The faults a run injected (the lines `FaultPlan.record` wrote)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def count_by_kind(path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in read_log(path):
        name = f"{entry['place']}: {entry['kind']}"
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


# ---------------------------------------------------------------------------------- DynamoDB kinds


def dynamodb_kind(plan: FaultPlan, operation: str, params: Any) -> str | None:
    """The fate of one DynamoDB call; None: it goes through untouched.

    Of the faulty calls: 45% throttled once and retried by the SDK (only slower), 25% of writes applied with
    the answer lost and sent again by the SDK (reads: throttled once), 15% throttled past the SDK's retries,
    8% InternalServerError before applying, 7% of writes InternalServerError after applying (reads: before).
    """
    share = plan.draw("dynamodb", operation, params) / plan.rate
    if share >= 1:
        return None
    write = operation in DYNAMODB_WRITES
    if share < 0.45:
        return "throttled, retried by the SDK"
    if share < 0.70:
        return "applied, answer lost, sent again by the SDK" if write else "throttled, retried by the SDK"
    if share < 0.85:
        return "throttled past the SDK's retries"
    if share < 0.93 or not write:
        return "InternalServerError before applying"
    return "InternalServerError after applying"


def _client_error(operation: str, code: str, status: int, message: str) -> Exception:
    from botocore.exceptions import ClientError

    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": 9},  # type: ignore[typeddict-item]
        },
        operation,
    )


class _Invocation(threading.local):
    crash_after: int | None = None  # die after this many more AWS calls in this invocation
    function: str = ""


_invocation = _Invocation()


def install_in_worker(plan: FaultPlan, function: str) -> None:
    """Make this worker's boto3 clients meet DynamoDB faults and its batches die part way."""
    from botocore.client import BaseClient

    original: Callable[..., Any] = BaseClient._make_api_call  # type: ignore[attr-defined]
    _invocation.function = function
    plan.start_generation(function)

    def faulty(self: Any, operation: str, params: Any) -> Any:
        service = self.meta.service_model.service_name
        kind = dynamodb_kind(plan, operation, params) if service == "dynamodb" else None
        if kind is not None:
            plan.record("dynamodb", kind, operation, function=function)
        if kind == "throttled past the SDK's retries":
            code = (
                "ThrottlingException"
                if operation.startswith("Transact")
                else ("ProvisionedThroughputExceededException")
            )
            raise _client_error(
                operation, code, 400, "The level of configured provisioned throughput was exceeded."
            )
        if kind == "InternalServerError before applying":
            raise _client_error(operation, "InternalServerError", 500, "Internal server error")
        if kind == "throttled, retried by the SDK":
            time.sleep(0.05)  # the SDK's first back-off
        answer = original(self, operation, params)
        if kind == "applied, answer lost, sent again by the SDK" and operation != "TransactWriteItems":
            # the SDK sends the same request again; DynamoDB applies it again (a TransactWriteItems carries
            # the SDK's ClientRequestToken, which makes its retry a no-op: nothing to play there)
            answer = original(self, operation, params)
        if kind == "InternalServerError after applying":
            _count_towards_crash()
            raise _client_error(operation, "InternalServerError", 500, "Internal server error")
        _count_towards_crash()
        return answer

    BaseClient._make_api_call = faulty  # type: ignore[attr-defined]


def _count_towards_crash() -> None:
    if _invocation.crash_after is None:
        return
    _invocation.crash_after -= 1
    if _invocation.crash_after <= 0:
        _die()


def _die() -> None:
    with contextlib.suppress(Exception):
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(CRASH_EXIT_CODE)


def batch_source(event: Any) -> str | None:
    """ "sqs" or "stream" for a batch event; None for anything else (API requests, schedules)."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or not records or not isinstance(records[0], dict):
        return None
    source = records[0].get("eventSource")
    return {"aws:sqs": "sqs", "aws:dynamodb": "stream"}.get(str(source))


def before_invocation(plan: FaultPlan, event: Any) -> None:
    """Decide whether this batch dies part way, and after how many AWS calls."""
    _invocation.crash_after = None
    source = batch_source(event)
    if source is None:
        return
    ids = [r.get("messageId") or r.get("eventID") for r in event["Records"]]
    u = plan.draw("crash", _invocation.function, ids)
    if u >= plan.rate:
        return
    calls = 1 + int(u / plan.rate * 12)  # after 1 to 12 AWS calls: early in the batch, or well into it
    _invocation.crash_after = calls
    plan.record(
        "invocation",
        f"{source} batch dies part way",
        _invocation.function,
        records=len(ids),
        afterCalls=calls,
    )


def after_invocation() -> None:
    """The handler returned before its k-th call: it dies now, its answer unsent (the whole batch again)."""
    if _invocation.crash_after is not None:
        _die()


# ---------------------------------------------------------------------------------- SP-API kinds

TIMEOUT = "timeout"  # the simulator drops the connection without an answer


@dataclass(frozen=True)
class SpApiFault:
    kind: str
    status: int  # 429, 500, 503, or 0 for a dropped connection
    after_acting: bool


def sp_api_fault(plan: FaultPlan, operation: str, request: Any) -> SpApiFault | None:
    """The fate of one SP-API call; None: Amazon answers normally.

    Of the faulty calls: 40% 429, 15% 500/503 before acting, 10% a timeout before acting, 20% 500/503
    after acting, 15% a timeout after acting (the request applied, the answer lost)."""
    u = plan.draw("sp-api", operation, request)
    share = u / plan.rate
    if share >= 1:
        return None
    status = 500 if int(u * 1e6) % 2 else 503
    if share < 0.40:
        return SpApiFault("429 QuotaExceeded", 429, False)
    if share < 0.55:
        return SpApiFault(f"{status} before acting", status, False)
    if share < 0.65:
        return SpApiFault("timeout before acting", 0, False)
    if share < 0.85:
        return SpApiFault(f"{status} after acting", status, True)
    return SpApiFault("timeout after acting", 0, True)
