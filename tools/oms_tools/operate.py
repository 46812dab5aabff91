"""Operator commands: inspect and replay the notifications DLQ, backfill order history.

They work on the running local stack (default; `--port`/`--state-dir` pick which) or on a deployed
stack (`--stack-name NAME [--region R]`, with the caller's AWS credentials), through the same
outputs: the local stack's outputs.json or the CloudFormation stack's Outputs.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import click
from pydantic import ValidationError
from tqdm import tqdm

from oms.amazon.notifications import Notification, OrderChangePayload
from oms_local.ports import DEFAULT_PORT, default_state_dir
from oms_local.template import ROOT

PORT_VARIABLE = "OMS_PORT"


@dataclass
class Target:
    outputs: dict[str, Any]
    local: bool
    stack_name: str | None = None

    def client(self, service: str) -> Any:
        if self.local:
            return boto3.client(  # type: ignore[call-overload]
                service,
                endpoint_url=self.outputs["AwsEndpointUrl"],
                region_name=self.outputs["Region"],
                aws_access_key_id="local",
                aws_secret_access_key="local",  # noqa: S106 - moto
            )
        return boto3.client(service, region_name=self.outputs["Region"])  # type: ignore[call-overload]

    def invoke(self, function: str, event: Any) -> Any:
        """Run a function of the stack now and return its answer (a failure raises ClickException)."""
        answer = self.invoke_raw(function, event)
        if "error" in answer:
            raise click.ClickException(f"{function} failed: {answer['error']}")
        return answer["result"]

    def invoke_raw(self, function: str, event: Any) -> dict[str, Any]:
        """{"result": ...} or {"error": ...}, as Lambda reports a function's answer or failure."""
        if self.local:
            answer: dict[str, Any] = post_json(
                f"{self.outputs['LocalConsoleUrl']}/_local/invoke/{function}",
                event,
                headers={"Authorization": f"Bearer {self.outputs['ApiToken']}"},
                timeout=900,
                what="the local stack",
            )
            return answer
        resource = self.client("cloudformation").describe_stack_resource(
            StackName=self.stack_name, LogicalResourceId=function
        )["StackResourceDetail"]["PhysicalResourceId"]
        reply = self.client("lambda").invoke(FunctionName=resource, Payload=json.dumps(event).encode())
        payload = json.loads(reply["Payload"].read() or b"null")
        return {"error": payload} if reply.get("FunctionError") else {"result": payload}


