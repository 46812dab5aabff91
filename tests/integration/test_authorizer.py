"""The API's authorizer against the table in moto: a Cognito token verified against a user pool's keys (a test
RSA key served as JWKS on loopback) and API keys found by their hash; then the API function enforcing the
route's scope with what the authorizer passed, as API Gateway hands it on."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric import rsa

from oms.access.api_keys import ApiKeyStore, secret_hash
from oms.access.authorizer import Unauthorized, authorize, bearer, whole_api
from oms.access.tokens import CognitoTokens, InvalidToken, cognito_issuer, is_user_pool_id
from oms.amazon.notifications import Notification
from oms.api.permissions import ROLES
from oms.inventory.stock import StockPolicy, adjust_stock, set_policy
from oms.orders.intake import apply_change, change_from_notification
from oms.store import keys
from oms.store.default import default_table
from tests.api_calls import call_api
from tests.builders import WAREHOUSE_SETTINGS, order_change
from tests.conftest import load_event

ISSUER = cognito_issuer("us-east-1", "us-east-1_TestPool")
CLIENT_ID = "dashboard-client"
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/GET/orders"


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url(signing_key: rsa.RSAPrivateKey) -> Iterator[str]:
    """The user pool's published keys, as Cognito serves them at .well-known/jwks.json."""
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key()))
    body = json.dumps({"keys": [{**public, "kid": "test-kid", "alg": "RS256", "use": "sig"}]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()


def _token(key: rsa.RSAPrivateKey, **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": "u-packer",
        "email": "packer@example.com",
        "cognito:groups": ["warehouse"],
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "token_use": "id",
        "iat": now,
        "exp": now + 3600,
    } | changes
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "test-kid"})


def _event(token: str) -> dict[str, Any]:
    return {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": METHOD_ARN}


@pytest.fixture
def users(jwks_url: str) -> CognitoTokens:
    return CognitoTokens(ISSUER, CLIENT_ID, jwks_url)


def test_a_users_token_passes_who_they_are_and_their_groups_for_the_whole_api(stack, users, signing_key):
    answer = authorize(_event(_token(signing_key)), users, ApiKeyStore(default_table()))
    assert answer["principalId"] == "user:u-packer"
    assert answer["context"] == {
        "kind": "user",
        "sub": "u-packer",
        "email": "packer@example.com",
        "groups": "warehouse",
    }
    (statement,) = answer["policyDocument"]["Statement"]
    assert statement == {
        "Action": "execute-api:Invoke",
        "Effect": "Allow",
        "Resource": "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/*",
    }


def test_a_token_issued_a_few_seconds_ahead_of_this_clock_passes(stack, users, signing_key):
    now = int(time.time())
    token = _token(signing_key, iat=now + 5, exp=now + 3605)
    assert authorize(_event(token), users, ApiKeyStore(default_table()))["principalId"] == "user:u-packer"


def test_an_access_token_of_the_dashboards_client_passes(stack, users, signing_key):
    token = _token(signing_key, token_use="access", aud=None, client_id=CLIENT_ID)
    assert authorize(_event(token), users, ApiKeyStore(default_table()))["context"]["groups"] == "warehouse"


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": 0},  # expired a minute ago: set in the test (the clock is frozen after collection)
        {"iat": 0},  # issued a minute from now: set in the test
        {"aud": "another-client"},
        {"iss": cognito_issuer("us-east-1", "us-east-1_OtherPool")},
        {"token_use": "refresh"},
        {"token_use": "access", "aud": None, "client_id": "another-client"},
        {"exp": None},
    ],
    ids=[
        "expired",
        "issued-in-the-future",
        "wrong-audience",
        "wrong-issuer",
        "wrong-token-use",
        "access-wrong-client",
        "no-expiry",
    ],
)
def test_a_token_that_is_not_this_pools_for_this_client_is_refused(stack, users, signing_key, changes):
    now = int(time.time())
    if changes.get("exp") == 0:
        changes = {"exp": now - 60, "iat": now - 3660}
    if changes.get("iat") == 0:
        changes = {"iat": now + 60}
    with pytest.raises(Unauthorized, match=r"^Unauthorized$"):
        authorize(_event(_token(signing_key, **changes)), users, ApiKeyStore(default_table()))


