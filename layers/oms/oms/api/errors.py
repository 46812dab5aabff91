"""The one place where errors become HTTP answers, in the format docs/openapi.json names ErrorAnswer:
{"error": {"code": "...", "message": "...", "details": [{"field": "...", "message": "..."}]}}."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from botocore.exceptions import ClientError

from oms.amazon.errors import SpApiError
from oms.amazon.rate_budget import BudgetExhausted
from oms.api.wording import field_problems
from oms.errors import Busy, OmsError
from oms.observability import logger
from oms.store.table import (
    BUSY_REASONS,
    TRANSIENT_CODES,
)  # the cancellation reasons a busy table gives, one list


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": {"code": code, "message": message, "details": details or []}},
        headers=headers,
    )


def _early_answer(status: int, code: str, message: str, field: str, problem: str) -> dict[str, Any]:
    """An answer given before any route runs, as API Gateway wants it, with the CORS header the resolver adds."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_types.APPLICATION_JSON, "Access-Control-Allow-Origin": "*"},
        "body": json.dumps(
            {"error": {"code": code, "message": message, "details": [{"field": field, "message": problem}]}}
        ),
        "isBase64Encoded": False,
    }


def unsupported_media_type(label: str) -> dict[str, Any]:
    return _early_answer(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        "UnsupportedMediaType",
        f"this API reads JSON bodies only, not {label}; send Content-Type: application/json",
        "Content-Type",
        f"{label} is not supported; use application/json",
    )


def not_json() -> dict[str, Any]:
    return _early_answer(
        HTTPStatus.BAD_REQUEST,
        "ValidationError",
        "body is not valid JSON (not UTF-8 text)",
        "body",
        "is not valid JSON",
    )


# DynamoDB saying "too much at once" once the SDK's own retries are spent: the request may work in a moment.
BUSY_CODES = TRANSIENT_CODES - {"InternalServerError", "ServiceUnavailable"}
BUSY_RETRY_AFTER_SECONDS = Busy.retry_after_seconds


