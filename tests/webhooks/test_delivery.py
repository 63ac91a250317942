"""Delivery to a real receiver on loopback: signed, retried, in order per object, timed out, disabled."""

import itertools
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from coupons.issuance.services import coupon_issue
from coupons.models import Coupon
from tests.coupons.factories import CouponSeriesFactory
from tests.members.factories import MemberFactory
from tests.webhooks.conftest import ACTOR
from webhooks import events
from webhooks.models import Delivery, Endpoint, Event
from webhooks.outbox import events_emit
from webhooks.services import deliveries_pump, endpoint_deliver, events_dispatch, retry_delay

pytestmark = pytest.mark.django_db


def issue_one(on_commit):
    member = MemberFactory(external_id="M-HOOK")
    with on_commit(execute=True):
        coupon = coupon_issue(series=CouponSeriesFactory(), member=member, actor=ACTOR).coupon
    return coupon


def test_delivery_signature_verifies_with_the_standard_webhooks_verifier(
    make_endpoint, receiver, django_capture_on_commit_callbacks
):
    endpoint, secret = make_endpoint()
    coupon = issue_one(django_capture_on_commit_callbacks)

    (request,) = receiver.received
    payload = Webhook(secret).verify(request.body, request.headers)
    assert payload["type"] == "coupon.issued"
    assert set(payload) == {"id", "type", "created_at", "data"}
    assert payload["data"]["code"] == coupon.code
    assert payload["data"]["member_external_id"] == "M-HOOK"
    assert request.headers["webhook-id"] == payload["id"] == f"evt_{Event.objects.get().pk}"
    assert request.headers["webhook-signature"].startswith("v1,")
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 1, 200)


def test_delivery_signature_fails_with_another_secret(make_endpoint, receiver, django_capture_on_commit_callbacks):
    make_endpoint()
    issue_one(django_capture_on_commit_callbacks)
    (request,) = receiver.received
    other = "whsec_" + "A" * 43 + "="
    with pytest.raises(Exception, match="signature"):
        Webhook(other).verify(request.body, request.headers)


def test_delivery_500_three_times_then_200_is_accepted_exactly_once_after_retries(
    make_endpoint, receiver, fast_retries, django_capture_on_commit_callbacks
):
    receiver.answers = [500, 500, 500]
    endpoint, _ = make_endpoint()
    issue_one(django_capture_on_commit_callbacks)

    assert [request.status for request in receiver.received] == [500, 500, 500, 200]
    assert len(receiver.accepted()) == 1
    assert len({request.headers["webhook-id"] for request in receiver.received}) == 1  # one message, retried
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.attempts) == ("succeeded", 4)
    log = list(delivery.attempt_log.order_by("at", "pk").values_list("number", "response_code", "succeeded"))
    assert log == [(1, 500, False), (2, 500, False), (3, 500, False), (4, 200, True)]
    assert Endpoint.objects.get(pk=endpoint.pk).failing_since is None


def test_a_rolled_back_change_sends_nothing(make_endpoint, receiver, django_capture_on_commit_callbacks):
    make_endpoint()
    series, member = CouponSeriesFactory(), MemberFactory()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        coupon_issue(series=series, member=member, actor=ACTOR)
        raise RuntimeError("the rest of the change failed")
    deliveries_pump()

    assert callbacks == []
    assert not Coupon.objects.exists()
    assert not Event.objects.exists()
    assert receiver.received == []


def test_deliveries_of_one_object_go_in_order_and_wait_for_an_earlier_retry(make_endpoint, receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [3600.0] * 9
    settings.WEBHOOK_DELIVERY_CONCURRENCY = 1  # one POST at a time, so the receiver's first answer is event 1's
    receiver.answers = [500]
    endpoint, _ = make_endpoint(types=[events.COUPON_ISSUED, events.COUPON_REDEEMED])
    first = events_emit(type=events.COUPON_ISSUED, object_type="coupon", object_id=1, data={"n": 1})
    events_emit(type=events.COUPON_REDEEMED, object_type="coupon", object_id=1, data={"n": 2})
    events_emit(type=events.COUPON_ISSUED, object_type="coupon", object_id=2, data={"n": 3})
    events_dispatch()
    endpoint_deliver(endpoint_id=endpoint.pk)

    # coupon 1's first event failed and waits an hour; its second waits behind it; coupon 2 is not held up
    assert [request.json["data"]["n"] for request in receiver.received] == [1, 3]
    Delivery.objects.filter(event=first).update(next_attempt_at=timezone.now())
    endpoint_deliver(endpoint_id=endpoint.pk)
    endpoint_deliver(endpoint_id=endpoint.pk)
    assert [request.json["data"]["n"] for request in receiver.received] == [1, 3, 1, 2]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"succeeded"}


