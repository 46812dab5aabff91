"""No 5xx for anything a client sends: a body the API cannot read gets 415 in the error format."""

from __future__ import annotations

import base64
import json

import pytest

from tests.api_calls import call_api
from tests.builders import WAREHOUSE_SETTINGS


@pytest.mark.parametrize(
    ("label", "body"),
    [
        ("text/plain", "sellerName=Mug Co"),
        ("application/xml", "<settings><sellerName>Mug Co</sellerName></settings>"),
        (
            "multipart/form-data; boundary=xyz",
            '--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--xyz--',
        ),
        ("multipart/form-data", "no boundary at all"),
        ("application/x-www-form-urlencoded", "sellerName=Mug+Co"),
    ],
)
def test_a_body_that_is_not_json_gets_415_and_changes_nothing(stack, context, label, body):
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200

    status, answer = call_api(
        stack, context, "PATCH", "/settings/shipping", body, headers={"Content-Type": label}
    )

    assert status == 415
    assert answer["error"]["code"] == "UnsupportedMediaType"
    assert answer["error"]["details"] == [
        {"field": "Content-Type", "message": f"{label.split(';')[0]} is not supported; use application/json"}
    ]
    assert call_api(stack, context, "GET", "/settings/shipping")[1] == WAREHOUSE_SETTINGS


def test_json_labelled_as_a_form_by_curl_is_still_read_as_json(stack, context):
    status, answer = call_api(
        stack,
        context,
        "PATCH",
        "/settings/shipping",
        '{"sellerName": "Mug Co"}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert status == 200, answer
    assert answer["sellerName"] == "Mug Co"


def test_a_post_with_an_xml_body_on_batches_gets_415_not_500(stack, context):
    status, answer = call_api(
        stack, context, "POST", "/batches", "<orderIds/>", headers={"Content-Type": "text/xml"}
    )

    assert status == 415
    assert "text/xml" in answer["error"]["message"]


def test_a_read_with_any_label_is_answered(stack, context):
    status, _ = call_api(stack, context, "GET", "/settings/shipping", headers={"Content-Type": "text/plain"})

    assert status == 200


def test_a_json_body_that_is_not_utf8_text_gets_400_not_500(stack, context):
    from tests.conftest import load_event

    event = load_event("api/get_order.json")
    event.update(
        httpMethod="POST",
        path="/batches",
        body=base64.b64encode(b'{"orderIds": ["\xf3\xd8"]}').decode(),
        isBase64Encoded=True,
    )
    event["headers"] = {**event["headers"], "Content-Type": "application/json"}
    answer = stack.handler("api").lambda_handler(event, context)

    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["error"]["details"] == [
        {"field": "body", "message": "is not valid JSON"}
    ]


def test_a_base64_json_body_is_read(stack, context):
    from tests.conftest import load_event

    event = load_event("api/get_order.json")
    event.update(
        httpMethod="PATCH",
        path="/settings/shipping",
        body=base64.b64encode(b'{"sellerName": "Caf\\u00e9 Mugs"}').decode(),
        isBase64Encoded=True,
    )
    event["headers"] = {**event["headers"], "Content-Type": "application/json"}
    answer = stack.handler("api").lambda_handler(event, context)

    assert answer["statusCode"] == 200, answer["body"]
    assert json.loads(answer["body"])["sellerName"] == "Café Mugs"


@pytest.mark.parametrize("label", ["application/merge-patch+json", "application/vnd.api+json; charset=utf-8"])
def test_any_json_media_type_is_read_as_json(stack, context, label):
    status, answer = call_api(
        stack,
        context,
        "PATCH",
        "/settings/shipping",
        {"sellerName": "Mug Co"},
        headers={"Content-Type": label},
    )

    assert status == 200, answer
    assert answer["sellerName"] == "Mug Co"
