"""Who may call what: the one table of every route's scope, the scopes each role holds, and the check the
API function runs before any route (docs/openapi.json shows each route's `x-required-scope` and `x-roles`).

An API key carries the scopes it was created with; a person signed in through Cognito holds the scopes of
their groups (admin, warehouse, viewer). `tests/unit/test_permissions.py` fails when a route of the app has
no row here, or a row names a route the app does not have."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from oms.api.errors import error_response

# Every scope, with what it lets a caller do in the seller's words. Integrations and webhooks are named
# for the routes issue 14 adds alongside these.
SCOPES: dict[str, str] = {
    "orders:read": "see orders, their timelines and the work queue",
    "orders:write": "archive and restore orders",
    "inventory:read": "see stock rows, their ledger, cycle counts and the count schedule",
    "inventory:write": "adjust stock, set stock policies, start, count and approve cycle counts",
    "products:read": "see the catalogue",
    "products:write": "set a product's title, weight and dimensions",
    "shipping:read": "see pick batches, carriers and shipping rates",
    "shipping:write": "print pick batches, buy labels, record and confirm shipments",
    "returns:read": "see returns",
    "returns:write": "record, receive, authorize and close returns",
    "refunds:write": "refund buyers through Amazon",
    "reports:read": "read reports and account health",
    "purchasing:read": "see suppliers and purchase orders",
    "purchasing:write": "add suppliers and their terms, draft, send and close purchase orders",
    "messages:read": "see buyers' messages, their threads, quarantine, reply templates and intent rules",
    "messages:write": "answer buyers, close a thread without an answer, take a quarantined mail again",
    "messages:setup": "change reply templates, intent rules and the automatic answer",
    "planning:read": "see stock plans, forecasts and reorder suggestions",
    "planning:write": "set product lines (fixed method, growth, events) for the plans",
    "rules:read": "see order rules and try them on recent orders",
    "rules:write": "create, change and delete order rules",
    "settings:read": "see the shipping setup",
    "settings:write": "change the shipping setup",
    "integrations:read": "see integrations",
    "integrations:write": "create and change integrations (webhooks in)",
    "webhooks:read": "see webhook subscriptions and their deliveries",
    "webhooks:write": "create webhook subscriptions and redeliver",
    "keys:admin": "create, list and revoke API keys",
}
READ_SCOPES = frozenset(scope for scope in SCOPES if scope.endswith(":read"))

# The Cognito groups (template.yaml UserPoolGroups) and the scopes each holds.
ROLES: dict[str, frozenset[str]] = {
    "admin": frozenset(SCOPES),
    # reads everything; ships, prints, receives (returns, purchase orders), counts and adjusts stock; never
    # settings, keys, integrations, webhooks, refunds, rules, purchasing or product lines
    "warehouse": READ_SCOPES
    | {"orders:write", "inventory:write", "products:write", "shipping:write", "returns:write"},
    "viewer": READ_SCOPES,
}
PUBLIC = "public"  # a route API Gateway serves without the authorizer (template.yaml: Auth NONE)

# The one table: (method, path as docs/openapi.json writes it) -> the scope it needs.
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/health"): PUBLIC,
    # orders
    ("GET", "/orders"): "orders:read",
    ("GET", "/orders/{orderId}"): "orders:read",
    ("GET", "/orders/{orderId}/timeline"): "orders:read",
    ("POST", "/orders/{orderId}/archive"): "orders:write",
    ("DELETE", "/orders/{orderId}/archive"): "orders:write",
    # stock and cycle counts
    ("GET", "/inventory"): "inventory:read",
    ("GET", "/inventory/{sku}"): "inventory:read",
    ("GET", "/inventory/{sku}/ledger"): "inventory:read",
    ("PUT", "/inventory/{sku}"): "inventory:write",
    ("POST", "/inventory/{sku}/adjustments"): "inventory:write",
    ("GET", "/audits"): "inventory:read",
    ("GET", "/audits/schedule"): "inventory:read",
    ("GET", "/audits/{auditId}"): "inventory:read",
    ("POST", "/audits"): "inventory:write",
    ("PUT", "/audits/{auditId}/counts"): "inventory:write",
    ("POST", "/audits/{auditId}/approve"): "inventory:write",
    # catalogue
    ("GET", "/products"): "products:read",
    ("GET", "/products/{sku}"): "products:read",
    ("PUT", "/products/{sku}"): "products:write",
    # shipping
    ("GET", "/batches"): "shipping:read",
    ("GET", "/batches/{batchId}"): "shipping:read",
    ("GET", "/carriers"): "shipping:read",
    ("GET", "/orders/{orderId}/rates"): "shipping:read",
    ("POST", "/batches"): "shipping:write",
    ("POST", "/orders/{orderId}/shipments"): "shipping:write",
    ("POST", "/orders/{orderId}/shipments/{shipmentId}/confirm"): "shipping:write",
    # returns and refunds
    ("GET", "/returns"): "returns:read",
    ("GET", "/returns/{returnId}"): "returns:read",
    ("POST", "/returns"): "returns:write",
    ("POST", "/returns/{returnId}/receipts"): "returns:write",
    ("POST", "/returns/{returnId}/authorize"): "returns:write",
    ("POST", "/returns/{returnId}/close"): "returns:write",
    ("POST", "/returns/{returnId}/refund"): "refunds:write",
    # reports and account health
    ("GET", "/reports/orders"): "reports:read",
    ("GET", "/reports/orders/columns"): "reports:read",
    ("GET", "/reports/returns"): "reports:read",
    ("GET", "/reports/returns/columns"): "reports:read",
    ("GET", "/reports/daily"): "reports:read",
    ("GET", "/reports/jobs/{jobId}"): "reports:read",
    ("GET", "/reports/end-of-day"): "reports:read",
    ("GET", "/reports/shipping-spend"): "reports:read",
    ("GET", "/metrics/account-health"): "reports:read",
    ("GET", "/metrics/return-rates"): "reports:read",
    # suppliers and purchase orders (a receipt is stock arriving: the warehouse's)
    ("GET", "/suppliers"): "purchasing:read",
    ("GET", "/suppliers/{supplierId}"): "purchasing:read",
    ("POST", "/suppliers"): "purchasing:write",
    ("PUT", "/suppliers/{supplierId}"): "purchasing:write",
    ("PUT", "/suppliers/{supplierId}/skus/{sku}"): "purchasing:write",
    ("GET", "/purchase-orders"): "purchasing:read",
    ("GET", "/purchase-orders/{poId}"): "purchasing:read",
    ("POST", "/purchase-orders"): "purchasing:write",
    ("POST", "/purchase-orders/{poId}/send"): "purchasing:write",
    ("POST", "/purchase-orders/{poId}/close"): "purchasing:write",
    ("POST", "/purchase-orders/{poId}/receipts"): "inventory:write",
    # customer care (buyers' messages)
    ("GET", "/messages"): "messages:read",
    ("GET", "/messages/{threadId}"): "messages:read",
    ("GET", "/messages/buyers/{buyerId}"): "messages:read",
    ("GET", "/messages/quarantine"): "messages:read",
    ("GET", "/messages/templates"): "messages:read",
    ("GET", "/messages/templates/{templateId}"): "messages:read",
    ("GET", "/messages/intent-rules"): "messages:read",
    ("GET", "/messages/setup"): "messages:read",
    ("POST", "/messages/{threadId}/replies"): "messages:write",
    ("POST", "/messages/{threadId}/replies/{messageId}/outcome"): "messages:write",
    ("GET", "/orders/{orderId}/buyer-updates"): "messages:read",
    ("POST", "/orders/{orderId}/buyer-updates"): "messages:write",
    ("POST", "/messages/{threadId}/no-response-needed"): "messages:write",
    ("POST", "/messages/quarantine/{quarantineId}/retry"): "messages:write",
    ("PUT", "/messages/templates/{templateId}"): "messages:setup",
    ("DELETE", "/messages/templates/{templateId}"): "messages:setup",
    ("PUT", "/messages/intent-rules"): "messages:setup",
    ("PUT", "/messages/setup"): "messages:setup",
    # planning
    ("GET", "/planning/skus/{sku}"): "planning:read",
    ("GET", "/planning/reorder"): "planning:read",
    ("GET", "/planning/stock-health"): "planning:read",
    ("GET", "/planning/settings"): "planning:read",
    ("PUT", "/planning/settings"): "planning:write",
    # webhooks out (subscriptions hand out secrets: behind the authorizer, unlike POST /webhooks/{id})
    ("GET", "/webhooks/event-types"): "webhooks:read",
    ("GET", "/webhooks/subscriptions"): "webhooks:read",
    ("GET", "/webhooks/subscriptions/{subscription_id}"): "webhooks:read",
    ("GET", "/webhooks/subscriptions/{subscription_id}/deliveries"): "webhooks:read",
    ("POST", "/webhooks/subscriptions"): "webhooks:write",
    ("PATCH", "/webhooks/subscriptions/{subscription_id}"): "webhooks:write",
    ("DELETE", "/webhooks/subscriptions/{subscription_id}"): "webhooks:write",
    ("POST", "/webhooks/subscriptions/{subscription_id}/secret/rotate"): "webhooks:write",
    ("POST", "/webhooks/subscriptions/{subscription_id}/deliveries/{delivery_id}/retry"): "webhooks:write",
    # order rules (a dry run changes nothing: reading)
    ("GET", "/rules"): "rules:read",
    ("GET", "/rules/fields"): "rules:read",
    ("GET", "/rules/{ruleId}"): "rules:read",
    ("POST", "/rules/test"): "rules:read",
    ("POST", "/rules/{ruleId}/test"): "rules:read",
    ("POST", "/rules"): "rules:write",
    ("PUT", "/rules/{ruleId}"): "rules:write",
    ("DELETE", "/rules/{ruleId}"): "rules:write",
    # integrations (webhooks in; the public POST /webhooks/{integrationId} is its own function)
    ("GET", "/integrations"): "integrations:read",
    ("GET", "/integrations/{integrationId}"): "integrations:read",
    ("GET", "/integrations/{integrationId}/problems"): "integrations:read",
    ("POST", "/integrations"): "integrations:write",
    ("POST", "/integrations/{integrationId}/rotate"): "integrations:write",
    ("DELETE", "/integrations/{integrationId}"): "integrations:write",
    # settings
    ("GET", "/settings/shipping"): "settings:read",
    ("PUT", "/settings/shipping"): "settings:write",
    ("PATCH", "/settings/shipping"): "settings:write",
    # API keys
    ("GET", "/api-keys"): "keys:admin",
    ("GET", "/api-keys/scopes"): "keys:admin",
    ("POST", "/api-keys"): "keys:admin",
    ("DELETE", "/api-keys/{keyId}"): "keys:admin",
}


def roles_with(scope: str) -> list[str]:
    """The roles whose people may use a route needing `scope` (every role for a public route)."""
    return [role for role, scopes in ROLES.items() if scope == PUBLIC or scope in scopes]


@dataclass(frozen=True)
class Caller:
    """Who sent the request, as the authorizer named them: a person (`user`) or an API key (`key`)."""

    principal: str  # user:<sub> or key:<keyId>
    kind: str  # user | key
    label: str  # the person's e-mail, or the key's name
    scopes: frozenset[str]
    groups: tuple[str, ...] = ()

    def may(self, scope: str) -> bool:
        return scope == PUBLIC or scope in self.scopes


def _words(value: Any) -> list[str]:
    """A list the authorizer's context carries as text (API Gateway passes strings only): space or comma
    separated; Cognito's own claims carry groups the same way."""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [w for w in str(value or "").replace(",", " ").split() if w]


