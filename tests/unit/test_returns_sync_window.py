"""The returns sync's windows, pure: the first looks 30 days back, each next one starts an overlap before the
last applied end, none is longer than Amazon's 60 days (a long gap is caught up window by window), and an
applied report never moves the applied end back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oms.domain.types import iso_z
from oms.returns.report_sync import FIRST_WINDOW, MAX_WINDOW, OVERLAP, _advanced, window_for

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def test_the_first_window_looks_back_and_the_next_overlaps_the_last():
    assert window_for(None, NOW) == (NOW - FIRST_WINDOW, NOW)
    last_end = NOW - timedelta(hours=1)
    start, end = window_for({"appliedThrough": iso_z(last_end)}, NOW)
    assert (start, end) == (last_end - OVERLAP, NOW)
    assert timedelta(days=7) <= OVERLAP, "a return's status still moves days after its request"


def test_a_long_gap_is_caught_up_sixty_days_at_a_time():
    last_end = NOW - timedelta(days=200)
    start, end = window_for({"appliedThrough": iso_z(last_end)}, NOW)
    assert end - start == MAX_WINDOW == timedelta(days=60)
    following = window_for({"appliedThrough": iso_z(end)}, NOW)
    assert following[0] == end - OVERLAP and following[1] - following[0] == MAX_WINDOW


def test_an_applied_report_moves_the_end_forward_only_and_clears_only_its_own_pending():
    state = {"appliedThrough": "2026-12-02T14:00:00Z", "pendingReportId": "NEW", "requestedAt": "x"}
    older = {"dataEndTime": "2026-12-01T14:00:00Z"}
    after = _advanced(state, older, "OLD")
    assert after["appliedThrough"] == "2026-12-02T14:00:00Z" and after["pendingReportId"] == "NEW"
    newer = {"dataEndTime": "2026-12-02T15:00:00Z"}
    after = _advanced(state, newer, "NEW")
    assert after["appliedThrough"] == "2026-12-02T15:00:00Z" and "pendingReportId" not in after
