"""What the end-to-end modules share: a local stack started as a seller starts it (and stopped with Ctrl-C,
checking nothing is left behind), the seller's HTTP client, and the `oms` CLI."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from oms_local import harness
from oms_local.harness import wait_for

__all__ = ["Api", "RunningStack", "oms", "start_stack", "wait_for"]

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120  # two pytest-xdist workers may start stacks side by side on 2 cores
STOP_TIMEOUT = 10
HTTP_TIMEOUT = 30


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, start time) of a process from /proc/<pid>/stat; None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the command name may hold spaces and parentheses
    return fields[0], int(fields[1]), int(fields[19])


def _descendants(root: int) -> set[tuple[int, int]]:
    """Every process below `root`, as (pid, start time) so a recycled pid is not mistaken for it."""
    parents: dict[int, list[tuple[int, int]]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            parents.setdefault(stat[1], []).append((int(entry.name), stat[2]))
    found: set[tuple[int, int]] = set()
    todo = [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child[0])
    return found


def _alive(process: tuple[int, int]) -> bool:
    stat = _stat(process[0])
    return stat is not None and stat[2] == process[1] and stat[0] != "Z"


def _command_line(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    return "?"


class RunningStack(harness.StackProcess):
    def stop(self) -> None:  # type: ignore[override]
        """Ctrl-C, as the seller stops it: the stack exits in time and leaves no process behind."""
        can_see_children = Path("/proc/self/stat").exists()  # Linux; psutil is not a dependency
        children = _descendants(self.process.pid) if can_see_children else set()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            for child in children:
                with contextlib.suppress(OSError):
                    os.kill(child[0], signal.SIGKILL)
            pytest.fail(
                f"`oms local` did not exit within {STOP_TIMEOUT}s of SIGINT:\n{harness.tail(self.console_log)}"
            )
        deadline = time.monotonic() + 5  # an orphan that is about to die is not a leak
        while any(_alive(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        leftovers = {pid: _command_line(pid) for pid, started in sorted(children) if _alive((pid, started))}
        for pid in leftovers:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        assert not leftovers, f"processes left behind after `oms local` exited: {leftovers}"


def start_stack(state_dir: Path, port: int | None = None) -> RunningStack:
    """`oms local --no-simulator`; returns once <state dir>/outputs.json has appeared."""
    try:
        started = harness.start_stack(state_dir, port=port, timeout=START_TIMEOUT)
    except harness.StackDidNotStart as failure:
        pytest.fail(str(failure))
    return RunningStack(**vars(started))


_OWN_TOKEN = object()


class Api:
    """The seller's HTTP client: the stack's token unless a test says otherwise."""

    def __init__(self, outputs: dict[str, Any]) -> None:
        self.base_url = outputs["ApiUrl"]
        self.token = outputs["ApiToken"]
        self.session = requests.Session()
        self.session.trust_env = False  # a proxy from the environment must not carry loopback calls

    def request(self, method: str, path: str, *, token: Any = _OWN_TOKEN, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        token = self.token if token is _OWN_TOKEN else token
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.session.request(
            method, self.base_url + path, headers=headers, timeout=HTTP_TIMEOUT, **kwargs
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)


def oms(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oms_tools.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )


def addressed_to(document: dict[str, Any], outputs: dict[str, Any]) -> dict[str, Any]:
    """A notification document made out to the running stack: its SP-API application and subscription and
    its seller (outputs.json names them), which the stack requires of every notification it applies."""
    metadata = document.get("NotificationMetadata") or document.get("notificationMetadata")
    if isinstance(metadata, dict):
        pascal = "ApplicationId" in metadata
        metadata["ApplicationId" if pascal else "applicationId"] = outputs["SpApiApplicationId"]
        metadata["SubscriptionId" if pascal else "subscriptionId"] = outputs["SpApiSubscriptionIds"].split(
            ","
        )[0]

    def seller(node: Any) -> None:
        if isinstance(node, dict):
            for key in node:
                if key in ("SellerId", "sellerId"):
                    node[key] = outputs["SellerId"]
                else:
                    seller(node[key])
        elif isinstance(node, list):
            for value in node:
                seller(value)

    seller(document.get("Payload") or document.get("payload"))
    return document