def table_busy(error: BaseException | None) -> bool:
    """The error, or one it was raised from (e.g. by a store helper), is DynamoDB throttling or a
    transaction that lost to another and was cancelled for that reason only."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, ClientError):
            code = error.response.get("Error", {}).get("Code", "")
            if code in BUSY_CODES:
                return True
            if code == "TransactionCanceledException":
                reasons = {r.get("Code") for r in error.response.get("CancellationReasons", [])} - {
                    "None",
                    None,
                }
                return bool(reasons) and reasons <= BUSY_REASONS
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def busy_answer() -> Response:
    return error_response(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "Busy",
        f"the database is busy for a moment; try again in {BUSY_RETRY_AFTER_SECONDS} seconds "
        "(a change is applied whole or not at all, and a retry with the same Idempotency-Key applies it once)",
        headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
    )


def register_error_answers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(OmsError)
    def domain_error(error: OmsError) -> Response:
        if isinstance(error, Busy):
            logger.warning("table busy", extra={"error": error.message})
            return busy_answer()
        if error.status >= 500:
            logger.exception("request failed")
        return error_response(error.status, error.code, error.message, [d.as_dict() for d in error.details])

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response:
        problems = field_problems(error.errors())
        message = "; ".join(f"{p['field']} {p['message']}" for p in problems) or "the request is not valid"
        return error_response(HTTPStatus.BAD_REQUEST, "ValidationError", message, problems)

    @app.not_found
    def no_such_route(_: NotFoundError) -> Response:
        event = app.current_event
        allowed = sorted(
            route.method
            for route in getattr(app, "_static_routes", []) + getattr(app, "_dynamic_routes", [])
            if route.rule.match(event.path)
        )
        if allowed:
            return error_response(
                HTTPStatus.METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                f"{event.http_method} is not allowed on {event.path}; use {', '.join(allowed)}",
                headers={"Allow": ", ".join(allowed)},
            )
        return error_response(HTTPStatus.NOT_FOUND, "NotFound", f"no route {event.http_method} {event.path}")

    @app.exception_handler(SpApiError)
    def amazon_refused(error: SpApiError) -> Response:
        """Amazon said no (e.g. a ship-from address it refuses) or is busy: say so, never a 500."""
        if error.retryable:
            logger.warning("Amazon busy", extra={"operation": error.operation, "status": error.status})
            return error_response(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "AmazonUnavailable",
                f"Amazon did not answer {error.operation} ({error.status}); nothing was changed, try again shortly",
                headers={"Retry-After": "30"},
            )
        logger.warning(
            "Amazon refused",
            extra={
                "operation": error.operation,
                "status": error.status,
                "amazonCode": error.code,
                "amazonMessage": error.message[:500],
            },
        )
        # Amazon's code, not its message: the message may echo submitted values (docs/decisions.md 53).
        return error_response(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "AmazonRefused",
            f"Amazon refused {error.operation} ({error.status} {error.code}); nothing was changed here. "
            "The API function's log has Amazon's full answer.",
            [{"field": error.operation, "message": error.code}],
        )

    @app.exception_handler(BudgetExhausted)
    def budget_exhausted(error: BudgetExhausted) -> Response:
        return error_response(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "AmazonRateLimited",
            f"the SP-API rate budget is spent for now ({error}); nothing was changed, try again shortly",
            headers={"Retry-After": str(max(int(error.wait), 1))},
        )

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response:
        if table_busy(error):
            logger.warning("table busy", extra={"error": type(error).__name__})
            return busy_answer()
        logger.exception("unexpected error")
        return error_response(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            "InternalError",
            f"something went wrong on our side (request {app.lambda_context.aws_request_id})",
        )


ERROR_ANSWER = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "examples": ["ValidationError"]},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "message"],
                        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                    },
                },
            },
        }
    },
}
BUSY_ANSWER = {
    "description": "busy for a moment (the database throttled the request, or Amazon is busy): nothing half-applied; "
    "try again after Retry-After seconds",
    "headers": {
        "Retry-After": {"description": "seconds to wait before trying again", "schema": {"type": "integer"}}
    },
}
_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorAnswer"}}}


def document_error_answers(spec: dict[str, Any], public: set[str]) -> dict[str, Any]:
    """The OpenAPI document says which errors each operation answers, in the error format above: 400 where
    there is anything to get wrong, 401 behind the authorizer, 404 for a path naming something, 415 for a
    body; routes declare their own (409...). Powertools' 422 (a shape this API never answers) goes.
    `public`: the paths API Gateway serves without the authorizer (template.yaml)."""
    for path, operations in spec.get("paths", {}).items():
        for operation in operations.values():
            if path in public:
                operation["security"] = []
            answers = operation.setdefault("responses", {})
            if answers.get("422", {}).get("description") == "Validation Error":
                del answers["422"]
            if operation.get("parameters") or operation.get("requestBody"):
                answers.setdefault(
                    "400", {"description": "a parameter or the body is not valid (details name each)"}
                )
            if operation.get("security") != []:
                answers.setdefault("401", {"description": "no valid bearer token"})
            if "{" in path:
                answers.setdefault("404", {"description": "not known here"})
            if operation.get("requestBody"):
                answers.setdefault(
                    "415", {"description": "the body is not JSON (Content-Type: application/json)"}
                )
            if operation.get("security") != []:
                answers.setdefault("503", dict(BUSY_ANSWER))
            for status, answer in answers.items():
                if int(status) >= 400:
                    answer["content"] = _ERROR_CONTENT
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorAnswer"] = ERROR_ANSWER
    text = json.dumps(spec)
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        if f'"#/components/schemas/{unused}"' not in text.replace(f'"{unused}":', ""):
            schemas.pop(unused, None)
    return spec
