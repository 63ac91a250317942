"""Redeem with an Idempotency-Key, as tills send it: on PostgreSQL no statement of its own (the till's read looks
the key up, its write inserts it), elsewhere one; and one redemption however many requests carry the key at once."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from config.api.models import AttemptWindow, IdempotencyRecord
from coupons.models import Coupon, CouponRedemption, CouponSeries
from tests.concurrency import run_concurrently
from tests.conftest import ON_POSTGRES
from tests.coupons.factories import CouponFactory

from .till_requests import REDEEM, body

pytestmark = pytest.mark.django_db

TABLE = IdempotencyRecord._meta.db_table


def statements(captured):
    """The statements sent, without transaction control (the test's own transaction turns the key's into
    savepoints; outside a test it is BEGIN and COMMIT)."""
    control = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
    return [query["sql"] for query in captured.captured_queries if not query["sql"].startswith(control)]


def test_the_key_costs_no_statement_on_postgresql_and_one_elsewhere_on_a_first_request(pos, store, cached_clients):
    warm, plain, keyed_coupon = CouponFactory(), CouponFactory(), CouponFactory()
    pos.post(REDEEM, body(warm, store), format="json")  # the client is cached from here on
    with CaptureQueriesContext(connection) as keyless:
        assert pos.post(REDEEM, body(plain, store), format="json").status_code == 201
    with CaptureQueriesContext(connection) as keyed:
        response = pos.post(REDEEM, body(keyed_coupon, store), format="json", HTTP_IDEMPOTENCY_KEY="till-1")

    assert response.status_code == 201
    touching = [sql for sql in statements(keyed) if TABLE in sql]
    if ON_POSTGRES:  # the till's read joins the key; its write statement inserts it, with the answer
        assert len(statements(keyed)) == len(statements(keyless)) == 2
        assert [sql.split()[0] for sql in touching] == ["SELECT", "WITH"]
        assert f"keyed AS (INSERT INTO {TABLE}" in touching[1]
    else:
        assert len(statements(keyed)) == len(statements(keyless)) + 1
        assert len(touching) == 1 and touching[0].startswith("INSERT") and "ON CONFLICT" in touching[0]
    record = IdempotencyRecord.objects.get(key="till-1")
    assert record.response_status == 201
    assert record.response_body == response.json()
    assert record.response_body["redemption_id"] == CouponRedemption.objects.get(coupon=keyed_coupon).pk


def test_a_replay_answers_the_first_status_and_ids_and_redeems_nothing_more(pos, store, cached_clients):
    coupon = CouponFactory()
    pos.post(REDEEM, body(CouponFactory(), store), format="json")  # the client is cached from here on
    first = pos.post(REDEEM, body(coupon, store), format="json", HTTP_IDEMPOTENCY_KEY="till-2")
    with CaptureQueriesContext(connection) as captured:
        again = pos.post(REDEEM, body(coupon, store), format="json", HTTP_IDEMPOTENCY_KEY="till-2")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.json()["redemption_id"] == CouponRedemption.objects.get(coupon=coupon).pk
    assert again["Idempotent-Replayed"] == "true"
    keyed = [sql for sql in statements(captured) if TABLE in sql]
    if ON_POSTGRES:  # the till's one read found the answer: nothing else ran
        assert len(statements(captured)) == 1 and keyed[0].startswith("SELECT")
    else:  # the insert conflicted, then the one read of the stored answer
        assert [sql.split()[0] for sql in keyed] == ["INSERT", "SELECT"]
    assert CouponRedemption.objects.filter(coupon=coupon).count() == 1
    assert CouponSeries.objects.get(pk=coupon.series_id).redeemed_count == 1


def test_a_replayed_refusal_keeps_its_problem_and_the_key_with_another_body_is_422(pos, store):
    coupon = CouponFactory(redeemed=True)
    first = pos.post(REDEEM, body(coupon, store), format="json", HTTP_IDEMPOTENCY_KEY="till-3")
    again = pos.post(REDEEM, body(coupon, store), format="json", HTTP_IDEMPOTENCY_KEY="till-3")
    other = pos.post(REDEEM, body(coupon, store, bill_amount="51"), format="json", HTTP_IDEMPOTENCY_KEY="till-3")

    assert (first.status_code, again.status_code) == (409, 409)
    assert again["Content-Type"] == "application/problem+json"
    assert again.json() == first.json() and first.json()["reasons"] == ["already_redeemed"]
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert IdempotencyRecord.objects.filter(key="till-3").count() == 1


def test_an_expired_key_is_taken_over_by_the_same_insert(pos, store):
    first, second = CouponFactory(), CouponFactory()
    pos.post(REDEEM, body(first, store), format="json", HTTP_IDEMPOTENCY_KEY="till-4")
    IdempotencyRecord.objects.update(created_at=F("created_at") - timedelta(hours=25))

    response = pos.post(REDEEM, body(second, store), format="json", HTTP_IDEMPOTENCY_KEY="till-4")

    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    record = IdempotencyRecord.objects.get(key="till-4")
    assert record.response_body["redemption_id"] == response.json()["redemption_id"]
    assert record.created_at > timezone.now() - timedelta(hours=1)
    assert Coupon.objects.get(pk=second.pk).status == "redeemed"


@override_settings(COUPON_UNKNOWN_CODES_PER_MINUTE=1, COUPON_UNKNOWN_CODES_PER_STORE_PER_MINUTE=1)
def test_a_stored_answer_is_replayed_even_while_the_client_is_blocked(pos, store):
    coupon = CouponFactory()
    first = pos.post(REDEEM, body(coupon, store), format="json", HTTP_IDEMPOTENCY_KEY="till-5")
    assert pos.post("/api/v1/coupons/validate", body(coupon, store, code="NO-SUCH"), format="json").status_code == 200
    assert AttemptWindow.objects.exists()

    again = pos.post(REDEEM, body(coupon, store), format="json", HTTP_IDEMPOTENCY_KEY="till-5")
    fresh = pos.post(REDEEM, body(CouponFactory(), store), format="json", HTTP_IDEMPOTENCY_KEY="till-6")

    assert (again.status_code, again["Idempotent-Replayed"]) == (201, "true")
    assert again.json() == first.json()
    assert fresh.status_code == 429
    assert not IdempotencyRecord.objects.filter(key="till-6").exists()


@pytest.mark.parametrize("key", ["k" * 256, "nul\x00key"])
def test_a_key_too_long_or_with_nul_is_a_400(pos, store, key):
    response = pos.post(REDEEM, body(CouponFactory(), store), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_idempotency_key")
    assert not CouponRedemption.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("multi_use", [False, True], ids=["once-only", "multi-use"])
def test_one_key_sent_by_12_tills_at_once_redeems_once_and_answers_alike(pos, store, multi_use):
    coupon = CouponFactory(series__multi_use=multi_use)

    def send(index):
        http = APIClient()
        http.credentials(HTTP_AUTHORIZATION=f"Token {pos.token}")
        response = http.post(REDEEM, body(coupon, store), format="json", HTTP_IDEMPOTENCY_KEY="till-race")
        return response.status_code, response.json()

    answers = run_concurrently(12, send)

    assert len(answers) == 12
    assert {status for status, _ in answers} == {201}
    assert len({answer["redemption_id"] for _, answer in answers}) == 1
    assert all(answer == answers[0][1] for _, answer in answers)
    assert CouponRedemption.objects.filter(coupon=coupon).count() == 1
    assert CouponSeries.objects.get(pk=coupon.series_id).redeemed_count == 1
    assert IdempotencyRecord.objects.filter(key="till-race").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_key_sent_by_12_tills_for_12_coupons_redeems_one_and_answers_the_rest_422(pos, store):
    coupons = [CouponFactory() for _ in range(12)]

    def send(index):
        http = APIClient()
        http.credentials(HTTP_AUTHORIZATION=f"Token {pos.token}")
        response = http.post(REDEEM, body(coupons[index], store), format="json", HTTP_IDEMPOTENCY_KEY="till-mixed")
        return response.status_code, response.json()

    answers = run_concurrently(12, send)

    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [422] * 11
    assert {answer["code"] for status, answer in answers if status == 422} == {"idempotency_key_reused"}
    (redemption,) = CouponRedemption.objects.all()  # the other 11 coupons were not redeemed, not even briefly
    assert Coupon.objects.filter(status="redeemed").count() == 1
    assert IdempotencyRecord.objects.get(key="till-mixed").response_body["redemption_id"] == redemption.pk


@pytest.mark.postgres
def test_a_key_inserted_between_the_read_and_the_write_refuses_the_write_and_replays(pos, store, monkeypatch):
    from config.api import idempotency

    first, second = CouponFactory(), CouponFactory()
    answer = pos.post(REDEEM, body(first, store), format="json", HTTP_IDEMPOTENCY_KEY="till-late")
    # As if the read ran before the first request committed: it sees no key, and the write meets it.
    monkeypatch.setattr(idempotency, "stored_answer_check", lambda pending, row: None)

    again = pos.post(REDEEM, body(first, store), format="json", HTTP_IDEMPOTENCY_KEY="till-late")
    other = pos.post(REDEEM, body(second, store), format="json", HTTP_IDEMPOTENCY_KEY="till-late")

    assert (again.status_code, again["Idempotent-Replayed"]) == (201, "true")
    assert again.json() == answer.json()
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert Coupon.objects.get(pk=second.pk).status == "issued"
    assert not CouponRedemption.objects.filter(coupon=second).exists()
