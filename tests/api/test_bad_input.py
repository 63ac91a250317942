"""Bad input answers 4xx problem details, never a 500: NUL and lone surrogates, deep JSON, oversize bodies
and URLs, timestamps without an offset. Each runs on DRF's path and on the till's lean one."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from rest_framework import serializers

from config.api.fields import AwareDateTimeField
from config.api.parsers import MAX_JSON_DEPTH
from coupons.models import CouponRedemption, Upload
from exports.models import ExportDefinition
from members.models import Member
from offers.models import Offer, Transaction
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
NUL, SURROGATE = "\\u0000", "\\ud800"  # as JSON escapes: the only way either can arrive in a JSON body


def post_json(client, path, text, **headers):
    return client.post(path, data=text, content_type="application/json", **headers)


def assert_field_problem(response, field, message_start):
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"][field][0].startswith(message_start), body


def till_body(coupon, store, **overrides):
    body = {"code": coupon.code, "member": coupon.member.external_id, "store": store.code, "bill_amount": "50.00"}
    return {**body, **overrides}


@pytest.mark.parametrize(("escape", "message"), [(NUL, "Null characters"), (SURROGATE, "Surrogate characters")])
def test_forbidden_characters_in_a_lean_till_body_are_400(pos, store, escape, message):
    coupon = CouponFactory()
    text = json.dumps(till_body(coupon, store)).replace(f'"{coupon.member.external_id}"', f'"M{escape}"')
    response = post_json(pos, "/api/v1/coupons/redeem", text)
    assert_field_problem(response, "member", message)
    assert CouponRedemption.objects.count() == 0


@pytest.mark.parametrize(("escape", "message"), [(NUL, "Null characters"), (SURROGATE, "Surrogate characters")])
def test_forbidden_characters_in_a_drf_body_are_400(pos, store, escape, message):
    member = MemberFactory()
    item = {"sku": "SKU", "quantity": 1, "unit_price": "10.00"}
    body = {"transaction_id": "T-1", "member": member.external_id, "store": store.code, "total_amount": "10.00"}
    text = json.dumps({**body, "items": [item]})
    response = post_json(pos, "/api/v1/transactions", text.replace('"SKU"', f'"S{escape}"'))
    assert_field_problem(response, "items.0.sku", message)


def test_an_upper_case_surrogate_escape_is_400(pos, store):
    coupon = CouponFactory()
    text = json.dumps(till_body(coupon, store)).replace(f'"{coupon.member.external_id}"', '"M\\uDC00"')
    assert_field_problem(post_json(pos, "/api/v1/coupons/redeem", text), "member", "Surrogate characters")


def test_a_surrogate_pair_escape_is_its_character_and_taken(pos, store):
    member = MemberFactory()
    item = {"sku": "SKU", "quantity": 1, "unit_price": "10.00"}
    body = {"transaction_id": "T-PAIR", "member": member.external_id, "store": store.code, "total_amount": "10.00"}
    text = json.dumps({**body, "items": [item]}).replace('"SKU"', '"S\\ud83d\\ude00"')
    response = post_json(pos, "/api/v1/transactions", text)
    assert response.status_code == 201, response.content
    assert Transaction.objects.get(transaction_id="T-PAIR").items[0]["sku"] == "S\U0001f600"


def test_nul_in_a_json_value_no_field_checks_is_400(marketer):
    text = json.dumps({"name": "Members", "dataset": "members", "columns": ["external_id"], "filters": {"x": "X"}})
    response = post_json(marketer, "/api/v1/export-definitions", text.replace('"X"', f'"{NUL}"'))
    assert_field_problem(response, "filters.x", "Null characters")
    assert ExportDefinition.objects.count() == 0


def test_nul_in_a_json_key_is_400(marketer):
    response = post_json(marketer, "/api/v1/segments", '{"code": "vip", "name": "VIP", "a' + NUL + '": 1}')
    assert_field_problem(response, "non_field_errors", "Null characters")


def test_nul_in_a_multipart_field_is_400(marketer):
    series = CouponSeriesFactory()
    file = SimpleUploadedFile("members.csv", b"external_id\nM1\n", content_type="text/csv")
    response = marketer.post(
        f"/api/v1/coupon-series/{series.pk}/uploads", {"kind": "members\x00", "file": file}, format="multipart"
    )
    assert_field_problem(response, "kind", "Null characters")
    assert Upload.objects.count() == 0


@pytest.mark.parametrize("path", ["/api/v1/members/%00", "/api/v1/coupons/%00", "/api/v1/members/M%00/offers"])
def test_nul_in_a_path_segment_is_400(marketer, path):
    response = marketer.get(path)
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "invalid_path"


def test_nul_in_the_query_string_is_400_naming_the_parameter(marketer):
    response = marketer.get("/api/v1/members?email=a%00b")
    assert_field_problem(response, "email", "Null characters")


@pytest.mark.parametrize("path", ["/api/v1/members", "/api/v1/coupons/validate"])
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 5000])
def test_deeply_nested_json_is_400(marketer, pos, path, depth):
    client = pos if "coupons" in path else marketer
    response = post_json(client, path, '{"external_id": ' + "[" * depth + "]" * depth + "}")
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "too_deeply_nested"
    assert Member.objects.count() == 0


def test_json_nested_to_the_limit_is_read(marketer):
    nested = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    response = post_json(marketer, "/api/v1/members", '{"external_id": "M1", "segments": ' + nested + "}")
    assert response.status_code == 400  # a segment list of lists is invalid, but the body was read
    assert response.json()["code"] == "invalid"


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
@pytest.mark.parametrize("idempotency_key", [None, "K-1"])
@pytest.mark.parametrize("path", ["/api/v1/coupons/redeem", "/api/v1/transactions", "/api/v1/members"])
def test_a_body_over_the_size_limit_is_413(pos, marketer, path, idempotency_key):
    client = marketer if path == "/api/v1/members" else pos
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    response = post_json(client, path, json.dumps({"external_id": "M1", "padding": "x" * 2000}), **headers)
    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "request_too_large"
    assert Member.objects.count() == 0


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_multipart_field_over_the_size_limit_is_413(marketer):
    series = CouponSeriesFactory()
    response = marketer.post(
        f"/api/v1/coupon-series/{series.pk}/uploads", {"kind": "members", "note": "x" * 2000}, format="multipart"
    )
    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM


def test_a_form_body_outside_the_upload_endpoint_is_415_and_writes_nothing(marketer):
    """A form cannot carry the nested limits and contents an offer takes; read as one, it dropped them."""
    response = marketer.post(
        "/api/v1/offers", {"external_id": "O-FORM", "name": "Form", "limits": "x"}, format="multipart"
    )
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")
    assert not Offer.objects.filter(external_id="O-FORM").exists()


@pytest.mark.parametrize("value", ["1.5", "-1.8e308", "0", str(2**63), "x"])
@pytest.mark.parametrize(
    ("path", "name"), [("/api/v1/offer-responses", "offer"), ("/api/v1/certificate-codes", "reward")]
)
def test_an_id_filter_outside_the_ids_range_is_400_naming_it(member_care, path, name, value):
    response = member_care.get(path, {name: value})
    assert response.status_code == 400
    assert name in response.json()["errors"]


def test_an_over_long_url_is_414(pos):
    response = pos.get("/api/v1/coupons/" + "A" * 9000)
    assert response.status_code == 414
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "uri_too_long"


@pytest.mark.parametrize(
    ("path", "role", "field", "body"),
    [
        ("/api/v1/members", "marketer", "registered_at", {"external_id": "M1"}),
        ("/api/v1/offers", "marketer", "publish_at", {"external_id": "O1", "name": "Offer"}),
        ("/api/v1/offers", "marketer", "usage_end", {"external_id": "O1", "name": "Offer"}),
        ("/api/v1/transactions", "pos", "occurred_at", {"transaction_id": "T-1", "total_amount": "1.00", "items": []}),
        ("/api/v1/coupons/validate", "pos", "at", {"bill_amount": "1.00"}),
        ("/api/v1/coupons/redeem", "pos", "at", {"bill_amount": "1.00", "transaction_id": "T-1"}),
    ],
)
def test_a_timestamp_without_an_offset_is_400(request, store, path, role, field, body):
    client = request.getfixturevalue(role)
    member = MemberFactory()
    coupon = CouponFactory(member=member)
    body = {**body, "member": member.external_id, "store": store.code, "code": coupon.code}
    response = client.post(path, {**body, field: "2026-05-01T09:30:00"}, format="json")
    assert_field_problem(response, field, "Datetime needs a UTC offset")
    assert Member.objects.count() == 1 and not Offer.objects.filter(external_id="O1").exists()
    assert CouponRedemption.objects.count() == 0


def test_a_timestamp_with_an_offset_is_taken(marketer):
    response = marketer.post("/api/v1/members", {"external_id": "M1", "registered_at": "2026-05-01T09:30:00+02:00"},
                             format="json")  # fmt: skip
    assert response.status_code == 201
    assert Member.objects.get().registered_at.isoformat() == "2026-05-01T07:30:00+00:00"


def _serializer_classes(base):
    for subclass in base.__subclasses__():
        yield subclass
        yield from _serializer_classes(subclass)


def test_every_api_timestamp_field_requires_an_offset():
    import config.urls  # noqa: F401  (imports every API serializer)

    plain = [
        f"{serializer.__module__}.{serializer.__name__}.{name}"
        for serializer in set(_serializer_classes(serializers.Serializer))
        if serializer.__module__.split(".")[0] in {"members", "offers", "rewards", "coupons", "exports", "config"}
        for name, field in serializer._declared_fields.items()
        if isinstance(field, serializers.DateTimeField) and not isinstance(field, AwareDateTimeField)
    ]
    assert plain == []
