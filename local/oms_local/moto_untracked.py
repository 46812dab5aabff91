"""moto without its instance register, so a long local run does not keep every object it ever made.

Every moto model (`moto.core.common_models.BaseModel`) appends itself to its class's `instances_tracked`
when created, for the moto dashboard's `/moto-api/data.json`, and nothing ever removes it: every
version of every DynamoDB item written, every SQS message sent (deleted or not), every stream shard
iterator stays in memory for the life of the process. The local stack never reads that register, so the
moto process (`moto_process.main`) installs this: models are created untracked. What moto's backends
hold (the table's items, the queues' messages) is unchanged; only the dashboard's dump is empty.
"""

from __future__ import annotations

from typing import Any

from moto.core.common_models import BaseModel

_original: dict[str, Any] = {}


def _new_untracked(cls: type, *args: Any, **kwargs: Any) -> Any:
    return object.__new__(cls)


def install() -> None:
    """Create moto models untracked from now on (idempotent)."""
    if _original:
        return
    _original["new"] = BaseModel.__dict__["__new__"]
    BaseModel.__new__ = staticmethod(_new_untracked)  # type: ignore[method-assign]


def uninstall() -> None:
    """moto as it was (tests)."""
    if not _original:
        return
    BaseModel.__new__ = _original.pop("new")  # type: ignore[method-assign]
