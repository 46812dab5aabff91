"""Domain errors. Each knows the HTTP answer it becomes; oms.api.errors is the one place that maps them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FieldProblem:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class OmsError(Exception):
    """Base of every error the product raises on purpose."""

    status = 500
    code = "InternalError"

    def __init__(self, message: str, details: list[FieldProblem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class InvalidInput(OmsError):
    status = 400
    code = "ValidationError"

    @classmethod
    def for_field(cls, name: str, message: str) -> InvalidInput:
        return cls(f"{name}: {message}", [FieldProblem(name, message)])


class InvalidNextToken(InvalidInput):
    code = "InvalidNextToken"


class NotFound(OmsError):
    status = 404
    code = "NotFound"


class Conflict(OmsError):
    status = 409
    code = "Conflict"
    failed_index: int | None = None  # which write of a transaction was refused, when known


class Busy(Conflict):
    """A transaction DynamoDB cancelled only because another one held its items or the table was throttled:
    nothing applied. Retry loops that catch Conflict retry it; an API caller is told to come back (503)."""

    status = 503
    code = "Busy"
    retry_after_seconds = 5


class AlreadyExists(Conflict):
    code = "AlreadyExists"


class VersionConflict(Conflict):
    """Someone else changed the item since it was read; callers re-read and retry."""

    code = "VersionConflict"
