"""The webhooks admin: the secret once, the disabled notice in words, the delivery log and its send-again."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from webhooks import events
from webhooks.models import Delivery, Endpoint
from webhooks.outbox import events_emit
from webhooks.services import endpoint_deliver, events_dispatch

pytestmark = pytest.mark.django_db


def test_adding_an_endpoint_shows_its_secret_once(admin_client, receiver):
    response = admin_client.post(
        reverse("admin:webhooks_endpoint_add"),
        {"url": receiver.url, "description": "CRM", "events": ["coupon.issued", "coupon.redeemed"], "active": "on"},
        follow=True,
    )
    endpoint = Endpoint.objects.get()
    assert endpoint.events == ["coupon.issued", "coupon.redeemed"]
    assert endpoint.secret in response.content.decode()
    assert AuditEvent.objects.filter(object_type="webhooks.endpoint", action="create", actor="admin").exists()
    page = admin_client.get(reverse("admin:webhooks_endpoint_change", args=[endpoint.pk])).content.decode()
    assert endpoint.secret not in page


def test_a_private_address_is_refused_on_the_form_in_words(admin_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    form = {"url": "https://10.0.0.5/hooks", "events": ["coupon.issued"], "active": "on"}
    response = admin_client.post(reverse("admin:webhooks_endpoint_add"), form)
    assert response.status_code == 200
    assert "resolves to a private address" in response.content.decode()
    assert not Endpoint.objects.exists()


def test_a_disabled_endpoint_shows_a_notice_with_its_reason(admin_client, make_endpoint):
    endpoint, _ = make_endpoint()
    Endpoint.objects.filter(pk=endpoint.pk).update(active=False, disabled_reason="Every delivery has failed since "
                                                   "2026-12-01 04:00 UTC (last: HTTP 503).")  # fmt: skip
    page = admin_client.get(reverse("admin:webhooks_endpoint_changelist")).content.decode()
    assert "is turned off: Every delivery has failed since 2026-12-01 04:00 UTC (last: HTTP 503)." in page


def test_the_delivery_log_lists_attempts_and_sends_again(admin_client, make_endpoint, receiver):
    receiver.answers = [500]
    endpoint, _ = make_endpoint()
    events_emit(type=events.COUPON_ISSUED, object_type="coupon", object_id=1, data={})
    events_dispatch()
    endpoint_deliver(endpoint_id=endpoint.pk)
    delivery = Delivery.objects.get()
    assert admin_client.get(reverse("admin:webhooks_delivery_changelist")).status_code == 200
    page = admin_client.get(reverse("admin:webhooks_delivery_change", args=[delivery.pk])).content.decode()
    assert "HTTP 500" in page

    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at="2999-01-01T00:00:00Z")
    response = admin_client.post(reverse("admin:webhooks_delivery_changelist"),
                                 {"action": "send_again", "_selected_action": [delivery.pk]}, follow=True)  # fmt: skip
    assert "1 deliveries will be sent again." in response.content.decode()
    endpoint_deliver(endpoint_id=endpoint.pk)
    delivery.refresh_from_db()
    assert (delivery.status, len(receiver.received)) == ("succeeded", 2)
