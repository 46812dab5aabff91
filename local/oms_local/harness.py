"""A local stack in its own process, as a seller runs it: for end-to-end tests and benchmarks.

`start_stack` runs `oms local` (by default with --no-simulator, so the caller controls every order)
and returns once its outputs.json has appeared; `stop` sends Ctrl-C and waits, as a seller stops it.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oms_local.clock import child_environment
from oms_local.ports import free_port
from oms_local.template import ROOT


class StackDidNotStart(RuntimeError):
    """`oms local` exited or timed out before outputs.json appeared; the message ends with its output."""


def tail(path: Path, lines: int = 40) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return "(no output)"


@dataclass
class StackProcess:
    process: subprocess.Popen[bytes]
    port: int
    state_dir: Path
    console_log: Path  # what `oms local` printed
    outputs: dict[str, Any]

    def stop(self, timeout: float = 20) -> bool:
        """Ctrl-C; True when the stack exited within `timeout` (else it is killed)."""
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return False
        return True


def start_stack(
    state_dir: Path,
    *,
    port: int | None = None,
    args: Sequence[str] = ("--no-simulator",),
    env: dict[str, str] | None = None,
    timeout: float = 90,
    program: Sequence[str] = (sys.executable, "-m", "oms_local"),
) -> StackProcess:
    """Start the local stack (`program`: the emulator's own command, or the seller's `oms local`).

    Without a `port`, a free one is picked; the stack binds it seconds later, so another process (a second
    pytest-xdist worker, a benchmark) may have taken it meanwhile: then the stack starts again on another."""
    for attempt in range(PORT_ATTEMPTS):
        try:
            return _start_stack(state_dir, port or free_port(), args, env, timeout, program)
        except _PortTaken:
            if port or attempt == PORT_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


PORT_ATTEMPTS = 3


class _PortTaken(StackDidNotStart):
    """The stack's port was taken before it could listen on it."""


def _start_stack(
    state_dir: Path,
    port: int,
    args: Sequence[str],
    env: dict[str, str] | None,
    timeout: float,
    program: Sequence[str],
) -> StackProcess:
    state_dir.mkdir(parents=True, exist_ok=True)
    console_log = state_dir.parent / f"{state_dir.name}-console.log"
    command = [
        *program,
        *args,
        "--port",
        str(port),
        "--state-dir",
        str(state_dir),
    ]
    with console_log.open("wb") as console:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and stack
            command,
            stdout=console,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
            env=child_environment(env),
        )
    outputs_path = state_dir / "outputs.json"
    deadline = time.monotonic() + timeout
    while not outputs_path.exists():
        if process.poll() is not None:
            output = tail(console_log)
            taken = _PortTaken if "Address already in use" in output else StackDidNotStart
            raise taken(f"`oms local` exited with {process.returncode}:\n{output}")
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise StackDidNotStart(
                f"{outputs_path} did not appear within {timeout:.0f}s:\n{tail(console_log)}"
            )
        time.sleep(0.2)
    outputs = json.loads(outputs_path.read_text())  # written atomically by the stack
    return StackProcess(process, port, state_dir, console_log, outputs)


@contextlib.contextmanager
def running_stack(state_dir: Path, **options: Any) -> Iterator[StackProcess]:
    stack = start_stack(state_dir, **options)
    try:
        yield stack
    finally:
        stack.stop()


def wait_for(condition: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
    """Poll until `condition()` is truthy; returns its last value (falsy after the timeout). Half a second
    between polls by default: a poll is a request or two to the local stack, and a second's interval made
    every wait half a second longer than it needed on average."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def aws_client(outputs: dict[str, Any], service: str) -> Any:
    """A boto3 client of the stack's local AWS (moto), with the credentials it accepts."""
    import boto3

    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=outputs["AwsEndpointUrl"],
        region_name=outputs["Region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - moto
    )


def queue_depth(sqs: Any, url: str) -> int:
    """Messages in a queue: visible, in flight and delayed."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())
