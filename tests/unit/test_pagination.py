"""Next-page tokens: opaque, resumable, and impossible to forge into other keys."""

from __future__ import annotations

import pytest

from oms.errors import InvalidNextToken
from oms.store.pagination import PageTokens

KEY = {"pk": {"S": "ORDER#1"}, "sk": {"S": "ORDER"}, "gsi1pk": {"S": "ORDERS"}, "gsi1sk": {"S": "2026#1"}}


def test_a_token_resumes_the_query_that_issued_it():
    tokens = PageTokens(b"s" * 32)
    assert tokens.decode(tokens.encode(KEY, "orders|all"), "orders|all") == KEY


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t + "x",
        lambda t: t.replace(".", ""),
        lambda t: "not a token",
        lambda t: "",
        lambda t: "e30." + t.split(".")[1],  # '{}' with the old signature
    ],
)
def test_an_edited_token_is_refused(mangle):
    tokens = PageTokens(b"s" * 32)
    with pytest.raises(InvalidNextToken) as refused:
        tokens.decode(mangle(tokens.encode(KEY, "orders|all")), "orders|all")
    assert refused.value.details[0].field == "nextToken"


def test_a_token_cannot_resume_another_query_or_come_from_another_stack():
    token = PageTokens(b"s" * 32).encode(KEY, "orders|all")
    with pytest.raises(InvalidNextToken):
        PageTokens(b"s" * 32).decode(token, "orders|status=Unshipped")
    with pytest.raises(InvalidNextToken):
        PageTokens(b"t" * 32).decode(token, "orders|all")


def test_a_short_secret_is_refused():
    with pytest.raises(ValueError, match="16 bytes"):
        PageTokens(b"short")


def test_a_secret_of_exactly_16_bytes_is_enough_and_15_is_not():
    tokens = PageTokens(b"k" * 16)
    assert tokens.decode(tokens.encode(KEY, "orders|all"), "orders|all") == KEY
    with pytest.raises(ValueError, match="16 bytes"):
        PageTokens(b"k" * 15)


@pytest.mark.parametrize("payload", [[KEY], "ORDER#1", 7, None])
def test_a_correctly_signed_token_that_holds_no_key_object_is_refused(payload):
    tokens = PageTokens(b"s" * 32)
    signed = tokens.encode(payload, "orders|all")  # signed by this very stack, so only its shape is wrong

    with pytest.raises(InvalidNextToken) as refused:
        tokens.decode(signed, "orders|all")
    assert refused.value.details[0].field == "nextToken"
    assert refused.value.details[0].message == "is not a token this API issued"


# A token the stack issued before a deploy (same secret): a seller paging through orders keeps their place.
ISSUED = (
    "eyJnc2kxcGsiOnsiUyI6Ik9SREVSUyJ9LCJnc2kxc2siOnsiUyI6IjIwMjYjMSJ9LCJwayI6eyJTIjoiT1JERVIjMSJ9LCJzayI6eyJTIjoiT1JERVIifX0"
    ".ODeGyFWmWeMlAlofNwA7kg"
)


def test_a_token_issued_before_a_deploy_still_resumes_and_the_same_page_gets_the_same_token():
    tokens = PageTokens(b"s" * 32)
    assert tokens.decode(ISSUED, "orders|all") == KEY
    assert tokens.encode(dict(reversed(KEY.items())), "orders|all") == ISSUED
