import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from config.api.models import IdempotencyRecord
from members.models import PointsEntry
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
    barrier = threading.Barrier(8)
    results = []

    def send():
        http = APIClient()
        http.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        barrier.wait()
        try:
            response = http.post(URL, {"points": 25, "reason": "race"}, format="json", HTTP_IDEMPOTENCY_KEY="race-key")
            results.append((response.status_code, response.json()["id"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 8
    assert {status for status, _ in results} == {201}
    assert len({entry_id for _, entry_id in results}) == 1
    assert PointsEntry.objects.filter(member__external_id="M-1").count() == 1
