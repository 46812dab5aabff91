"""One delivery attempt over HTTP(S): the target resolved and checked (targets.py), the connection made to
the checked address (TLS still verifies the host name), a few seconds at most, the answer's status read."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from oms.webhooks.targets import RefusedTarget, Resolve, resolve_target, system_resolve

USER_AGENT = "amazon-seller-oms-webhooks/1"
MAX_ERROR = 300


@dataclass(frozen=True)
class Outcome:
    status_code: int | None  # None: no HTTP answer (refused target, timeout, connection error)
    latency_ms: int
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHttps(http.client.HTTPSConnection):
    """HTTPS to an address already checked, with SNI and certificate checks against the URL's host."""

    def __init__(self, address: str, host: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHttp(http.client.HTTPConnection):
    def __init__(self, address: str, host: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    allow_loopback: bool,
    resolve: Resolve = system_resolve,
) -> Outcome:
    """POST `body` to `url`; never raises for the receiver's faults, which are the outcome's error."""
    started = time.monotonic()

    def done(status: int | None, error: str | None) -> Outcome:
        return Outcome(status, int((time.monotonic() - started) * 1000), error and error[:MAX_ERROR])

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        address = resolve_target(host, port, allow_loopback=allow_loopback, resolve=resolve)
    except RefusedTarget as refused:
        return done(None, f"refused: {refused}")
    kind = _PinnedHttps if parts.scheme == "https" else _PinnedHttp
    connection = kind(address, host, port, timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={**headers, "Content-Type": "application/json", "User-Agent": USER_AGENT},
        )
        answer = connection.getresponse()
        answer.read(1024)  # the receiver's body is not kept; reading a little lets the connection close
        return done(
            answer.status, None if 200 <= answer.status < 300 else f"answered {answer.status} {answer.reason}"
        )
    except TimeoutError:
        return done(None, f"no answer within {timeout:g} s")
    except (OSError, http.client.HTTPException) as error:
        return done(None, f"{type(error).__name__}: {error}")
    finally:
        connection.close()
