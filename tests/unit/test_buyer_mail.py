"""A buyer's mail read as Amazon relays it: the order, the buyer's alias, their new words; bad mail named."""

from __future__ import annotations

import pytest

from oms.care.mail import MAX_MAIL_BYTES, BadMail, parse_buyer_mail, strip_quoted, thread_id_for
from tests.buyer_mail import ALIAS, ORDER_ID, amazon_mail


def test_a_buyer_s_mail_gives_the_order_the_alias_and_only_the_buyer_s_words():
    mail = parse_buyer_mail(amazon_mail("Where is my order?\nIt has not arrived."))
    assert mail.order_id == ORDER_ID
    assert mail.buyer_alias == ALIAS
    assert mail.buyer_name == "Jane - Amazon Marketplace"
    assert mail.text == "Where is my order?\nIt has not arrived."  # Amazon's markers and footer left out
    assert mail.message_id == "<0100018c-buyer-1@marketplace.amazon.com>"
    assert mail.attachments == ()


def test_a_reply_loses_the_quoted_history():
    mail = parse_buyer_mail(
        amazon_mail("Thanks, and when will it ship?", quoted="We are sorry for the delay.")
    )
    assert mail.text == "Thanks, and when will it ship?"


@pytest.mark.parametrize(
    "text, kept",
    [
        ("Fine.\n-----Original Message-----\nFrom: seller", "Fine."),
        ("Fine.\n\n> earlier\n> text", "Fine."),
        ("Fine.\n________________\nFrom: Seller", "Fine."),
        ("No history at all\nsecond line", "No history at all\nsecond line"),
    ],
)
def test_quoted_history_is_cut_at_its_first_marker(text, kept):
    assert strip_quoted(text) == kept


def test_an_html_only_mail_is_read_as_text():
    mail = parse_buyer_mail(amazon_mail("Is it <b>red</b>? &amp; big?", html=True))
    assert "Is it red? & big?" in mail.text
    assert "<" not in mail.text


def test_a_photo_is_kept_as_an_attachment():
    mail = parse_buyer_mail(amazon_mail("Arrived broken", photo=b"\xff\xd8jpeg\xff\xd9"))
    (photo,) = mail.attachments
    assert (photo.filename, photo.content_type, photo.content) == (
        "damaged.jpg",
        "image/jpeg",
        b"\xff\xd8jpeg\xff\xd9",
    )


def test_the_order_id_may_be_in_the_text_only():
    mail = parse_buyer_mail(amazon_mail("About 113-7654321-1234567 please", subject="A question"))
    assert mail.order_id == "113-7654321-1234567"


@pytest.mark.parametrize(
    "tld",
    [
        "marketplace.amazon.com",
        "marketplace.amazon.co.uk",
        "marketplace.amazon.de",
        "marketplace.amazon.com.mx",
    ],
)
def test_every_marketplace_s_relay_is_amazon(tld):
    assert parse_buyer_mail(amazon_mail(sender=f"abc@{tld}")).buyer_alias == f"abc@{tld}"


@pytest.mark.parametrize(
    "raw, reason",
    [
        (amazon_mail(sender="jane@example.com"), "not-from-amazon"),
        (amazon_mail(sender="abc@marketplace.amazon.com.evil.example"), "not-from-amazon"),
        (amazon_mail(sender="abc@notmarketplace.amazon.com"), "not-from-amazon"),
        (amazon_mail(headers={"X-SES-Virus-Verdict": "FAIL"}), "not-from-amazon"),
        (amazon_mail(headers={"X-SES-Spam-Verdict": "FAIL"}), "not-from-amazon"),
        (amazon_mail("no id here", subject="Hello", order_id="none"), "no-order-id"),
        (b"this is not mail at all", "malformed"),
        (b"", "malformed"),
        (amazon_mail(sender="nobody"), "not-from-amazon"),
        (b"Subject: Order 112-1234567-7654321\r\n\r\nno sender", "malformed"),
        (amazon_mail() + b"x" * MAX_MAIL_BYTES, "oversized"),
    ],
)
def test_mail_that_cannot_be_a_buyer_s_message_says_why(raw, reason):
    with pytest.raises(BadMail) as bad:
        parse_buyer_mail(raw)
    assert bad.value.reason == reason


def test_one_thread_per_order_and_buyer_alias():
    assert thread_id_for(ORDER_ID, ALIAS) == thread_id_for(ORDER_ID, ALIAS.upper())
    assert thread_id_for(ORDER_ID, ALIAS) != thread_id_for(ORDER_ID, "other@marketplace.amazon.com")
    assert thread_id_for(ORDER_ID, ALIAS) != thread_id_for("112-0000000-0000000", ALIAS)