def post_json(
    url: str,
    body: Any,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
    what: str = "the local stack",
) -> Any:
    """POST JSON to a local endpoint (never through an HTTP(S)_PROXY) and return its JSON answer."""
    request = urllib.request.Request(  # noqa: S310 - loopback endpoints of the local stack
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        answer = json.load(error)
        message = answer.get("errorMessage") or (answer.get("error") or {}).get("message") or str(error)
        raise click.ClickException(message) from None
    except urllib.error.URLError as error:
        raise click.ClickException(
            f"{what} does not answer ({error.reason}); is `make run` running?"
        ) from None


def target_options(command: Any) -> Any:
    for option in reversed(
        [
            *local_stack_options(),
            click.option("--stack-name", default=None, help="A deployed stack instead of the local one."),
            click.option("--region", default=None, help="Region of the deployed stack."),
        ]
    ):
        command = option(command)
    return command


def local_stack_options() -> list[Any]:
    """--port (or $OMS_PORT) and --state-dir: which running local stack; neither: the one that answers."""
    return [
        click.option(
            "--port",
            type=click.IntRange(1, 65535),
            default=None,
            envvar=PORT_VARIABLE,
            help=f"Port of the running local stack [${PORT_VARIABLE}, else the one running].",
        ),
        click.option(
            "--state-dir",
            type=click.Path(path_type=Path),
            default=None,
            help="The running stack's state folder (where its outputs.json is).",
        ),
    ]


def find_local_stack(port: int | None = None, state_dir: Path | None = None) -> dict[str, Any]:
    """The outputs of a running local stack: the one named by port or state folder, else the newest
    `.oms/**/outputs.json` whose API answers. Raises ClickException saying how to start or name one."""
    if state_dir is not None or port is not None:
        path = (state_dir or default_state_dir(port or DEFAULT_PORT)) / "outputs.json"
        if not path.exists():
            start = "make run" if port in (None, DEFAULT_PORT) else f'make run ARGS="--port {port}"'
            raise click.ClickException(
                f"no local stack runs there ({path} is missing): start one with `{start}`"
            )
        return dict(json.loads(path.read_text()))
    found = sorted((ROOT / ".oms").glob("**/outputs.json"), key=_modified, reverse=True)
    for path in found:
        try:
            outputs = dict(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue  # being rewritten, or removed as its stack stopped
        if _answers(str(outputs.get("ApiUrl", ""))):
            return outputs
    stale = (
        f" ({', '.join(str(p.relative_to(ROOT)) for p in found)} left by a stack that stopped)"
        if found
        else ""
    )
    raise click.ClickException(
        f"no local stack is running{stale}: start one with `make run` in another terminal, "
        f"or name one with --port or ${PORT_VARIABLE} (a deployed stack: --stack-name)"
    )


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed as its stack stopped
        return 0.0


def _answers(api_url: str) -> bool:
    if not api_url.startswith("http://"):
        return False
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{api_url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


def resolve_target(
    port: int | None, state_dir: Path | None, stack_name: str | None, region: str | None
) -> Target:
    if stack_name:
        cloudformation = boto3.client("cloudformation", region_name=region)
        try:
            stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        except Exception as error:
            raise click.ClickException(f"cannot read stack {stack_name}: {error}") from None
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        outputs.setdefault("Region", cloudformation.meta.region_name)
        return Target(outputs, local=False, stack_name=stack_name)
    return Target(find_local_stack(port, state_dir), local=True)


# ------------------------------------------------------------------------------ the DLQ


def diagnose(body: str) -> tuple[str, str]:
    """What a dead-lettered message is, and why it cannot be applied (if its shape says why)."""
    try:
        notification = Notification.model_validate_json(body)
    except ValidationError as invalid:
        return "not a notification", _first_problem(invalid)
    what = f"{notification.notification_type} {notification.notification_id}"
    if notification.notification_type == "ORDER_CHANGE":
        try:
            change = OrderChangePayload.model_validate(notification.payload).order_change_notification
        except ValidationError as invalid:
            return what, _first_problem(invalid)
        what += f" order {change.amazon_order_id} {change.summary.order_status.value}"
    return what, "its shape is valid now: it failed while being applied (see the function's logs)"


def _first_problem(invalid: ValidationError) -> str:
    problem = invalid.errors()[0]
    where = ".".join(str(p) for p in problem.get("loc", ())) or "body"
    return f"{where}: {problem.get('msg')}"


def _dead_letters(sqs: Any, url: str, limit: int, *, hide_for: int) -> Iterator[dict[str, Any]]:
    seen: set[str] = set()
    while len(seen) < limit:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(10, limit - len(seen)),
            VisibilityTimeout=hide_for,
            MessageSystemAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        fresh = [m for m in batch if m["MessageId"] not in seen]
        if not fresh:
            return
        for message in fresh:
            seen.add(message["MessageId"])
            yield message


def _peek(sqs: Any, url: str, limit: int) -> list[dict[str, Any]]:
    """Look at dead letters without taking them: they are visible again as soon as they are listed."""
    messages = list(_dead_letters(sqs, url, limit, hide_for=30))
    for start in range(0, len(messages), 10):
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(messages[start : start + 10])
            ],
        )
    return messages


@click.group()
def dlq() -> None:
    """The notifications dead-letter queue: what failed, and replaying it after a fix."""


@dlq.command("show")
@click.option("--limit", default=50, show_default=True, help="Show at most this many messages.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message.")
@target_options
def dlq_show(
    limit: int,
    as_json: bool,
    port: int | None,
    state_dir: Path | None,
    stack_name: str | None,
    region: str | None,
) -> None:
    """List the dead-lettered notifications with the reason each cannot be applied."""
    target = resolve_target(port, state_dir, stack_name, region)
    sqs = target.client("sqs")
    count = 0
    for message in _peek(sqs, target.outputs["OrderNotificationsDlqUrl"], limit):
        count += 1
        what, why = diagnose(message["Body"])
        sent = datetime.fromtimestamp(int(message["Attributes"]["SentTimestamp"]) / 1000, UTC)
        row = {
            "messageId": message["MessageId"],
            "sentAt": sent.isoformat(),
            "what": what,
            "reason": why,
            "receives": int(message["Attributes"].get("ApproximateReceiveCount", 0)),
            "body": message["Body"][:300],
        }
        if as_json:
            click.echo(json.dumps(row))
        else:
            click.echo(
                f"{row['messageId']}  {row['sentAt']}  {what}\n    reason: {why}\n    body:   {row['body'][:120]}"
            )
    if not as_json:
        click.echo(f"{count} message(s) in the DLQ" + (" (limit reached)" if count >= limit else ""))


@dlq.command("redrive")
@click.option("--limit", default=1000, show_default=True, help="Move at most this many messages.")
@click.option("--dry-run", is_flag=True, help="Show what would move, move nothing.")
@target_options
def dlq_redrive(
    limit: int,
    dry_run: bool,
    port: int | None,
    state_dir: Path | None,
    stack_name: str | None,
    region: str | None,
) -> None:
    """Move dead-lettered notifications back to the order-notifications queue (after a fix)."""
    target = resolve_target(port, state_dir, stack_name, region)
    sqs = target.client("sqs")
    moved = 0
    if dry_run:
        for message in _peek(sqs, target.outputs["OrderNotificationsDlqUrl"], limit):
            click.echo(f"would move {message['MessageId']}: {diagnose(message['Body'])[0]}")
        click.echo("dry run: nothing moved")
        return
    for message in _dead_letters(sqs, target.outputs["OrderNotificationsDlqUrl"], limit, hide_for=30):
        # send first, then delete: a crash in between duplicates (harmless: intake dedupes), never loses
        sqs.send_message(QueueUrl=target.outputs["OrderNotificationsQueueUrl"], MessageBody=message["Body"])
        sqs.delete_message(
            QueueUrl=target.outputs["OrderNotificationsDlqUrl"], ReceiptHandle=message["ReceiptHandle"]
        )
        moved += 1
    click.echo(f"moved {moved} message(s)")


# ------------------------------------------------------------------------------ backfill


@click.command()
@click.option(
    "--since", "since_text", required=True, help="Import orders updated since this date (ISO, UTC)."
)
@click.option("--marketplace", "marketplaces", multiple=True, help="Marketplace id (default: the stack's).")
@target_options
def backfill(
    since_text: str,
    marketplaces: tuple[str, ...],
    port: int | None,
    state_dir: Path | None,
    stack_name: str | None,
    region: str | None,
) -> None:
    """Import order history from Amazon, page by page; interrupted, it resumes where it stopped."""
    try:
        since = datetime.fromisoformat(since_text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            "use an ISO date such as 2026-01-01 or 2026-01-01T00:00:00Z", param_hint="--since"
        ) from None
    since = since if since.tzinfo else since.replace(tzinfo=UTC)
    if since > datetime.now(UTC):
        raise click.BadParameter("is in the future", param_hint="--since")
    target = resolve_target(port, state_dir, stack_name, region)
    event: dict[str, Any] = {"backfillSince": since.isoformat()}
    if marketplaces:
        event["marketplaceIds"] = list(marketplaces)
    pages = 0
    # Amazon does not say how many orders there are: the bar counts them as they come.
    with tqdm(desc="importing orders", unit=" orders") as bar:
        while True:
            results = target.invoke("ReconcileOrdersFunction", event)
            for result in results.values():
                pages += result["pages"]
                bar.update(result["orders"])
            if all(result["complete"] for result in results.values()):
                break
        total = bar.n
    click.echo(f"backfill complete: {total} orders in {pages} pages since {since.isoformat()}")
