"""The webhooks API: marketers only; the secret once; the delivery log and its retry."""

import pytest

from audit.models import AuditEvent
from webhooks import events
from webhooks.models import Delivery, Endpoint
from webhooks.outbox import events_emit
from webhooks.services import endpoint_deliver, events_dispatch

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


def create(client, receiver, **body):
    return client.post("/api/v1/webhooks", {"url": receiver.url, "events": ["coupon.issued"], **body}, format="json")


def test_create_answers_201_with_the_secret_once(marketer, receiver):
    response = create(marketer, receiver, description="CRM")
    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert (body["events"], body["active"], body["description"]) == (["coupon.issued"], True, "CRM")
    assert Endpoint.objects.get().secret == body["secret"]

    listed = marketer.get("/api/v1/webhooks").json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in marketer.get(f"/api/v1/webhooks/{body['id']}").json()
    audit = AuditEvent.objects.get(object_type="webhooks.endpoint", action="create")
    assert "secret" not in audit.changes


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "not a url"}, "url"),
        ({"events": []}, "events"),
        ({"events": ["coupon.exploded"]}, "events"),
        ({"events": "coupon.issued"}, "events"),
        ({"description": "a\x00b"}, "description"),
        ({"url": "http://127.0.0.1/\x00"}, "url"),
        ({"active": 2**63}, "active"),
    ],
)
def test_create_with_bad_input_is_400_naming_the_field(marketer, receiver, body, field):
    response = create(marketer, receiver, **body)
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert field in response.json()["errors"]
    assert not Endpoint.objects.exists()


def test_create_with_deep_json_is_400(marketer):
    deep = "[" * 5000 + "]" * 5000
    response = marketer.generic("POST", "/api/v1/webhooks", f'{{"url": "http://127.0.0.1/", "events": {deep}}}',
                                content_type="application/json")  # fmt: skip
    assert response.status_code == 400


def test_create_refuses_a_private_address_in_production(marketer, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    response = marketer.post("/api/v1/webhooks", {"url": "https://169.254.169.254/", "events": ["coupon.issued"]},
                             format="json")  # fmt: skip
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["reasons"]) == ("webhook_endpoint_invalid", ["url_not_public"])


@pytest.mark.parametrize("role", ["pos", "member_care"])
def test_other_roles_get_403(make_api_client, store, receiver, role):
    client = make_api_client(role, stores=[store] if role == "pos" else ())
    assert create(client, receiver).status_code == 403
    assert client.get("/api/v1/webhooks").status_code == 403
    assert client.post("/api/v1/webhook-deliveries/1/retry").status_code == 403


def test_anonymous_gets_401_or_403(anonymous):
    assert anonymous.get("/api/v1/webhooks").status_code in (401, 403)


@pytest.mark.parametrize("pk", [999, 2**31, 2**63, 2**64 + 5])
def test_unknown_ids_are_404(marketer, pk):
    assert marketer.get(f"/api/v1/webhooks/{pk}").status_code == 404
    assert marketer.get(f"/api/v1/webhooks/{pk}/deliveries").status_code == 404
    assert marketer.post(f"/api/v1/webhook-deliveries/{pk}/retry").status_code == 404


def test_patch_changes_events_and_turning_on_clears_the_disabled_reason(marketer, receiver):
    endpoint_id = create(marketer, receiver).json()["id"]
    Endpoint.objects.filter(pk=endpoint_id).update(active=False, disabled_reason="Every delivery has failed")
    response = marketer.patch(f"/api/v1/webhooks/{endpoint_id}", {"active": True, "events": ["coupon.redeemed"]},
                              format="json")  # fmt: skip
    assert response.status_code == 200
    assert (response.json()["active"], response.json()["events"], response.json()["disabled_reason"]) == (
        True, ["coupon.redeemed"], "")  # fmt: skip


def test_delete_removes_the_endpoint(marketer, receiver):
    endpoint_id = create(marketer, receiver).json()["id"]
    assert marketer.delete(f"/api/v1/webhooks/{endpoint_id}").status_code == 204
    assert not Endpoint.objects.exists()


def test_deliveries_list_attempts_and_retry_sends_again(marketer, receiver, django_assert_max_num_queries):
    receiver.answers = [500]
    endpoint_id = create(marketer, receiver).json()["id"]
    for n in range(3):
        events_emit(type=events.COUPON_ISSUED, object_type="coupon", object_id=n, data={"n": n})
    events_dispatch()
    endpoint_deliver(endpoint_id=endpoint_id)

    with django_assert_max_num_queries(6):  # auth, endpoint, count, page, attempts: not one per row
        response = marketer.get(f"/api/v1/webhooks/{endpoint_id}/deliveries")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) == 3
    failed = next(row for row in rows if row["response_code"] == 500)
    assert (failed["status"], failed["attempts"], failed["type"]) == ("pending", 1, "coupon.issued")
    assert failed["attempt_log"][0]["response_code"] == 500
    assert isinstance(failed["attempt_log"][0]["duration_ms"], int)

    Delivery.objects.filter(pk=failed["id"]).update(next_attempt_at="2999-01-01T00:00:00Z")
    retried = marketer.post(f"/api/v1/webhook-deliveries/{failed['id']}/retry")
    assert retried.status_code == 202
    delivery = Delivery.objects.get(pk=failed["id"])
    # queued on commit; sent by the next send
    endpoint_deliver(endpoint_id=endpoint_id)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_code) == ("succeeded", 200)
    assert len(receiver.received) == 4
