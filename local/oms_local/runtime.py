"""A local Lambda runtime: each function runs in worker processes of its own, warm between invocations.

Like Lambda, a worker has the function's environment (from template.yaml, pointed at moto), its
code folder first on sys.path, a fresh interpreter (module-level state survives between
invocations, as in a warm container) and a timeout after which it is killed and replaced.
The handler's stdout and stderr go to .oms/logs/<function>.log. Requests and answers travel as
JSON lines over a pipe pair, apart from the handler's own output.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, LifoQueue
from typing import Any

from oms_local.clock import SHIFT, child_environment, follow_shift

_PR_SET_PDEATHSIG = 1
STOP_GRACE = 3.0  # seconds a worker has to exit after SIGTERM before it is killed


def die_with_parent() -> None:
    """Linux: the child gets SIGTERM when the thread that started it ends (use from the main thread)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class InvocationError(Exception):
    """The function raised, timed out or its worker died; `payload` is what Lambda would report."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload.get("errorMessage", "invocation failed"))
        self.payload = payload


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # the logical id
    function_name: str  # the (local) physical name
    code_uri: Path
    handler: str
    timeout: int
    memory: int
    environment: dict[str, str]
    log_path: Path


def _clock_shift() -> dict[str, str]:
    """The clock offset (make test-timeshift), so a function sees the clock the stack and its tests see."""
    return {k: v for k, v in child_environment().items() if k == SHIFT}


class Worker:
    """One warm 'container' of a function."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = spec.log_path.open("ab")
        env = {
            **spec.environment,
            **_clock_shift(),
            "OMS_RUNTIME_IN": str(to_child_r),
            "OMS_RUNTIME_OUT": str(from_child_w),
            "PYTHONPATH": os.pathsep.join([str(spec.code_uri), os.environ.get("PYTHONPATH", "")]).rstrip(
                os.pathsep
            ),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "oms_local.runtime"],
            env=env,
            cwd=spec.code_uri,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # No PR_SET_PDEATHSIG here: it fires when the *thread* that started the child ends. A worker
            # ends anyway when the stack dies: its request pipe closes and its loop reads end-of-file.
            pass_fds=(to_child_r, from_child_w),
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        try:
            self._read_answer(time.monotonic() + 60)  # the handler module is imported: a cold start
        except InvocationError as failure:
            failure.payload = {
                "errorType": "Runtime.ImportModuleError",
                "errorMessage": f"{spec.name} did not start; see {spec.log_path}:\n{self.log_tail()}",
            }
            raise

    def log_tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.spec.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def invoke(self, event: Any, request_id: str) -> Any:
        request = {"event": event, "requestId": request_id, "deadline": time.time() + self.spec.timeout}
        try:
            os.write(self._to_child, (json.dumps(request) + "\n").encode())
        except OSError:
            self.stop()
            raise InvocationError(
                {"errorType": "Runtime.ExitError", "errorMessage": "worker exited"}
            ) from None
        try:
            answer = self._read_answer(time.monotonic() + self.spec.timeout)
        except OSError:  # its pipes closed under it: the stack stopped the worker
            raise InvocationError(
                {"errorType": "Runtime.ExitError", "errorMessage": "worker stopped"}
            ) from None
        if "error" in answer:
            raise InvocationError(answer["error"])
        return answer["result"]

    def _read_answer(self, deadline: float) -> dict[str, Any]:
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_child], [], [], max(remaining, 0))
            if not ready:
                self.stop()
                raise InvocationError(
                    {
                        "errorType": "Sandbox.Timedout",
                        "errorMessage": f"Task timed out after {self.spec.timeout}s",
                    }
                )
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                self.stop()
                raise InvocationError(
                    {
                        "errorType": "Runtime.ExitError",
                        "errorMessage": f"worker exited ({self.process.poll()})",
                    }
                )
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        answer: dict[str, Any] = json.loads(line)
        return answer

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self.terminate()
        self.reap(time.monotonic() + STOP_GRACE)

    def terminate(self) -> None:
        """SIGTERM, not waited for: a pool's workers are all told at once, then reaped together."""
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.process.terminate()

    def reap(self, deadline: float) -> None:
        """Wait for the worker to exit until `deadline` (monotonic), then kill it; its pipes and log closed."""
        if self.process.poll() is None:
            try:
                self.process.wait(timeout=max(deadline - time.monotonic(), 0))
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for fd in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._log.close()