def scopes_of_groups(groups: Iterable[str]) -> frozenset[str]:
    return frozenset().union(*(ROLES.get(group, frozenset()) for group in groups))


def caller_of(event: dict[str, Any]) -> Caller | None:
    """The caller of a proxy event: the Lambda authorizer's context (kind, principal, scopes or groups) or,
    from API Gateway's Cognito authorizer, the token's claims (groups in `cognito:groups`)."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    if authorizer.get("claims"):
        claims = authorizer["claims"]
        groups = tuple(_words(claims.get("cognito:groups")))
        sub = str(claims.get("sub") or claims.get("email") or "unknown")
        label = str(claims.get("email") or sub)
        return Caller(f"user:{sub}", "user", label, scopes_of_groups(groups), groups)
    kind = authorizer.get("kind")
    if kind == "key":
        scopes = frozenset(s for s in _words(authorizer.get("scopes")) if s in SCOPES)
        return Caller(str(authorizer.get("principalId")), "key", str(authorizer.get("name") or ""), scopes)
    if kind == "user":
        groups = tuple(_words(authorizer.get("groups")))
        principal = str(authorizer.get("principalId"))
        return Caller(
            principal, "user", str(authorizer.get("email") or principal), scopes_of_groups(groups), groups
        )
    return None


def forbidden(scope: str, caller: Caller | None) -> Response:
    """403 in the API's error format, naming the scope (and, for a person, the roles that hold it)."""
    if caller is None:
        message = f"this route needs the {scope} scope; the request carries no caller"
    elif caller.kind == "key":
        message = f"this API key ({caller.label}) lacks the {scope} scope"
    else:
        roles = ", ".join(roles_with(scope))
        message = f"{caller.label} lacks the {scope} scope: it needs the role {roles}" + (
            "" if caller.groups else " (the user is in no group yet; an admin adds them in Cognito)"
        )
    return error_response(
        HTTPStatus.FORBIDDEN, "Forbidden", message, [{"field": "scope", "message": f"{scope} is required"}]
    )


