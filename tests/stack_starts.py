"""Local stacks start one at a time within a test run.

Under pytest-xdist (make test) two workers may reach a module's stack at the same moment. A stack's start
is the costliest few seconds of a module (moto, the simulator, a cold start of every function at once);
two at once on 2 cores double each other's cold starts towards the functions' timeouts. So the start, not
the stack's life, is taken in turn: a lock file in the run's temporary folder, which every worker shares.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator

import pytest


@contextlib.contextmanager
def one_start_at_a_time(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    run = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run = run.parent  # <run>/popen-gw0, <run>/popen-gw1, ...
    with (run / "stack-start.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
