"""Ctrl-C stops `oms local` within seconds, whatever its pieces are doing (issue 15: end-to-end teardowns
failed when it took more than 10 s on a loaded machine).

Two causes, each played here: the function workers were stopped one after another, each given 3 s after
SIGTERM, and once everything was stopped the interpreter's own teardown (freeing every object of the stack
and its marketplace) took seconds more when the machine's cores were busy.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from oms_local import harness
from oms_local.runtime import FunctionPool, FunctionSpec, InvocationError
from oms_local.stack import LocalStack, Options
from tests.stack_starts import one_start_at_a_time

# A function busy where SIGTERM does not reach it (a handler ignoring it stands for any that do not exit).
DEAF_FUNCTION = """
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)

def handler(event, context):
    time.sleep(120)
"""


def _deaf_pool(code: Path, name: str, log_dir: Path) -> FunctionPool:
    code.mkdir()
    (code / "app.py").write_text(DEAF_FUNCTION)
    spec = FunctionSpec(
        name=name,
        function_name=name,
        code_uri=code,
        handler="app.handler",
        timeout=300,
        memory=128,
        environment={"_HANDLER": "app.handler", "PYTHONUNBUFFERED": "1"},
        log_path=log_dir / f"{name}.log",
    )
    return FunctionPool(spec, concurrency=3)


def _busy(pool: FunctionPool, invocations: int) -> list[subprocess.Popen[bytes]]:
    """`invocations` at once, each in a worker of its own; the workers' processes once they all run."""

    def invoke() -> None:
        with contextlib.suppress(InvocationError):  # the stack stopped it
            pool.invoke({})

    for _ in range(invocations):
        threading.Thread(target=invoke, daemon=True).start()
    deadline = time.monotonic() + 120
    while len(pool._all) < invocations and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(pool._all) == invocations, "the workers did not start"
    return [worker.process for worker in pool._all]


def test_stopping_waits_for_all_the_workers_together_and_kills_those_that_do_not_exit(tmp_path: Path):
    stack = LocalStack(Options(state_dir=tmp_path, quiet=True))
    processes = []
    for name in ("First", "Second"):
        stack.pools[name] = pool = _deaf_pool(tmp_path / name, name, tmp_path)
        processes += _busy(pool, 3)

    started = time.monotonic()
    stack.stop()
    took = time.monotonic() - started

    assert all(process.poll() is not None for process in processes), "a worker was left running"
    # before: one worker after another, 3 s each before it was killed (18 s for these six)
    assert took < 8, f"stopping took {took:.1f}s"


# Work for the interpreter's teardown that takes long, as freeing a large heap did on a busy machine. Every
# Python process of the stack imports it; only one that exits normally runs it (the workers and moto are
# stopped by SIGTERM).
SLOW_TEARDOWN = """
import time

class _SlowToFree:
    def __del__(self):
        time.sleep(60)

_kept_until_teardown = _SlowToFree()
"""


@pytest.fixture
def slow_teardown(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(SLOW_TEARDOWN)
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, sitecustomize; print(sitecustomize.__file__, flush=True); os._exit(0)",
        ],
        check=False,
        env={"PYTHONPATH": str(folder), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert probe.stdout.strip() == str(folder / "sitecustomize.py"), probe  # no other sitecustomize wins
    return {"PYTHONPATH": str(folder)}


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the processes from /proc (Linux)")
def test_ctrl_c_stops_the_stack_within_seconds_and_leaves_nothing_behind(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, slow_teardown: dict[str, str]
):
    with one_start_at_a_time(tmp_path_factory):
        stack = harness.start_stack(tmp_path / "state", env={**os.environ, **slow_teardown}, timeout=180)
    moto_and_workers = _children(stack.process.pid)
    assert moto_and_workers, "the stack started no process"

    started = time.monotonic()
    stack.process.send_signal(signal.SIGINT)
    try:
        status = stack.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        stack.process.wait()
        pytest.fail(f"`oms local` did not exit within 30s of Ctrl-C:\n{harness.tail(stack.console_log)}")
    took = time.monotonic() - started

    assert status == 0, harness.tail(stack.console_log)
    assert took < 10, f"`oms local` took {took:.1f}s to exit after Ctrl-C"  # e2e teardowns allow 10 s
    assert not (stack.state_dir / "outputs.json").exists()
    deadline = time.monotonic() + 5
    while (left := [pid for pid in moto_and_workers if Path(f"/proc/{pid}").exists()]) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert not [pid for pid in left if _state(pid) not in ("Z", None)], "processes left behind"


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None