def test_a_token_signed_by_another_key_or_unsigned_is_refused(stack, users, signing_key):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    unsigned = jwt.encode(
        {
            "sub": "u-1",
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "token_use": "id",
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
        },
        None,
        algorithm="none",
        headers={"kid": "test-kid"},
    )
    for token in (_token(stranger), unsigned, _token(signing_key)[:-4] + "AAAA"):
        with pytest.raises(Unauthorized):
            authorize(_event(token), users, ApiKeyStore(default_table()))


def test_a_key_passes_its_scopes_notes_its_use_once_a_minute_and_stops_when_revoked(stack):
    store = ApiKeyStore(default_table())
    made = store.create("3PL", ["orders:read", "shipping:write"])
    assert made.key.startswith("oms_live_") and len(made.key) > 40
    answer = authorize(_event(made.key), None, store)
    assert answer["principalId"] == f"key:{made.key_id}"
    assert answer["context"] == {"kind": "key", "name": "3PL", "scopes": "orders:read shipping:write"}
    first_use = store.get(made.key_id).last_used_at
    assert first_use is not None
    with time_machine.travel(time.time() + 30):
        authorize(_event(made.key), None, store)
        assert store.get(made.key_id).last_used_at == first_use  # within the minute: not written again
    with time_machine.travel(time.time() + 61):
        authorize(_event(made.key), None, store)
        assert store.get(made.key_id).last_used_at > first_use
    store.revoke(made.key_id)
    with pytest.raises(Unauthorized):
        authorize(_event(made.key), None, store)
    assert store.revoke(made.key_id).revoked_at  # revoking again changes nothing


def test_the_secret_is_kept_only_as_its_hash(stack):
    made = ApiKeyStore(default_table()).create("accounting", ["reports:read"])
    items = stack.client("dynamodb").scan(TableName=stack.table_name)["Items"]
    assert made.key not in json.dumps(items)
    assert default_table().get(keys.api_key_lookup_key(secret_hash(made.key)))["keyId"] == made.key_id


