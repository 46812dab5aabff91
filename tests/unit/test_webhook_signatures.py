"""Each scheme's signature: a good delivery passes; a tampered body, a wrong key, a stale or future time,
a rotated-out key are refused; during a rotation both keys pass; the spec's own example verifies."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from oms.integrations.records import derive_key, valid_keys
from oms.integrations.signatures import Scheme, key_of_secret, shown_secret, sign, verify

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
BODY = b'{"trackingNumber": "1Z999AA10123456784", "carrier": "UPS", "status": "delivered"}'


@pytest.mark.parametrize("scheme", list(Scheme))
def test_a_delivery_signed_with_the_key_passes_and_names_its_delivery(scheme):
    headers = sign(scheme, KEY, BODY, delivery_id="msg_1", sent_at=NOW - timedelta(seconds=30))
    verdict = verify(scheme, [KEY], headers, BODY, NOW)
    assert verdict.accepted and verdict.delivery_id == "msg_1"


@pytest.mark.parametrize("scheme", list(Scheme))
def test_a_tampered_body_or_another_key_is_refused(scheme):
    headers = sign(scheme, KEY, BODY, delivery_id="msg_1", sent_at=NOW)
    assert not verify(scheme, [KEY], headers, BODY.replace(b"delivered", b"exception"), NOW).signed
    assert not verify(scheme, [OTHER_KEY], headers, BODY, NOW).signed
    assert not verify(scheme, [], headers, BODY, NOW).signed


@pytest.mark.parametrize("scheme", list(Scheme))
def test_headers_in_any_case_are_read(scheme):
    headers = {k.upper(): v for k, v in sign(scheme, KEY, BODY, delivery_id="d-7", sent_at=NOW).items()}
    assert verify(scheme, [KEY], headers, BODY, NOW).accepted


@pytest.mark.parametrize("scheme", [Scheme.STANDARD_WEBHOOKS, Scheme.SHOPIFY])
@pytest.mark.parametrize("off", [timedelta(minutes=5, seconds=1), -timedelta(minutes=5, seconds=1)])
def test_a_time_more_than_five_minutes_away_is_stale(scheme, off):
    headers = sign(scheme, KEY, BODY, delivery_id="msg_1", sent_at=NOW + off)
    verdict = verify(scheme, [KEY], headers, BODY, NOW)
    assert verdict.signed and not verdict.fresh and not verdict.accepted
    just_inside = sign(scheme, KEY, BODY, delivery_id="msg_1", sent_at=NOW - timedelta(minutes=4, seconds=59))
    assert verify(scheme, [KEY], just_inside, BODY, NOW).accepted


def test_a_standard_webhook_time_is_signed_so_moving_it_breaks_the_signature():
    headers = sign(Scheme.STANDARD_WEBHOOKS, KEY, BODY, delivery_id="msg_1", sent_at=NOW - timedelta(hours=1))
    headers["webhook-timestamp"] = str(int(NOW.timestamp()))
    assert not verify(Scheme.STANDARD_WEBHOOKS, [KEY], headers, BODY, NOW).signed


def test_a_standard_webhook_without_a_time_or_an_id_is_refused():
    headers = sign(Scheme.STANDARD_WEBHOOKS, KEY, BODY, delivery_id="msg_1", sent_at=NOW)
    assert not verify(
        Scheme.STANDARD_WEBHOOKS, [KEY], {**headers, "webhook-timestamp": ""}, BODY, NOW
    ).accepted
    assert not verify(Scheme.STANDARD_WEBHOOKS, [KEY], {**headers, "webhook-id": ""}, BODY, NOW).accepted


def test_the_standard_webhooks_specs_example_verifies():
    """The example of the Standard Webhooks specification (its secret, id, time, body and signature)."""
    key = key_of_secret(Scheme.STANDARD_WEBHOOKS, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    sent = datetime.fromtimestamp(1614265330, UTC)
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    assert verify(Scheme.STANDARD_WEBHOOKS, [key], headers, b'{"test": 2432232314}', sent).accepted


def test_several_standard_signatures_pass_when_one_matches():
    mine = sign(Scheme.STANDARD_WEBHOOKS, KEY, BODY, delivery_id="msg_1", sent_at=NOW)["webhook-signature"]
    theirs = sign(Scheme.STANDARD_WEBHOOKS, OTHER_KEY, BODY, delivery_id="msg_1", sent_at=NOW)
    theirs["webhook-signature"] = f"{theirs['webhook-signature']} v1a,ignored {mine}"
    assert verify(Scheme.STANDARD_WEBHOOKS, [KEY], theirs, BODY, NOW).accepted


def test_shopify_and_github_key_by_the_secrets_text_as_their_senders_do():
    secret = shown_secret(Scheme.GITHUB, KEY)
    import hashlib
    import hmac

    expected = hmac.new(secret.encode(), BODY, hashlib.sha256)
    assert sign(Scheme.GITHUB, KEY, BODY, delivery_id="d", sent_at=NOW)["X-Hub-Signature-256"] == (
        "sha256=" + expected.hexdigest()
    )
    assert sign(Scheme.SHOPIFY, KEY, BODY, delivery_id="d", sent_at=NOW)["X-Shopify-Hmac-Sha256"] == (
        base64.b64encode(expected.digest()).decode()
    )
    assert key_of_secret(Scheme.GITHUB, secret) == KEY


def test_a_delivery_without_an_id_is_known_by_its_body():
    headers = sign(Scheme.GITHUB, KEY, BODY, delivery_id="", sent_at=NOW)
    again = verify(Scheme.GITHUB, [KEY], headers, BODY, NOW)
    assert again.accepted and again.delivery_id.startswith("sha256:")
    assert again.delivery_id == verify(Scheme.GITHUB, [KEY], headers, BODY, NOW).delivery_id


def test_after_a_rotation_both_secrets_pass_for_24_hours_then_only_the_new_one():
    master = b"master"
    item = {
        "integrationId": "int_0123456789abcdef",
        "salt": "new",
        "previousSalt": "old",
        "previousValidUntil": (NOW + timedelta(hours=24)).isoformat(),
    }
    old, new = (
        derive_key(master, item["integrationId"], "old"),
        derive_key(master, item["integrationId"], "new"),
    )
    signed_old = sign(Scheme.STANDARD_WEBHOOKS, old, BODY, delivery_id="m", sent_at=NOW)
    signed_new = sign(Scheme.STANDARD_WEBHOOKS, new, BODY, delivery_id="m", sent_at=NOW)
    assert verify(Scheme.STANDARD_WEBHOOKS, valid_keys(master, item, NOW), signed_old, BODY, NOW).accepted
    assert verify(Scheme.STANDARD_WEBHOOKS, valid_keys(master, item, NOW), signed_new, BODY, NOW).accepted
    later = NOW + timedelta(hours=24, seconds=1)
    signed_old = sign(Scheme.STANDARD_WEBHOOKS, old, BODY, delivery_id="m", sent_at=later)
    assert not verify(
        Scheme.STANDARD_WEBHOOKS, valid_keys(master, item, later), signed_old, BODY, later
    ).signed


def test_keys_differ_per_integration_and_salt_and_need_the_master_key():
    assert derive_key(b"m", "int_a", "s") != derive_key(b"m", "int_b", "s")
    assert derive_key(b"m", "int_a", "s") != derive_key(b"m", "int_a", "t")
    assert derive_key(b"m", "int_a", "s") != derive_key(b"n", "int_a", "s")
