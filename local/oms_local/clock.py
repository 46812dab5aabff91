"""The local stack on another day (`make test-timeshift`): one clock offset for every process.

The tests run under Debian's faketime, whose libfaketime shifts the clock of the process it is preloaded
into. Preloaded into the local stack's processes, it breaks Python's timed waits: with the monotonic
clock faked, a timed Event.wait sleeps for the whole offset (Python waits with sem_clockwait, which
libfaketime 0.9.10 does not translate); with it real, time.sleep fails with EINVAL. So a process this
package starts gets libfaketime's offset as OMS_CLOCK_SHIFT_SECONDS instead, and follows it with
time_machine: the wall clock moves, the monotonic clock (every timeout) stays true.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping

SHIFT = "OMS_CLOCK_SHIFT_SECONDS"
_OFFSET = re.compile(r"([+-]\d+(?:\.\d+)?)([smhdy]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}


def child_environment(environment: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a process the local stack starts: libfaketime's offset (FAKETIME="+Ns") turned
    into OMS_CLOCK_SHIFT_SECONDS, libfaketime itself left out. Any other environment is passed as it is."""
    child = dict(os.environ if environment is None else environment)
    if "faketime" not in child.get("LD_PRELOAD", ""):
        return child
    offset = _OFFSET.fullmatch(child.get("FAKETIME", "").strip())
    if offset is None:
        raise RuntimeError(
            f"FAKETIME={child.get('FAKETIME')!r}: the local stack follows a relative offset only "
            '(faketime -f "+31536000s"), as make test-timeshift gives'
        )
    preload = [p for p in child.pop("LD_PRELOAD").split() if "faketime" not in p]
    if preload:
        child["LD_PRELOAD"] = " ".join(preload)
    for name in [k for k in child if k.startswith("FAKETIME")]:
        del child[name]
    child[SHIFT] = str(float(offset.group(1)) * _UNIT_SECONDS[offset.group(2)])
    return child


def follow_shift() -> None:
    """In a process started with OMS_CLOCK_SHIFT_SECONDS: move its wall clock by that much (ticking)."""
    seconds = os.environ.get(SHIFT)
    if not seconds:
        return
    import time_machine  # a test dependency: only make test-timeshift sets the variable

    time_machine.travel(time.time() + float(seconds), tick=True).start()
    time.time()  # time_machine starts ticking at the first reading: from now, not from the first request
