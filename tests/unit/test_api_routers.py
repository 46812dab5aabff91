"""The API answers each request with a resolver holding only the routers its path's first segment needs
(oms.api.app.SEGMENTS): that table must name, for every route of the whole app, the router that holds it,
and the cold start must load no router and no PDF library."""

from __future__ import annotations

import importlib
import subprocess
import sys

from oms.api import app as api_app


def _routes_of(resolver) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(r.method.upper(), r.openapi_path) for r in resolver._static_routes + resolver._dynamic_routes}


def test_every_route_is_served_by_its_segments_resolver() -> None:
    whole = _routes_of(api_app.app)
    assert whole, "the whole app has routes"
    for method, path in whole:
        segment = api_app.segment_of(path)
        assert segment in api_app.SEGMENTS, f"{method} {path}: no routers listed for /{segment}"
        assert (method, path) in _routes_of(api_app.app_for(segment)), f"{method} {path} not in /{segment}"


def test_segments_name_only_routers_serving_them() -> None:
    for segment, routers in api_app.SEGMENTS.items():
        assert set(routers) <= set(api_app.ROUTERS)
        for name in routers:
            router = importlib.import_module(f"oms.api.{name}").router
            served = {rule.strip("/").split("/")[0] for rule, *_ in router._routes}
            assert segment in served, f"oms.api.{name} serves no /{segment} route"


def test_partial_resolvers_together_hold_exactly_the_whole_app() -> None:
    together: set[tuple[str, str]] = set()
    for segment in api_app.SEGMENTS:
        together |= {r for r in _routes_of(api_app.app_for(segment)) if api_app.segment_of(r[1]) == segment}
    assert together == _routes_of(api_app.app)


def test_an_unknown_segment_is_answered_404_in_the_apis_format() -> None:
    event = {
        "httpMethod": "GET",
        "path": "/no-such-thing",
        "resource": "/{proxy+}",
        "headers": {},
        "requestContext": {"authorizer": {}, "requestId": "r"},
        "body": None,
    }
    answer = api_app.handle(event, None)
    assert answer["statusCode"] == 404


def test_the_cold_start_loads_no_router_and_no_pdf_library() -> None:
    probe = (
        "import sys, oms.api.app\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('fpdf', 'fontTools', 'oms.api.orders', "
        "'oms.shipping', 'jwt', 'cryptography')))\n"
        "print(loaded)\n"
        "import oms.api.orders\n"  # an order route: orders and their views, still no PDF library
        "print(sorted(m for m in sys.modules if m.startswith(('fpdf', 'fontTools'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    first, after_orders = done.stdout.strip().splitlines()
    assert first == "[]"
    assert after_orders == "[]"