class FunctionPool:
    """Up to `concurrency` warm workers of one function, started on demand."""

    def __init__(
        self,
        spec: FunctionSpec,
        concurrency: int = 2,
        on_invoke: Callable[[str, float, str | None], None] | None = None,
    ) -> None:
        self.spec = spec
        self._idle: LifoQueue[Worker] = LifoQueue()
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._all: list[Worker] = []
        self._closed = False
        self._on_invoke = on_invoke

    def invoke(self, event: Any) -> Any:
        request_id = str(uuid.uuid4())
        with self._slots:
            worker = self._take()
            started = time.monotonic()
            error: str | None = None
            try:
                return worker.invoke(event, request_id)
            except InvocationError as failure:
                error = f"{failure.payload.get('errorType')}: {failure}"
                raise
            finally:
                if self._on_invoke:
                    self._on_invoke(request_id, time.monotonic() - started, error)
                if worker.alive and not self._closed:
                    self._idle.put(worker)

    def warm(self) -> None:
        """Start a worker now (a cold start ahead of the first event)."""
        self._idle.put(self._take())

    def _take(self) -> Worker:
        while True:
            try:
                worker = self._idle.get_nowait()
            except Empty:
                break
            if worker.alive:
                return worker
        if self._closed:
            raise _shutting_down()
        worker = Worker(self.spec)
        with self._lock:
            closed = self._closed
            if not closed:
                self._all = [w for w in self._all if w.alive] + [worker]
        if closed:  # the pool closed during this worker's cold start: it is not left running
            worker.stop()
            raise _shutting_down()
        return worker

    def terminate(self) -> list[Worker]:
        """Closed: no new worker starts, every worker is sent SIGTERM (not waited for); the workers to reap."""
        with self._lock:
            self._closed = True
            workers = list(self._all)
        for worker in workers:
            worker.terminate()
        return workers

    def kill(self) -> None:
        """SIGKILL every worker, taking no lock (a signal handler's last resort)."""
        self._closed = True
        for worker in list(self._all):
            with contextlib.suppress(OSError):
                worker.process.kill()

    def close(self) -> None:
        deadline = time.monotonic() + STOP_GRACE
        for worker in self.terminate():
            worker.reap(deadline)


def _shutting_down() -> InvocationError:
    return InvocationError({"errorType": "Runtime.Shutdown", "errorMessage": "the local stack is stopping"})


# ---------------------------------------------------------------------------------- the child side


class _Context:
    """The parts of Lambda's context object that handlers and Powertools read."""

    def __init__(self, request_id: str, deadline: float) -> None:
        name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")
        region = os.environ.get("AWS_REGION", "us-east-1")
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:123456789012:function:{name}"
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = f"local/{os.getpid()}"
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.time()) * 1000), 0)


def _serve() -> None:
    requests = os.fdopen(int(os.environ["OMS_RUNTIME_IN"]), "rb")
    module_name, function_name = os.environ["_HANDLER"].rsplit(".", 1)
    from oms_local import faults  # fault mode (oms local --faults): set up before the handler's clients exist

    plan = faults.FaultPlan.from_environment()
    if plan is not None:
        faults.install_in_worker(plan, os.environ.get("AWS_LAMBDA_FUNCTION_NAME", module_name))
    handler = getattr(importlib.import_module(module_name), function_name)
    answers = os.fdopen(int(os.environ["OMS_RUNTIME_OUT"]), "wb", buffering=0)
    answers.write(b'{"ready": true}\n')
    for line in requests:
        request = json.loads(line)
        try:
            if plan is not None:
                faults.before_invocation(plan, request["event"])
            result = handler(request["event"], _Context(request["requestId"], request["deadline"]))
            if plan is not None:
                faults.after_invocation()
            answer: dict[str, Any] = {"result": result}
            payload = json.dumps(answer, default=str)
        except Exception as error:
            traceback.print_exc()
            payload = json.dumps(
                {
                    "error": {
                        "errorType": type(error).__name__,
                        "errorMessage": str(error),
                        "stackTrace": traceback.format_tb(error.__traceback__),
                    }
                }
            )
        sys.stdout.flush()
        sys.stderr.flush()
        answers.write(payload.encode() + b"\n")


if __name__ == "__main__":
    follow_shift()
    _serve()
