"""Buyers writing to the seller in the local marketplace: raw mail as Amazon's relay sends it and SES stores
it, read by the product's own parser; `oms simulate message`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from oms.care.mail import parse_buyer_mail
from oms_local.simulator import ApiError, Simulator, SimulatorConfig
from oms_local.simulator.buyer_mail import INTENTS
from oms_local.simulator.catalogue import builtin_catalogue
from oms_tools.cli import main


@pytest.fixture
def mailbox() -> list[bytes]:
    return []


@pytest.fixture
def simulator(mailbox: list[bytes]) -> Iterator[Simulator]:
    config = SimulatorConfig(duplicate_probability=0.0, delay_probability=0.0, seed=7)
    with Simulator(config, notify=lambda _: None, catalogue=builtin_catalogue()) as running:
        running.marketplace.deliver_mail = mailbox.append
        yield running


@pytest.mark.parametrize("intent", sorted(INTENTS))
def test_each_intent_is_a_mail_the_product_reads_as_a_buyer_s_message_on_its_order(
    simulator, mailbox, intent
):
    market = simulator.marketplace
    order_id = market.place_order([("85123A", 1)], afn=False)

    answer = market.write_to_seller(order_id, intent)

    (raw,) = mailbox
    mail = parse_buyer_mail(raw)
    assert mail.order_id == order_id and answer["orderId"] == order_id
    assert mail.buyer_alias == answer["from"] and mail.buyer_alias.endswith("@marketplace.amazon.com")
    assert mail.text and "Begin message" not in mail.text and "Order ID" not in mail.text
    assert mail.message_id == answer["messageId"]
    assert len(mail.attachments) == (1 if intent == "damaged" else 0)


def test_a_buyer_keeps_one_alias_across_messages_and_a_likely_intent_is_chosen(simulator, mailbox):
    market = simulator.marketplace
    order_id = market.place_order([("85123A", 1)], afn=False)
    first = market.write_to_seller(order_id)
    second = market.write_to_seller(order_id)
    assert first["from"] == second["from"]
    assert first["messageId"] != second["messageId"]
    assert first["intent"] in ("question", "cancel", "where-is-my-order")  # not shipped yet
    assert len(mailbox) == 2


def test_an_unknown_order_or_intent_is_refused(simulator):
    with pytest.raises(ApiError) as unknown:
        simulator.marketplace.write_to_seller("111-0000000-0000000")
    assert unknown.value.status == 404
    order_id = simulator.marketplace.place_order([("85123A", 1)], afn=False)
    with pytest.raises(ApiError):
        simulator.marketplace.write_to_seller(order_id, "complaint")


def test_oms_simulate_message_writes_now(simulator, mailbox, tmp_path: Path):
    (tmp_path / "outputs.json").write_text(json.dumps(simulator.outputs()))
    order_id = simulator.marketplace.place_order([("85123A", 1)], afn=False)
    made = CliRunner().invoke(
        main, ["simulate", "message", "--order", order_id, "--intent", "cancel", "--state-dir", str(tmp_path)]
    )
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["intent"] == "cancel"
    assert parse_buyer_mail(mailbox[0]).text.startswith("Please cancel my order")
