"""A delivery connects to the address the guard vetted and never resolves the name again (DNS rebinding).

The receivers listen on 127.0.0.1 under a name that resolves nowhere (`.invalid` is reserved for that), so a
request that arrives proves the socket went to the vetted address and not through a second lookup.
"""

import socket

import pytest
from standardwebhooks.webhooks import Webhook

from webhooks import events, services
from webhooks.exceptions import WebhookEndpointError
from webhooks.guard import url_check
from webhooks.models import Delivery
from webhooks.outbox import events_emit
from webhooks.sending import event_post

pytestmark = pytest.mark.django_db
SECRET = "whsec_" + "B" * 43 + "="


def unresolvable_url(receiver) -> str:
    return receiver.url.replace("127.0.0.1", "hooks.offerdesk.invalid")


def resolver(*addresses):
    calls = []

    def resolve(host, port, type=None):
        calls.append(host)
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]

    resolve.calls = calls
    return resolve


def test_url_check_returns_the_first_address_it_vetted(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    resolve = resolver("93.184.216.34", "93.184.216.35", "93.184.216.34")
    assert url_check("https://hooks.example.com/in", resolve=resolve) == "93.184.216.34"
    assert resolve.calls == ["hooks.example.com"]


def test_url_check_refuses_a_name_with_any_private_address_among_its_answers(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    with pytest.raises(WebhookEndpointError) as refused:
        url_check("https://hooks.example.com/in", resolve=resolver("93.184.216.34", "10.0.0.7"))
    assert refused.value.reasons == ["url_not_public"]


def test_a_post_with_a_vetted_address_reaches_it_under_the_urls_host_name(receiver):
    event = events_emit(type=events.EXPORT_RUN_FINISHED, object_type="export_run", object_id=1, data={"run_id": 1})
    url = unresolvable_url(receiver)

    pinned = event_post(url=url, signer=Webhook(SECRET), event=event, timeout=2, address="127.0.0.1")
    unpinned = event_post(url=url, signer=Webhook(SECRET), event=event, timeout=2)

    assert pinned.succeeded and pinned.response_code == 200
    (request,) = receiver.received
    assert request.headers["Host"] == url.split("/")[2]
    assert not unpinned.succeeded and unpinned.response_code is None  # the name itself resolves nowhere


def test_endpoint_delivery_connects_to_the_address_its_check_returned(make_endpoint, receiver, monkeypatch):
    endpoint, _ = make_endpoint(types=[events.EXPORT_RUN_FINISHED], url=unresolvable_url(receiver))
    checked = []
    monkeypatch.setattr(services, "url_check", lambda url: checked.append(url) or "127.0.0.1")
    events_emit(type=events.EXPORT_RUN_FINISHED, object_type="export_run", object_id=7, data={"run_id": 7})
    services.events_dispatch()

    assert services.endpoint_deliver(endpoint_id=endpoint.pk) == 1
    assert checked == [endpoint.url]
    assert Delivery.objects.get(endpoint=endpoint).status == Delivery.Status.SUCCEEDED
    assert len(receiver.accepted()) == 1
