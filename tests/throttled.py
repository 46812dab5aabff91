"""A table of the stack whose DynamoDB calls are throttled past the SDK's retries where a test says, as the fault
mode makes them (local/oms_local/faults.py): the error comes from botocore itself (a before-call hook on a real
client, against moto), in the shape the SDK raises once its retries are spent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import ClientError

from oms.settings import get_settings
from oms.store.table import Table

THROTTLED = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "throttled"}}


def throttled_table(
    fails: Callable[[str, int], bool], *, where: Callable[[dict[str, Any]], bool] = lambda params: True
) -> tuple[Table, list[str]]:
    """The stack's table through a client whose calls `where` picks (by their parameters) fail where
    `fails(operation, n)` says (n: how many picked calls of that operation came before); and the list of the
    operations that failed, in order."""
    client = boto3.client("dynamodb")
    seen: dict[str, int] = {}
    failed: list[str] = []

    def hook(model: Any, params: dict[str, Any], **_: Any) -> None:
        if not where(params):
            return
        n = seen.get(model.name, 0)
        seen[model.name] = n + 1
        if fails(model.name, n):
            failed.append(model.name)
            raise ClientError(THROTTLED, model.name)

    client.meta.events.register("before-call.dynamodb", hook)
    from oms.store.default import _page_tokens

    return Table(get_settings().table_name, _page_tokens, client=client), failed
