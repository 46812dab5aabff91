"""The one place where errors become HTTP answers, in API.md's format:
{"error": {"code": "...", "message": "...", "details": [{"field": "...", "message": "..."}]}}."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from oms.amazon.client import SpApiError
from oms.amazon.rate_budget import BudgetExhausted
from oms.errors import OmsError
from oms.observability import logger
from oms.wording import field_problems


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


def register_error_answers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(OmsError)
    def domain_error(error: OmsError) -> Response:
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
        logger.warning("Amazon refused", extra={"operation": error.operation, "status": error.status})
        return error_response(
            HTTPStatus.UNPROCESSABLE_ENTITY, "AmazonRefused", f"Amazon refused {error.operation}: {error}"
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
    def unexpected(_: Exception) -> Response:
        logger.exception("unexpected error")
        return error_response(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            "InternalError",
            f"something went wrong on our side (request {app.lambda_context.aws_request_id})",
        )
