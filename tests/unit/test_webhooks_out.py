"""Webhooks out, the pure parts: signatures any Standard Webhooks verifier accepts, the retry schedule, and
the SSRF guard (at subscription and at send time)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from oms.webhooks import schedule
from oms.webhooks.sender import post
from oms.webhooks.signing import new_secret, signed_headers
from oms.webhooks.targets import RefusedTarget, check_url, resolve_target

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
BODY = json.dumps({"type": "OrderReceived", "data": {"orderId": "113-1"}}).encode()


# --- signing ------------------------------------------------------------------------------------------


def test_a_delivery_verifies_with_the_library_verifier_and_fails_when_tampered(time_machine):
    time_machine.move_to(NOW)
    secret = new_secret()
    headers = signed_headers("msg_1", NOW, BODY, [secret])

    assert secret.startswith("whsec_")
    assert Webhook(secret).verify(BODY, headers) == {"type": "OrderReceived", "data": {"orderId": "113-1"}}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"113-1", b"113-2"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):  # the id is signed too
        Webhook(secret).verify(BODY, {**headers, "webhook-id": "msg_2"})


def test_after_a_rotation_both_secrets_verify_the_same_delivery(time_machine):
    time_machine.move_to(NOW)
    old, new = new_secret(), new_secret()
    headers = signed_headers("msg_1", NOW, BODY, [new, old])

    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old).verify(BODY, headers)
    assert Webhook(new).verify(BODY, headers)


def test_a_stale_delivery_does_not_verify(time_machine):
    time_machine.move_to(NOW + timedelta(minutes=6))
    secret = new_secret()
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, signed_headers("msg_1", NOW, BODY, [secret]))


# --- the retry schedule ---------------------------------------------------------------------------------


def test_retries_follow_the_schedule_with_at_most_ten_percent_jitter():
    rng = random.Random(7)
    expected = [
        timedelta(0),
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=10),
        timedelta(hours=24),
    ]
    for made in range(1, 8):
        at = schedule.next_attempt_at(made, NOW, rng)
        assert at is not None
        delay = at - NOW
        assert expected[made] <= delay <= expected[made] * 1.1, made


def test_jitter_spreads_retries_of_many_deliveries():
    rng = random.Random(1)
    delays = {schedule.next_attempt_at(3, NOW, rng) for _ in range(20)}
    assert len(delays) == 20


def test_after_eight_attempts_there_is_no_retry():
    assert schedule.ATTEMPTS == 8
    assert schedule.next_attempt_at(8, NOW) is None


# --- the SSRF guard -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/in",  # plain http to a public host
        "https://10.0.0.5/in",
        "https://192.168.1.10/in",
        "https://172.16.0.1/in",
        "https://169.254.169.254/latest/meta-data",  # the instance metadata service (link-local)
        "https://[fe80::1]/in",
        "https://[::ffff:10.0.0.1]/in",  # a private IPv4 address written as IPv6
        "https://127.0.0.1/in",
        "https://localhost:8443/in",
        "https://0.0.0.0/in",
        "https://user:pw@hooks.example.com/in",
        "ftp://hooks.example.com/in",
        "https:///nohost",
    ],
)
def test_urls_refused_when_deployed(url):
    with pytest.raises(RefusedTarget):
        check_url(url, allow_loopback=False)


def test_public_https_and_local_loopback_accepted():
    assert check_url("https://hooks.example.com/in", allow_loopback=False)
    assert check_url("https://93.184.215.14:8443/in?x=1", allow_loopback=False)
    assert check_url("http://127.0.0.1:9000/in", allow_loopback=True)
    assert check_url("http://localhost:9000/in", allow_loopback=True)
    with pytest.raises(RefusedTarget):  # loopback allowed does not open private networks
        check_url("http://10.0.0.5/in", allow_loopback=True)


def test_203_0_113_is_documentation_space_and_refused():
    with pytest.raises(RefusedTarget):
        check_url("https://203.0.113.9/in", allow_loopback=False)


def test_a_name_is_checked_on_every_address_it_resolves_to():
    public = "93.184.215.14"
    assert (
        resolve_target("hooks.example.com", 443, allow_loopback=False, resolve=lambda h, p: [public])
        == public
    )
    for addresses in (["10.1.2.3"], [public, "127.0.0.1"], ["::1"], ["169.254.10.1"], []):
        with pytest.raises(RefusedTarget):
            resolve_target(
                "hooks.example.com", 443, allow_loopback=False, resolve=lambda h, p, a=addresses: a
            )


def test_a_send_to_a_name_that_now_resolves_privately_is_refused_without_connecting():
    connected = []

    def resolve(host, port):
        connected.append(host)
        return ["10.0.0.7"]  # the name was public when subscribed; DNS now points inside

    outcome = post("https://hooks.example.com/in", BODY, {}, timeout=1, allow_loopback=False, resolve=resolve)

    assert connected == ["hooks.example.com"]
    assert outcome.status_code is None and not outcome.delivered
    assert outcome.error is not None and outcome.error.startswith("refused: 10.0.0.7 is not a public address")


def test_the_receiver_example_in_the_docs_verifies_a_delivery(time_machine):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "webhook_receiver.py"
    spec = importlib.util.spec_from_file_location("webhook_receiver_example", path)
    assert spec and spec.loader
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    time_machine.move_to(NOW)
    secret = new_secret()
    headers = signed_headers("msg_1", NOW, BODY, [secret])

    assert example.verify(BODY, headers, secret)["data"] == {"orderId": "113-1"}
    assert example.verify(BODY + b" ", headers, secret) is None
    assert example.verify(BODY, headers, new_secret()) is None


def test_a_package_confirmed_to_amazon_is_announced_once_however_many_attempts_it_took():
    from oms.events import events_from_change

    package = {
        "entity": "Shipment",
        "orderId": "113-1",
        "shipmentId": "2",
        "carrier": "Other",
        "carrierName": "Royal Mail",
        "trackingNumber": "AB123456789GB",
        "shipDate": "2026-11-24T15:00:00Z",
        "items": [{"orderItemId": "9", "sku": "MUG", "quantity": 1}],
        "confirmation": {"status": "pending", "attempts": 0},
    }
    retrying = {**package, "confirmation": {"status": "retrying", "attempts": 1}}
    confirmed = {
        **package,
        "confirmation": {"status": "confirmed", "attempts": 2, "confirmedAt": "2026-11-24T15:09:00Z"},
    }
    changes = [
        (None, package),
        (package, retrying),
        (retrying, confirmed),
        (confirmed, {**confirmed, "labelKey": "k"}),
    ]

    found = [e for old, new in changes for e in events_from_change(old, new, event_id="r", occurred_at=NOW)]

    assert [e.detail_type for e in found] == ["ShipmentConfirmed"]
    assert (
        found[0].data["carrierName"] == "Royal Mail"
        and found[0].data["confirmedAt"] == "2026-11-24T15:09:00Z"
    )
