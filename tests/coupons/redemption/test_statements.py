"""The till's lean path: statements per request, input errors, auth, and the one-statement redemption write."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from config.actors import Actor
from config.api.models import AttemptWindow
from coupons.models import Coupon, CouponEvent, CouponRedemption, CouponSeries
from coupons.redemption import rules
from coupons.redemption import statements as till
from tests.conftest import ON_POSTGRES
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.members.factories import OrgEntityFactory

pytestmark = pytest.mark.django_db

VALIDATE, REDEEM = "/api/v1/coupons/validate", "/api/v1/coupons/redeem"


def body(coupon, till_store, **overrides):
    data = {"code": coupon.code, "member": coupon.member.external_id, "store": till_store.code, "bill_amount": "50.00"}
    data.update(overrides)
    return data


def post_raw(client, path, content, content_type="application/json", **extra):
    return client.generic("POST", path, content, content_type=content_type, **extra)


# --- statements per request -----------------------------------------------------------------------


def test_validate_is_one_statement(pos, store, cached_clients, django_assert_num_queries):
    coupon = CouponFactory()
    pos.post(VALIDATE, body(coupon, store), format="json")  # the client is cached from here on
    with django_assert_num_queries(1) as captured:
        assert pos.post(VALIDATE, body(coupon, store), format="json").json()["valid"] is True
    (read,) = (query["sql"] for query in captured.captured_queries)
    for table in ("api_attemptwindow", "members_member", "members_orgentity", "coupons_couponseries"):
        assert table in read
    assert "FOR UPDATE" not in read


def test_validate_with_an_at_out_of_range_is_still_one_statement(pos, store, cached_clients, django_assert_num_queries):
    coupon = CouponFactory()
    pos.post(VALIDATE, body(coupon, store), format="json")  # the client is cached from here on
    future = (timezone.now() + timedelta(days=1)).isoformat()
    with django_assert_num_queries(1):
        assert pos.post(VALIDATE, body(coupon, store, at=future), format="json").json()["reasons"] == [
            "time_out_of_range"
        ]


@pytest.mark.postgres
def test_redeem_with_an_at_is_still_two_statements_on_postgres(pos, store, cached_clients, django_assert_num_queries):
    coupon = CouponFactory()
    pos.post(VALIDATE, body(CouponFactory(), store), format="json")
    at = (timezone.now() - timedelta(hours=1)).isoformat()
    with django_assert_num_queries(2):
        assert pos.post(REDEEM, body(coupon, store, at=at), format="json").status_code == 201


def test_validate_of_a_common_code_reads_the_members_row(pos, store):
    series = CouponSeriesFactory(common=True)
    first = CouponFactory(series=series, code="SAVE10", is_common=True)
    second = CouponFactory(series=series, code="SAVE10", is_common=True)
    for coupon in (first, second):
        answer = pos.post(VALIDATE, body(coupon, store, code=" save10 "), format="json").json()
        assert answer["coupon"]["id"] == coupon.pk
        assert answer["valid"] is True


def test_validate_unknown_code_is_counted_once_for_the_client_and_the_store(pos, store, cached_clients):
    coupon = CouponFactory()
    assert pos.post(VALIDATE, body(coupon, store, code="NOPE"), format="json").json()["reasons"] == ["coupon_not_found"]
    counts = dict(AttemptWindow.objects.values_list("key", "attempts"))
    assert counts == {f"pos-client:{pos.api_client.pk}": 1, f"store:{store.pk}": 1}


@pytest.mark.postgres
def test_redeem_is_two_statements_on_postgres(pos, store, cached_clients, django_assert_num_queries):
    coupon, other = CouponFactory(), CouponFactory()
    pos.post(VALIDATE, body(other, store), format="json")
    with django_assert_num_queries(2) as captured:
        assert pos.post(REDEEM, body(coupon, store), format="json").status_code == 201
    context, write = (q["sql"] for q in captured.captured_queries)
    assert "FOR UPDATE" not in context and "coupons_coupon c" in context  # the coupon read with the context
    assert write.startswith("WITH moved AS (UPDATE")
    assert CouponEvent.objects.filter(coupon=coupon, old_status="issued", new_status="redeemed").count() == 1
    assert CouponSeries.objects.get(pk=coupon.series_id).redeemed_count == 1


@pytest.mark.postgres
def test_redeem_of_a_series_with_a_limit_puts_its_write_in_a_transaction(
    pos, store, cached_clients, django_assert_num_queries
):
    coupon = CouponFactory(series__redemption_series_limit=5)
    pos.post(VALIDATE, body(CouponFactory(), store), format="json")  # the client is cached
    # inside the test's transaction the redemption's own one is a savepoint: two more statements
    with django_assert_num_queries(2 + 2) as captured:
        assert pos.post(REDEEM, body(coupon, store), format="json").status_code == 201
    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["SELECT", "SAVEPOINT", "WITH", "RELEASE"]


def test_redeem_of_a_multi_use_coupon_takes_the_locked_path(pos, store, cached_clients, django_assert_max_num_queries):
    coupon = CouponFactory(series__multi_use=True)
    pos.post(VALIDATE, body(CouponFactory(), store), format="json")  # the client is cached
    with django_assert_max_num_queries(12) as captured:
        assert pos.post(REDEEM, body(coupon, store), format="json").status_code == 201
    if ON_POSTGRES:
        assert any("FOR UPDATE OF c" in q["sql"] for q in captured.captured_queries)


def test_redeem_with_the_client_cache_off_adds_only_the_client_read(pos, store, django_assert_max_num_queries):
    coupon = CouponFactory()
    # client and its stores (2), context with the coupon, then the write: one statement on PostgreSQL;
    # on SQLite the locked path: savepoint pair, locked coupon, one statement per row (coupon, event,
    # redemption, counter, webhook event)
    with django_assert_max_num_queries(2 + 1 + (1 if ON_POSTGRES else 2 + 1 + 5)):
        assert pos.post(REDEEM, body(coupon, store), format="json").status_code == 201


# --- input errors ---------------------------------------------------------------------------------


def test_malformed_json_is_400_parse_error(pos):
    response = post_raw(pos, REDEEM, b'{"code": "X",')
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "parse_error"


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_a_body_past_the_upload_limit_is_a_413_problem(pos):
    response = post_raw(pos, REDEEM, json.dumps({"code": "X" * 200}))
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "request_too_large"


def test_a_body_that_is_not_an_object_is_400(pos):
    response = post_raw(pos, VALIDATE, json.dumps(["X"]))
    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


def test_an_empty_body_lists_every_required_field(pos):
    response = post_raw(pos, REDEEM, b"")
    assert response.status_code == 400
    assert response.json()["errors"] == {name: ["This field is required."]
                                         for name in ("code", "member", "store", "bill_amount")}  # fmt: skip


def test_wrong_types_are_400_with_the_serializer_messages(pos, store):
    coupon = CouponFactory()
    data = body(coupon, store, code=["X"], member={"id": 1}, store="", bill_amount=True, at="yesterday")
    response = pos.post(REDEEM, data, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["code", "member", "store", "bill_amount", "at"]
    assert errors["code"] == ["Not a valid string."]
    assert errors["member"] == ["Object with external_id={'id': 1} does not exist."]  # as DRF's slug field says
    assert errors["store"] == ["This field may not be null."]
    assert errors["bill_amount"] == ["A valid number is required."]
    assert errors["at"][0].startswith("Datetime has wrong format.")
    assert not CouponRedemption.objects.exists()


def test_a_member_given_as_a_number_is_looked_up_as_text(pos, store):
    coupon = CouponFactory(member__external_id="12")
    assert pos.post(VALIDATE, body(coupon, store, member=12), format="json").json()["valid"] is True


def test_unknown_member_and_store_are_400(pos, store):
    coupon = CouponFactory()
    response = pos.post(VALIDATE, body(coupon, store, member="NOBODY", store="NO-STORE"), format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "member": ["Object with external_id=NOBODY does not exist."],
        "store": ["Object with code=NO-STORE does not exist."],
    }


def test_a_zone_is_not_a_till_store(pos):
    coupon = CouponFactory()
    zone = OrgEntityFactory(code="Z-T", type="zone")
    response = pos.post(VALIDATE, body(coupon, zone), format="json")
    assert response.json()["errors"] == {"store": ["Object with code=Z-T does not exist."]}


def test_a_form_body_is_refused_415_and_redeems_nothing(pos, store):
    coupon = CouponFactory()
    for url in (VALIDATE, REDEEM):
        response = pos.post(url, body(coupon, store), format="multipart")
        assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")
    coupon.refresh_from_db()
    assert coupon.status == "issued"


def test_other_content_types_take_drfs_path_and_are_415(pos):
    for content_type in ("text/plain", "application/merge-patch+json"):
        response = post_raw(pos, REDEEM, b'{"code": "X"}', content_type=content_type)
        assert response.status_code == 415
        assert response.json()["code"] == "unsupported_media_type"


def test_json_with_a_charset_takes_the_lean_path(pos, store):
    coupon = CouponFactory()
    response = post_raw(pos, VALIDATE, json.dumps(body(coupon, store)), content_type="application/json; charset=utf-8")
    assert response.status_code == 200
    assert response.json()["valid"] is True


@override_settings(COUPON_UNKNOWN_CODES_PER_MINUTE=1)
def test_a_blocked_client_gets_429_before_any_input_error(pos, store):
    coupon = CouponFactory()
    pos.post(VALIDATE, body(coupon, store, code="GUESS"), format="json")
    for content in (b"{not json", json.dumps({"code": "X"}).encode()):
        response = post_raw(pos, VALIDATE, content)
        assert response.status_code == 429
        assert response.json()["code"] == "too_many_unknown_codes"
        assert int(response["Retry-After"]) >= 1


# --- auth -----------------------------------------------------------------------------------------


def test_no_token_is_401_with_www_authenticate(anonymous, store):
    response = anonymous.post(VALIDATE, {"code": "X"}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_authenticated"


def test_a_bad_token_is_401(anonymous):
    anonymous.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = anonymous.post(REDEEM, {"code": "X"}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_other_roles_are_403_before_reading_input(marketer, member_care):
    for client in (marketer, member_care):
        response = post_raw(client, REDEEM, b"{not json")
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"


def test_other_methods_still_go_through_drf(pos):
    response = pos.get(REDEEM)
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert pos.options(REDEEM).status_code == 200


def test_lean_answers_carry_drfs_allow_header(pos, store):
    response = pos.post(VALIDATE, body(CouponFactory(), store), format="json")
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "POST, OPTIONS"


def test_idempotency_key_reused_with_another_body_is_422(pos, store):
    coupon = CouponFactory()
    first = pos.post(REDEEM, body(coupon, store), format="json", HTTP_IDEMPOTENCY_KEY="k-till")
    again = pos.post(REDEEM, body(coupon, store), format="json", HTTP_IDEMPOTENCY_KEY="k-till")
    other = pos.post(REDEEM, body(coupon, store, bill_amount="51"), format="json", HTTP_IDEMPOTENCY_KEY="k-till")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


# --- the redemption write -------------------------------------------------------------------------


def redemption_for(coupon, store):
    return CouponRedemption(coupon=coupon, series=coupon.series, member=coupon.member, store=store,
                            bill_amount=Decimal("20"), discount_amount=Decimal("2"), currency="USD",
                            actor="till", channel="api:pos")  # fmt: skip


# Both writes move the same rows; the CTE runs on PostgreSQL only, the ORM's anywhere.
WRITES = [
    pytest.param(till.redemption_write_orm, id="orm"),
    pytest.param(till.redemption_write, id="cte", marks=pytest.mark.postgres),
]


@pytest.mark.parametrize("write", WRITES)
def test_write_refuses_past_the_series_limit_and_the_caller_rolls_back(store, write):
    series = CouponSeriesFactory(redemption_series_limit=1)
    CouponSeries.objects.filter(pk=series.pk).update(redeemed_count=1)  # filled since the facts were read
    coupon = till.coupon_with_series(code=CouponFactory(series=series).code, member_id=None)
    with pytest.raises(RuntimeError), transaction.atomic():
        refusal = write(redemption=redemption_for(coupon, store), to="redeemed", actor=Actor.system())
        assert refusal == rules.SERIES_REDEMPTION_LIMIT_REACHED
        raise RuntimeError("the caller refuses")
    assert Coupon.objects.get(pk=coupon.pk).status == "issued"
    assert not CouponEvent.objects.exists()
    assert not CouponRedemption.objects.exists()


@pytest.mark.parametrize("write", WRITES)
def test_write_refuses_a_coupon_that_moved_since_it_was_read(store, write):
    coupon = till.coupon_with_series(code=CouponFactory().code, member_id=None)
    Coupon.objects.filter(pk=coupon.pk).update(status="revoked")
    with transaction.atomic():
        refusal = write(redemption=redemption_for(coupon, store), to="redeemed", actor=Actor.system())
        transaction.set_rollback(True)
    assert refusal == rules.ALREADY_REDEEMED


@pytest.mark.parametrize("write", WRITES)
def test_write_keeps_a_multi_use_coupon_issued_without_an_event(store, write):
    coupon = till.coupon_with_series(code=CouponFactory(series__multi_use=True, is_reversed=True).code, member_id=None)
    with transaction.atomic():
        redemption = redemption_for(coupon, store)
        assert write(redemption=redemption, to=None, actor=Actor.system()) is None
    stored = Coupon.objects.get(pk=coupon.pk)
    assert (stored.status, stored.is_reversed) == ("issued", False)
    assert not CouponEvent.objects.exists()
    assert CouponRedemption.objects.get().pk == redemption.pk
    assert CouponSeries.objects.get(pk=coupon.series_id).redeemed_count == 1


def test_reads_convert_values_as_the_orm_does(store):
    series = CouponSeriesFactory(days_of_week=[0, 6], min_bill=Decimal("1.50"))
    coupon = CouponFactory(series=series)
    read = till.coupon_with_series(code=coupon.code.lower().upper(), member_id=coupon.member_id)
    orm = Coupon.objects.select_related("series").get(pk=coupon.pk)
    for field in Coupon._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(orm, field.attname), field.name
    for field in CouponSeries._meta.concrete_fields:
        assert getattr(read.series, field.attname) == getattr(orm.series, field.attname), field.name
    # the raw row's values are text and numbers until converted: the types a queryset gives
    assert read.series.min_bill == Decimal("1.50") and isinstance(read.series.min_bill, Decimal)
    assert read.series.days_of_week == [0, 6]
    assert timezone.is_aware(read.issued_at) and timezone.is_aware(read.last_status_change_on)


@pytest.mark.postgres
@pytest.mark.parametrize("sql", ["CONTEXT_AND_COUPON_SQL", "COUPON_SQL"])
def test_till_reads_find_codes_through_the_partial_unique_indexes(sql):
    context = [timezone.now(), "pos-client:1", "address:127.0.0.1", "M", "S"]
    params = {"CONTEXT_AND_COUPON_SQL": context + ["ABC"] * 4, "COUPON_SQL": ["ABC", "ABC", 1, "ABC", "ABC"]}
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + getattr(till, sql), params[sql])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "coupons_coupon_code_unique" in plan
    assert "coupons_coupon_common_once_per_member" in plan
    if sql == "CONTEXT_AND_COUPON_SQL":  # the abuse limits: an index read, whichever index (the table is empty)
        assert "api_attemptwindow" in plan and "Seq Scan on api_attemptwindow" not in plan


@pytest.mark.postgres
def test_a_swap_that_finds_the_coupon_moved_writes_nothing_even_outside_a_transaction(store):
    coupon = till.coupon_with_series(code=CouponFactory().code, member_id=None)
    Coupon.objects.filter(pk=coupon.pk).update(status="redeemed")  # another till won meanwhile
    refusal = till.redemption_write(redemption=redemption_for(coupon, store), to="redeemed", actor=Actor.system())
    assert refusal == rules.ALREADY_REDEEMED
    assert not CouponEvent.objects.exists()
    assert not CouponRedemption.objects.exists()
    assert CouponSeries.objects.get(pk=coupon.series_id).redeemed_count == 0


@pytest.mark.postgres
def test_a_lost_swap_answers_from_the_locked_read(store, monkeypatch):
    from coupons.redemption import services as redemption

    coupon = CouponFactory()
    read = till.coupon_with_series(code=coupon.code, member_id=coupon.member_id)
    Coupon.objects.filter(pk=coupon.pk).update(status="revoked")  # revoked after the till read it
    locked_reads = []
    real = redemption.coupon_for_redemption
    monkeypatch.setattr(redemption, "coupon_for_redemption", lambda **kw: locked_reads.append(kw) or real(**kw))
    with pytest.raises(redemption.RedemptionError) as refused:
        redemption.coupon_redeem_read(coupon=read, code=coupon.code, member=coupon.member, store=store,
                                      bill_amount=Decimal("20"), actor=Actor.system())  # fmt: skip
    assert refused.value.reasons == ["revoked"]
    assert [kw["lock"] for kw in locked_reads] == [True]
    assert not CouponRedemption.objects.exists()


@pytest.mark.postgres
def test_a_swap_past_the_series_limit_rolls_the_coupon_back(store):
    from coupons.redemption import services as redemption

    series = CouponSeriesFactory(redemption_series_limit=1)
    coupon = CouponFactory(series=series)
    read = till.coupon_with_series(code=coupon.code, member_id=coupon.member_id)
    CouponSeries.objects.filter(pk=series.pk).update(redeemed_count=1)  # filled since the till read it
    with pytest.raises(redemption.RedemptionError) as refused:
        redemption.coupon_redeem_read(coupon=read, code=coupon.code, member=coupon.member, store=store,
                                      bill_amount=Decimal("20"), actor=Actor.system())  # fmt: skip
    assert refused.value.reasons == ["series_redemption_limit_reached"]
    assert Coupon.objects.get(pk=coupon.pk).status == "issued"
    assert not CouponEvent.objects.exists() and not CouponRedemption.objects.exists()
