"""The product's HTTP API as the CLI reaches it: the local stack (ApiUrl and ApiToken from its outputs) or a
deployed one (`--stack-name` or `--api-url`, with a Cognito ID token in OMS_API_TOKEN)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import click

from oms_tools.operate import resolve_target, target_options

TOKEN_VARIABLE = "OMS_API_TOKEN"  # noqa: S105 - the variable's name, not a token
# (method, url, headers, body) -> (status, body): urllib by default, the API handler in tests
Transport = Callable[[str, str, dict[str, str], bytes | None], tuple[int, bytes]]


class ApiError(click.ClickException):
    def __init__(self, status: int, answer: Any) -> None:
        error = answer.get("error", {}) if isinstance(answer, dict) else {}
        self.status = status
        self.code = str(error.get("code") or status)
        self.details = list(error.get("details") or [])
        super().__init__(str(error.get("message") or answer or f"HTTP {status}"))


def _urllib(method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310 - http(s) only
    host = urlsplit(url).hostname or ""
    # loopback: never through an HTTP(S)_PROXY; a deployed API: the caller's proxy settings apply
    handlers = [urllib.request.ProxyHandler({})] if host in ("127.0.0.1", "localhost", "::1") else []
    try:
        with urllib.request.build_opener(*handlers).open(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError as error:  # refused, reset, timed out
        reason = error.reason if isinstance(error, urllib.error.URLError) else error
        raise click.ClickException(f"the API at {url} does not answer ({reason})") from None


class Api:
    def __init__(self, base_url: str, token: str, transport: Transport | None = None) -> None:
        if urlsplit(base_url).scheme not in ("http", "https"):
            raise click.BadParameter(f"{base_url!r} is not an http(s) URL", param_hint="--api-url")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._transport = transport or _urllib

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """The JSON answer; an error answer raises ApiError (its status, code and message)."""
        url = self.base_url + path + (f"?{urlencode(query)}" if query else "")
        sent = {"Authorization": f"Bearer {self.token}", "Accept": "application/json", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        status, raw = self._transport(method, url, sent, data)
        try:
            answer = json.loads(raw) if raw else None
        except ValueError:
            answer = raw.decode(errors="replace")[:300]
        if status >= 400:
            raise ApiError(status, answer)
        return answer


def api_options(command: Any) -> Any:
    """The local stack (default, --port/--state-dir), a deployed stack (--stack-name), or --api-url."""
    command = click.option(
        "--api-url",
        default=None,
        help=f"The API of a deployed stack (its ApiUrl output); the token comes from ${TOKEN_VARIABLE}.",
    )(command)
    return target_options(command)


def resolve_api(
    port: int | None, state_dir: Path | None, stack_name: str | None, region: str | None, api_url: str | None
) -> Api:
    if api_url is None:
        target = resolve_target(port, state_dir, stack_name, region)
        if target.local:
            return Api(target.outputs["ApiUrl"], target.outputs["ApiToken"])
        if "ApiUrl" not in target.outputs:
            raise click.ClickException(f"stack {stack_name} has no ApiUrl output")
        api_url = str(target.outputs["ApiUrl"])
    token = os.environ.get(TOKEN_VARIABLE)
    if not token:
        raise click.ClickException(f"set {TOKEN_VARIABLE} to a Cognito ID token for the deployed API")
    return Api(api_url, token)