def test_only_subscribed_types_are_delivered_but_every_event_is_kept(make_endpoint, receiver):
    endpoint, _ = make_endpoint(types=[events.COUPON_REDEEMED])
    events_emit(type=events.COUPON_ISSUED, object_type="coupon", object_id=1, data={})
    events_emit(type=events.COUPON_REDEEMED, object_type="coupon", object_id=1, data={})
    assert events_dispatch()[0] == 2
    endpoint_deliver(endpoint_id=endpoint.pk)

    assert [request.json["type"] for request in receiver.received] == ["coupon.redeemed"]
    assert Event.objects.filter(dispatched_at__isnull=False).count() == 2


def test_a_slow_receiver_times_out_and_is_retried_later(make_endpoint, receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.2
    receiver.delay = 1.0
    endpoint, _ = make_endpoint()
    events_emit(type=events.COUPON_ISSUED, object_type="coupon", object_id=1, data={})
    events_dispatch()
    endpoint_deliver(endpoint_id=endpoint.pk)

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, None)
    assert "Timeout" in delivery.error
    assert delivery.next_attempt_at > timezone.now()


def test_an_endpoint_failing_past_its_tries_fails_the_delivery_and_is_disabled(make_endpoint, receiver, fast_retries):
    fast_retries.WEBHOOK_RETRY_SCHEDULE = [0.0, 0.0]
    fast_retries.WEBHOOK_DISABLE_AFTER_HOURS = 0
    receiver.answers = [503] * 10
    endpoint, _ = make_endpoint()
    events_emit(type=events.COUPON_ISSUED, object_type="coupon", object_id=1, data={})
    events_dispatch()
    endpoint_deliver(endpoint_id=endpoint.pk)

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 3, 503)
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert "HTTP 503" in endpoint.disabled_reason
    # a disabled endpoint is sent nothing more
    events_emit(type=events.COUPON_ISSUED, object_type="coupon", object_id=2, data={})
    deliveries_pump()
    assert len(receiver.received) == 3


def test_a_claim_whose_worker_died_is_taken_again_once_its_lease_ends(make_endpoint, receiver):
    endpoint, _ = make_endpoint()
    events_emit(type=events.COUPON_ISSUED, object_type="coupon", object_id=1, data={})
    events_dispatch()
    # a worker claimed it and died before any answer was recorded
    Delivery.objects.update(claimed_until=timezone.now() + timedelta(minutes=1), attempts=1)
    endpoint_deliver(endpoint_id=endpoint.pk)
    assert receiver.received == []

    Delivery.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert deliveries_pump() == 1
    endpoint_deliver(endpoint_id=endpoint.pk)
    delivery = Delivery.objects.get()
    assert (len(receiver.received), delivery.status, delivery.attempts) == (1, "succeeded", 2)


def test_retry_delay_backs_off_exponentially_with_jitter_over_about_a_day(settings):
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    assert len(schedule) + 1 >= 8  # tries
    assert 20 * 3600 <= sum(schedule) <= 30 * 3600
    assert all(later > earlier for earlier, later in itertools.pairwise(schedule))
    delays = {retry_delay(1) for _ in range(50)}
    assert len(delays) > 1
    assert all(0.8 * schedule[0] <= delay <= 1.2 * schedule[0] for delay in delays)


def test_bulk_issued_coupons_reach_the_receiver_with_their_payload_built_at_send(make_endpoint, receiver):
    from coupons.issuance.bulk import bulk_issue_run
    from tests.coupons.factories import BulkIssueJobFactory
    from tests.members.factories import SegmentFactory

    endpoint, secret = make_endpoint()
    segment = SegmentFactory()
    members = {MemberFactory(segments=[segment]).external_id for _ in range(4)}
    job = BulkIssueJobFactory(series=CouponSeriesFactory(), segment=segment, chunk_size=2, running=True)
    bulk_issue_run(job_id=job.pk, actor=ACTOR)
    events_dispatch()
    assert endpoint_deliver(endpoint_id=endpoint.pk) == 4

    payloads = [Webhook(secret).verify(request.body, request.headers) for request in receiver.accepted()]
    assert {p["data"]["member_external_id"] for p in payloads} == members
    assert {p["data"]["code"] for p in payloads} == set(Coupon.objects.values_list("code", flat=True))
    assert {p["data"]["status"] for p in payloads} == {"issued"}
