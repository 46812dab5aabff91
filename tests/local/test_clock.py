"""make test-timeshift: the local stack's processes get the tests' clock offset without libfaketime."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from oms_local.clock import SHIFT, child_environment

FAKETIME = {"LD_PRELOAD": "/usr/$LIB/faketime/libfaketime.so.1", "FAKETIME": "+31536000s", "PATH": "/usr/bin"}


def test_libfaketime_s_offset_becomes_the_stack_s_own_and_libfaketime_stays_out() -> None:
    child = child_environment({**FAKETIME, "FAKETIME_SHARED": "/faketime_sem_1 /faketime_shm_1"})
    assert child == {"PATH": "/usr/bin", SHIFT: "31536000.0"}


def test_other_preloads_stay_and_an_environment_without_faketime_is_passed_as_it_is() -> None:
    child = child_environment(
        {**FAKETIME, "LD_PRELOAD": "/lib/libother.so /usr/$LIB/faketime/libfaketime.so.1"}
    )
    assert child["LD_PRELOAD"] == "/lib/libother.so"
    assert child_environment({"PATH": "/usr/bin", SHIFT: "60"}) == {"PATH": "/usr/bin", SHIFT: "60"}


def test_an_absolute_faketime_is_refused_with_the_form_that_works() -> None:
    with pytest.raises(RuntimeError, match=r"\+31536000s"):
        child_environment({**FAKETIME, "FAKETIME": "@2027-07-04 03:30:00"})


def test_a_process_that_follows_the_shift_is_a_year_on_and_its_timed_waits_stay_short() -> None:
    script = (
        "import os, select, subprocess, threading, time; from oms_local.clock import follow_shift;"
        "follow_shift(); select.select([], [], [], 1);"  # idle before its first reading, as a worker is
        "t = time.monotonic(); threading.Event().wait(0.2); time.sleep(0.1); waited = time.monotonic() - t;"
        "real = float(subprocess.run(['date', '+%s.%N'], env={}, capture_output=True, text=True).stdout);"
        "print(time.time() - real, waited)"
    )
    environment = child_environment({**os.environ, **FAKETIME})
    out = subprocess.run(
        [sys.executable, "-c", script],
        check=True,
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
    )
    ahead, waited = (float(value) for value in out.stdout.split())
    assert abs(ahead - 31536000) < 0.5, "the shifted clock runs a year ahead of the real one, from its start"
    assert waited < 2