@pytest.mark.parametrize(
    "header", ["", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer oms_live_unknown", "Bearer a.b.c"]
)
def test_no_token_an_unknown_key_or_a_users_token_without_a_pool_is_refused(stack, header):
    with pytest.raises(Unauthorized):
        authorize({"authorizationToken": header, "methodArn": METHOD_ARN}, None, ApiKeyStore(default_table()))


def test_bearer_and_whole_api():
    assert bearer("bearer  tok ") == "tok" and bearer("tok") == "" and bearer(None) == ""
    assert whole_api("arn:aws:execute-api:eu-west-1:1:api/prod/POST/orders/1/shipments") == (
        "arn:aws:execute-api:eu-west-1:1:api/prod/*"
    )


def _as_api_gateway_passes(answer: dict[str, Any]) -> dict[str, Any]:
    """What API Gateway puts in requestContext.authorizer: the principal and the context, as strings."""
    return {"principalId": answer["principalId"], "integrationLatency": 3, **answer["context"]}


def test_a_warehouse_key_ships_an_order_but_cannot_change_settings(stack, context):
    """Made by an admin through the API, the key goes through the authorizer to the API function."""
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200
    status, made = call_api(
        stack, context, "POST", "/api-keys", {"name": "Packing bench", "scopes": sorted(ROLES["warehouse"])}
    )
    assert status == 201, made
    passed = _as_api_gateway_passes(authorize(_event(made["key"]), None, ApiKeyStore(default_table())))

    status, answer = call_api(
        stack, context, "PATCH", "/settings/shipping", {"sellerName": "Someone"}, authorizer=passed
    )
    assert status == 403, answer
    assert answer["error"]["code"] == "Forbidden" and "settings:write" in answer["error"]["message"]
    assert answer["error"]["details"] == [{"field": "scope", "message": "settings:write is required"}]
    assert call_api(stack, context, "GET", "/settings/shipping")[1]["sellerName"] != "Someone"
    assert (
        call_api(
            stack, context, "POST", "/api-keys", {"name": "x", "scopes": ["orders:read"]}, authorizer=passed
        )[0]
        == 403
    )

    set_policy(default_table(), "MUG-RED", StockPolicy())
    adjust_stock(default_table(), "MUG-RED", 5, reason="receipt", reference="po-1", actor="test")
    document = order_change("113-0000000-0000001", "Unshipped", [("MUG-RED", 2, 0)], at=datetime.now(UTC))
    apply_change(default_table(), change_from_notification(Notification.model_validate(document)))
    status, answer = call_api(
        stack,
        context,
        "POST",
        "/orders/113-0000000-0000001/shipments",
        {"carrier": "UPS", "trackingNumber": "1Z999AA10123456784"},
        authorizer=passed,
    )
    assert status == 201, answer
    assert call_api(stack, context, "GET", "/orders/113-0000000-0000001")[1]["shipments"][0][
        "trackingNumber"
    ] == ("1Z999AA10123456784")


def test_a_viewer_reads_but_cannot_ship(stack, context):
    viewer = {"sub": "u-viewer", "email": "viewer@example.com", "groups": "viewer"}
    assert call_api(stack, context, "GET", "/orders", claims=viewer)[0] == 200
    status, answer = call_api(
        stack,
        context,
        "POST",
        "/orders/111-0000000-0000000/shipments",
        {"carrier": "UPS", "trackingNumber": "1Z999AA10123456784"},
        claims=viewer,
    )
    assert status == 403 and "shipping:write" in answer["error"]["message"]
    assert "warehouse" in answer["error"]["message"]  # the roles that hold it
    nobody = {"sub": "u-new", "email": "new@example.com", "groups": ""}
    status, answer = call_api(stack, context, "GET", "/orders", claims=nobody)
    assert status == 403 and "in no group" in answer["error"]["message"]
    assert call_api(stack, context, "GET", "/health", authorizer={})[0] == 200


def test_the_function_answers_its_sample_event_once_the_key_exists(stack, context):
    """functions/access/authorize/app.py as Lambda runs it, with the template's environment (no Cognito
    client parameter read: an API key never waits for it)."""
    event = load_event("authorize/api_key.json")
    handler = stack.handler("authorize")
    with pytest.raises(Unauthorized):
        handler.lambda_handler(event, context)
    made = ApiKeyStore(default_table()).create(
        "sample", ["orders:read"], secret=bearer(event["authorizationToken"])
    )
    answer = handler.lambda_handler(event, context)
    assert answer["principalId"] == f"key:{made.key_id}" and answer["context"]["scopes"] == "orders:read"
    assert handler.users is None  # the local stand-in pool is no Cognito pool: no user token is verified here


def test_only_a_cognito_pool_id_gets_a_verifier():
    assert is_user_pool_id("us-east-1_AbC123xyz") and is_user_pool_id("eu-central-1_x9")
    assert not is_user_pool_id("oms-test-UserPool") and not is_user_pool_id("")


def test_each_refusal_is_for_its_own_reason(users, signing_key):
    """The reasons go to the log only; here they show each check refuses what it should, not another."""
    now = int(time.time())
    reasons = {
        "ExpiredSignatureError": _token(signing_key, exp=now - 60, iat=now - 3660),
        "ImmatureSignatureError": _token(signing_key, iat=now + 60),
        "another app client": _token(signing_key, aud="another-client"),
        "InvalidIssuerError": _token(signing_key, iss=cognito_issuer("us-east-1", "us-east-1_OtherPool")),
        "neither id nor access": _token(signing_key, token_use="refresh"),
        "MissingRequiredClaimError": _token(signing_key, exp=None),
    }
    for reason, token in reasons.items():
        with pytest.raises(InvalidToken, match=reason):
            users.verify(token)
