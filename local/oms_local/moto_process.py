"""moto in server mode, with requests applied one at a time, as AWS applies a conditional write.

moto's backends take no locks: two threads could both pass the same DynamoDB condition before
either writes, which AWS never allows. Serializing requests makes conditional writes and
transactions atomic, so the local stack loses no update under concurrency. SQS receives are let
through unserialized, because a long poll waits inside its request.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

from oms_local import moto_fast_query, moto_fast_serialize, moto_fast_tx, moto_untracked, stream_trim
from oms_local.clock import child_environment, follow_shift
from oms_local.ports import free_port

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class OneAtATime:
    def __init__(self, app: Wsgi) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.endswith(".ReceiveMessage"):
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        with self.lock:
            result = self.app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close:
                    close()


def start(
    host: str = "127.0.0.1", port: int | None = None, **popen: Any
) -> tuple[subprocess.Popen[bytes], str]:
    """Run this module in a process of its own; returns it and its URL once it answers (30 s at most).
    `popen` goes to subprocess.Popen (stdout, stderr, preexec_fn, ...); output is dropped by default.
    Without a `port`, a free one is picked, and another if some other process took it before the server
    could listen on it (tests run in two pytest-xdist workers, each starting servers)."""
    for attempt in range(3):
        try:
            return _start(host, port or free_port(host), **popen)
        except _PortTaken:
            if port or attempt == 2:
                raise
    raise AssertionError("unreachable")


class _PortTaken(RuntimeError):
    pass


def _start(host: str, port: int, **popen: Any) -> tuple[subprocess.Popen[bytes], str]:
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.DEVNULL)
    popen["env"] = child_environment(popen.get("env"))
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "oms_local.moto_process", "--host", host, "--port", str(port)], **popen
    )
    url = f"http://{host}:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
                raise _PortTaken(f"moto server exited with {process.returncode}: port {port} is taken")
            raise RuntimeError(f"moto server exited with {process.returncode}")
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()  # noqa: S310 - loopback
            return process, url
        time.sleep(0.1)
    stop(process)
    raise RuntimeError("moto server did not answer within 30s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def running(**popen: Any) -> Iterator[str]:
    """A moto server for the length of a `with` block (tests, benchmarks)."""
    process, url = start(**popen)
    try:
        yield url
    finally:
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    follow_shift()
    moto_fast_tx.install()
    moto_fast_query.install()  # a query reads its partition (or its index's), not the whole table
    moto_fast_serialize.install()  # items written out as they are, not walked shape by shape
    stream_trim.install()  # stream records and iterators bounded over a long run
    moto_untracked.install()  # and no register of every object moto ever made
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, OneAtATime(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
