"""Where a local stack listens and keeps its state: the convention `oms local` writes and the tools read."""

from __future__ import annotations

import socket
from pathlib import Path

from oms_local.template import ROOT

DEFAULT_PORT = 3000


def default_state_dir(port: int) -> Path:
    """.oms for the default port; .oms/<port> for a second stack on another port."""
    return ROOT / ".oms" if port == DEFAULT_PORT else ROOT / ".oms" / str(port)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