def route_scope(method: str, openapi_path: str) -> str | None:
    return ROUTES.get((method.upper(), openapi_path))


def _registered(app: APIGatewayRestResolver, route: Any) -> bool:
    return any(route is known for known in app._static_routes + app._dynamic_routes)


def enforce(
    app: APIGatewayRestResolver, next_middleware: Callable[[APIGatewayRestResolver], Response]
) -> Response:
    """Before every route: the caller must hold the route's scope. A route missing from the table is
    refused (fail closed); the test keeps the table whole."""
    route = app.context.get("_route")
    path = getattr(route, "openapi_path", None)
    if route is None or path is None or not _registered(app, route):
        return next_middleware(app)  # no route matched: the 404/405 answer, which reveals nothing
    scope = route_scope(route.method, path)
    if scope == PUBLIC:
        return next_middleware(app)
    caller = caller_of(app.current_event.raw_event)
    if scope is None:
        return error_response(
            HTTPStatus.FORBIDDEN, "Forbidden", f"{route.method} {path} has no permission declared", []
        )
    if caller is None or not caller.may(scope):
        return forbidden(scope, caller)
    return next_middleware(app)


def document_permissions(spec: dict[str, Any]) -> dict[str, Any]:
    """Each operation of the OpenAPI document names its scope (`x-required-scope`), the roles allowed
    (`x-roles`) and its 403; the scopes and roles themselves are listed once under `x-scopes`, `x-roles`."""
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            scope = route_scope(method, path)
            if scope is None:
                continue
            operation["x-required-scope"] = scope
            operation["x-roles"] = roles_with(scope)
            if scope != PUBLIC:
                operation.setdefault("responses", {}).setdefault(
                    "403", {"description": f"the caller lacks the {scope} scope (the answer names it)"}
                )
    spec["x-scopes"] = dict(SCOPES)
    spec["x-roles"] = {role: sorted(scopes) for role, scopes in ROLES.items()}
    return spec
