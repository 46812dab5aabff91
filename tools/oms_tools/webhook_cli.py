"""`oms webhook send`: act as an integration's sender, signing a JSON file with the secret it was shown."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from oms.integrations.signatures import Scheme, key_of_secret, sign
from oms_tools.operate import resolve_target, target_options


@click.group()
def webhook() -> None:
    """Integrations' webhooks: send one as the outside system would."""


def signed_request(
    url: str, scheme: Scheme, secret: str, body: bytes, *, delivery_id: str, sent_at: datetime
) -> tuple[int, Any]:
    """POST `body` to `url` signed per `scheme` with `secret`; (status, JSON answer)."""
    try:
        key = key_of_secret(scheme, secret)
    except ValueError:
        raise click.BadParameter(
            "not a secret POST /integrations gave for this scheme", param_hint="--secret"
        ) from None
    headers = {
        "Content-Type": "application/json",
        **sign(scheme, key, body, delivery_id=delivery_id, sent_at=sent_at),
    }
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - the API's URL
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}) if "127.0.0.1" in url else urllib.request.ProxyHandler()
    )
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)
    except urllib.error.URLError as error:
        raise click.ClickException(
            f"{url} does not answer ({error.reason}); is `make run` running?"
        ) from None


@webhook.command("send")
@click.option(
    "--integration", "integration_id", required=True, help="The integrationId POST /integrations gave."
)
@click.option(
    "--file",
    "payload",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The JSON body to send (see README, Integrations, for each kind's shape).",
)
@click.option(
    "--secret",
    envvar="OMS_WEBHOOK_SECRET",
    required=True,
    help="The secret POST /integrations showed [$OMS_WEBHOOK_SECRET].",
)
@click.option(
    "--scheme",
    type=click.Choice([s.value for s in Scheme]),
    default=Scheme.STANDARD_WEBHOOKS.value,
    show_default=True,
    help="How the integration's sender signs.",
)
@click.option(
    "--delivery-id", default=None, help="The delivery's id (default: a new one; repeat one to replay)."
)
@click.option("--api-url", default=None, help="The API's base URL (default: the stack's ApiUrl).")
@target_options
def send(
    integration_id: str,
    payload: Path,
    secret: str,
    scheme: str,
    delivery_id: str | None,
    api_url: str | None,
    port: int | None,
    state_dir: Path | None,
    stack_name: str | None,
    region: str | None,
) -> None:
    """Sign FILE as the integration's sender does and POST it to /webhooks/{integrationId}; prints the answer."""
    body = payload.read_bytes()
    base = api_url or resolve_target(port, state_dir, stack_name, region).outputs["ApiUrl"]
    status, answer = signed_request(
        f"{base.rstrip('/')}/webhooks/{integration_id}",
        Scheme(scheme),
        secret,
        body,
        delivery_id=delivery_id or f"msg_{uuid.uuid4().hex}",
        sent_at=datetime.now(UTC),
    )
    click.echo(f"{status} {json.dumps(answer)}")
    if status >= 400:
        sys.exit(1)
