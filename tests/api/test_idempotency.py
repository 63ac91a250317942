from datetime import timedelta

import pytest
from django.db.models import F
from django.test import override_settings
from rest_framework.test import APIClient

from config.api.idempotency import is_final_answer
from config.api.models import AttemptWindow, IdempotencyRecord
from config.errors import DomainError
from coupons.models import Coupon, CouponRedemption
from members import services as members_services
from members.models import PointsEntry
from tests.concurrency import run_concurrently
from tests.coupons.factories import CouponFactory
from tests.members.factories import MemberFactory

URL = "/api/v1/members/M-1/points"


@pytest.mark.django_db
def test_replay_returns_first_response_and_changes_nothing(member_care):
    MemberFactory(external_id="M-1")
    first = member_care.post(URL, {"points": 40, "reason": "goodwill"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = member_care.post(URL, {"points": 40, "reason": "goodwill"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert PointsEntry.objects.filter(member__external_id="M-1").count() == 1


@pytest.mark.django_db
def test_replay_of_a_refusal_returns_the_same_problem(member_care):
    MemberFactory(external_id="M-1")
    body = {"points": -5, "reason": "too much"}
    first = member_care.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    again = member_care.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert first.status_code == again.status_code == 409
    assert again["Content-Type"] == "application/problem+json"
    assert again.json() == first.json()


@pytest.mark.django_db
def test_same_key_with_another_body_answers_422(member_care):
    MemberFactory(external_id="M-1")
    member_care.post(URL, {"points": 40, "reason": "goodwill"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    response = member_care.post(URL, {"points": 41, "reason": "goodwill"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert PointsEntry.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_scoped_to_the_client(make_api_client):
    MemberFactory(external_id="M-1")
    one, two = make_api_client("member_care"), make_api_client("member_care")
    one.post(URL, {"points": 1, "reason": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    response = two.post(URL, {"points": 2, "reason": "b"}, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert response.status_code == 201
    assert PointsEntry.objects.count() == 2


@pytest.mark.django_db
def test_invalid_input_is_not_executed_and_replays_the_400(member_care):
    MemberFactory(external_id="M-1")
    first = member_care.post(URL, {"points": "x", "reason": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    again = member_care.post(URL, {"points": "x", "reason": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    assert first.status_code == again.status_code == 400
    assert IdempotencyRecord.objects.filter(key="k-4").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_execute_once(member_care):
    MemberFactory(external_id="M-1")
    token = member_care.token

    def send(index):
        http = APIClient()
        http.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = http.post(URL, {"points": 25, "reason": "race"}, format="json", HTTP_IDEMPOTENCY_KEY="race-key")
        return response.status_code, response.json()["id"]

    results = run_concurrently(8, send)

    assert len(results) == 8
    assert {status for status, _ in results} == {201}
    assert len({entry_id for _, entry_id in results}) == 1
    assert PointsEntry.objects.filter(member__external_id="M-1").count() == 1


@pytest.mark.django_db
@override_settings(COUPON_UNKNOWN_CODES_PER_MINUTE=1, COUPON_UNKNOWN_CODES_PER_STORE_PER_MINUTE=1)
def test_a_429_is_not_stored_and_the_retry_after_the_block_lifts_executes(pos, store):
    coupon = CouponFactory()
    redeem = {"code": coupon.code, "member": coupon.member.external_id, "store": store.code, "bill_amount": "10"}
    guess = {**redeem, "code": "NO-SUCH-CODE"}
    assert pos.post("/api/v1/coupons/validate", guess, format="json").json()["reasons"] == ["coupon_not_found"]

    blocked = pos.post("/api/v1/coupons/redeem", redeem, format="json", HTTP_IDEMPOTENCY_KEY="till-1")
    # the block lifts: the counted minute is over
    AttemptWindow.objects.update(window_start=F("window_start") - timedelta(minutes=1))
    retried = pos.post("/api/v1/coupons/redeem", redeem, format="json", HTTP_IDEMPOTENCY_KEY="till-1")
    replayed = pos.post("/api/v1/coupons/redeem", redeem, format="json", HTTP_IDEMPOTENCY_KEY="till-1")

    assert blocked.status_code == 429
    assert retried.status_code == 201, retried.json()
    assert "Idempotent-Replayed" not in retried
    assert (replayed.status_code, replayed["Idempotent-Replayed"]) == (201, "true")
    assert replayed.json() == retried.json()
    assert Coupon.objects.get(pk=coupon.pk).status == "redeemed"
    assert CouponRedemption.objects.count() == 1


@pytest.mark.django_db
def test_a_503_is_not_stored_and_the_retry_executes(member_care, monkeypatch):
    MemberFactory(external_id="M-1")
    adjust = members_services.points_adjust

    def unavailable(**kwargs):
        raise DomainError("The database is unavailable.", code="service_unavailable", http_status=503)

    monkeypatch.setattr(members_services, "points_adjust", unavailable)
    first = member_care.post(URL, {"points": 5, "reason": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="k-503")
    monkeypatch.setattr(members_services, "points_adjust", adjust)
    retried = member_care.post(URL, {"points": 5, "reason": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="k-503")

    assert first.status_code == 503
    assert retried.status_code == 201
    assert PointsEntry.objects.filter(member__external_id="M-1").count() == 1


@pytest.mark.parametrize(
    "status, final",
    [(200, True), (201, True), (202, True), (204, True), (400, True), (403, True), (404, True), (409, True),
     (422, True), (408, False), (425, False), (429, False), (500, False), (502, False), (503, False)],
)  # fmt: skip
def test_only_final_answers_are_stored(status, final):
    assert is_final_answer(status) is final
