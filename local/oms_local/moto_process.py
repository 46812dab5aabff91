"""moto in server mode, with requests applied one at a time, as AWS applies a conditional write.

moto's backends take no locks: two threads could both pass the same DynamoDB condition before
either writes, which AWS never allows. Serializing requests makes conditional writes and
transactions atomic, so the local stack loses no update under concurrency. SQS receives are let
through unserialized, because a long poll waits inside its request.
"""

from __future__ import annotations

import argparse
import io
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

from oms_local import moto_fast_tx

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    moto_fast_tx.install()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, OneAtATime(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
