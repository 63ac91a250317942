"""Webhook delivery through a real worker on Redis to a real receiver on loopback: a worker killed while the
receiver is still answering leaves the delivery claimed; once the claim's lease ends, the scheduled pump (sent
through the broker, as beat would) hands it to a new worker, which delivers it again."""

import pytest
from django.db import transaction
from standardwebhooks.webhooks import Webhook

from config.actors import Actor
from tests.integration.conftest import wait_for
from tests.webhooks.receiver import Receiver
from webhooks import events
from webhooks.models import Delivery
from webhooks.outbox import events_emit
from webhooks.services import endpoint_create
from webhooks.tasks import deliveries_pump_task

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def short_timeout(monkeypatch):
    """Set before any worker starts: the claim's lease is a few timeouts long."""
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "2")


def test_a_worker_killed_mid_delivery_redelivers(celery_worker_factory, receiver):
    receiver.delays = [1.5]  # the first POST is still waiting for its answer when the worker dies
    endpoint, secret = endpoint_create(url=receiver.url, events=[events.COUPON_ISSUED], actor=Actor.system("it"))
    worker = celery_worker_factory()
    with transaction.atomic():
        event = events_emit(type=events.COUPON_ISSUED, object_type="coupon", object_id=7, data={"code": "K-7"})

    wait_for(lambda: len(receiver.received) == 1, timeout=30, message="the first POST")
    worker.kill()
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.attempts, delivery.attempt_log.count()) == ("pending", 1, 0)

    celery_worker_factory()

    def redelivered():
        if Delivery.objects.filter(pk=delivery.pk, status="succeeded").exists():
            return True
        deliveries_pump_task.delay()  # what beat sends every minute
        return False

    wait_for(redelivered, timeout=60, interval=2, message="the delivery after the lease ended")
    assert len(receiver.received) == 2
    assert {request.headers["webhook-id"] for request in receiver.received} == {event.public_id}
    assert Webhook(secret).verify(receiver.received[-1].body, receiver.received[-1].headers)["data"] == {"code": "K-7"}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 2, 200)
