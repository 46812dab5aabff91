"""One local stack per end-to-end module (it takes seconds to start), stopped as a seller stops it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.support import RunningStack, start_stack
from tests.stack_starts import one_start_at_a_time


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with one_start_at_a_time(tmp_path_factory):
        running = start_stack(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]) / "state")
    try:
        yield running
    finally:
        running.stop()
