"""The permission table: every route of the API has exactly one row, each role holds what the seller was
promised (a warehouse ships and counts but never changes settings or keys), and docs/openapi.json names
each route's scope and roles."""

from __future__ import annotations

import json

from oms.api.app import app, openapi_json
from oms.api.permissions import PUBLIC, ROLES, ROUTES, SCOPES, caller_of, roles_with, scopes_of_groups


def _app_routes() -> set[tuple[str, str]]:
    return {(r.method.upper(), r.openapi_path) for r in app._static_routes + app._dynamic_routes}


def test_every_route_of_the_app_has_a_row_and_every_row_a_route():
    routes = _app_routes()
    assert routes - ROUTES.keys() == set(), (
        "routes without a permission: add them to oms.api.permissions.ROUTES"
    )
    assert ROUTES.keys() - routes == set(), "rows naming no route of the app"


def test_every_row_names_a_known_scope_and_public_rows_are_the_templates_routes_without_authorizer():
    from oms_local.template import Template

    assert {scope for scope in ROUTES.values() if scope not in SCOPES} == {PUBLIC}
    unauthorized = {
        (str(t.properties["Method"]).upper(), t.properties["Path"])
        for f in Template().functions()
        for t in f.triggers
        if t.type == "Api" and t.properties.get("Auth", {}).get("Authorizer") == "NONE"
    }
    public = {route for route, scope in ROUTES.items() if scope == PUBLIC}
    assert public and public <= unauthorized, (
        "a route the API function calls public sits behind the authorizer"
    )


def test_an_admin_holds_every_scope_and_a_viewer_only_reads():
    assert ROLES["admin"] == set(SCOPES)
    assert ROLES["viewer"] and all(scope.endswith(":read") for scope in ROLES["viewer"])
    writes_a_viewer_may_send = [r for r in ROUTES if r[0] != "GET" and ROUTES[r] in ROLES["viewer"]]
    assert writes_a_viewer_may_send == [("POST", "/rules/test"), ("POST", "/rules/{ruleId}/test")]  # dry runs


def test_a_warehouse_ships_prints_receives_counts_and_adjusts_but_never_changes_settings_or_keys():
    warehouse = ROLES["warehouse"]
    for route in [
        ("POST", "/orders/{orderId}/shipments"),
        ("POST", "/batches"),
        ("POST", "/returns/{returnId}/receipts"),
        ("PUT", "/audits/{auditId}/counts"),
        ("POST", "/inventory/{sku}/adjustments"),
        ("GET", "/orders"),
        ("GET", "/settings/shipping"),
        ("POST", "/purchase-orders/{poId}/receipts"),
    ]:
        assert ROUTES[route] in warehouse, route
    for route in [
        ("PATCH", "/settings/shipping"),
        ("PUT", "/settings/shipping"),
        ("POST", "/api-keys"),
        ("DELETE", "/api-keys/{keyId}"),
        ("POST", "/returns/{returnId}/refund"),
        ("POST", "/rules"),
        ("POST", "/purchase-orders"),
    ]:
        assert ROUTES[route] not in warehouse, route
    assert "integrations:write" not in warehouse and "webhooks:write" not in warehouse


def test_a_caller_is_read_from_the_authorizers_context():
    key = caller_of(
        {
            "requestContext": {
                "authorizer": {
                    "principalId": "key:key_1",
                    "kind": "key",
                    "name": "3PL",
                    "scopes": "orders:read shipping:write bogus",
                }
            }
        }
    )
    assert key is not None and key.scopes == {"orders:read", "shipping:write"} and key.label == "3PL"
    user = caller_of(
        {
            "requestContext": {
                "authorizer": {
                    "principalId": "user:u-1",
                    "kind": "user",
                    "email": "packer@example.com",
                    "groups": "warehouse",
                }
            }
        }
    )
    assert user is not None and user.may("shipping:write") and not user.may("settings:write")
    cognito = caller_of(
        {"requestContext": {"authorizer": {"claims": {"sub": "u-2", "cognito:groups": "viewer"}}}}
    )
    assert cognito is not None and cognito.scopes == ROLES["viewer"]
    assert caller_of({"requestContext": {}}) is None
    assert scopes_of_groups(["nobody"]) == set()


def test_openapi_names_every_operations_scope_and_roles():
    spec = json.loads(openapi_json())
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            scope = ROUTES[(method.upper(), path)]
            assert operation["x-required-scope"] == scope
            assert operation["x-roles"] == roles_with(scope)
            assert ("403" in operation["responses"]) == (scope != PUBLIC)
    assert spec["x-scopes"] == SCOPES
    assert roles_with("settings:write") == ["admin"]


def test_a_route_missing_from_the_table_is_refused_even_to_an_admin_and_an_unknown_path_is_404():
    from oms.api.app import build_app
    from tests.conftest import LambdaContext, load_event

    fresh = build_app()

    @fresh.get("/undeclared")
    def undeclared() -> dict:
        return {"leaked": True}

    event = load_event("api/list_orders.json") | {"path": "/undeclared"}
    answer = fresh.resolve(event, LambdaContext())
    assert answer["statusCode"] == 403 and "no permission declared" in answer["body"]
    answer = fresh.resolve(event | {"path": "/nowhere"}, LambdaContext())
    assert answer["statusCode"] == 404
