"""Events are written in the transaction of the change, one per object, set-wise on the set-based paths."""

from datetime import timedelta

import pytest
from django.utils import timezone

from coupons.issuance.bulk import bulk_issue_run
from coupons.lifecycle.expiry_sweep import coupons_expire_due
from coupons.lifecycle.revoke import series_revoke
from coupons.models import Coupon, CouponRedemption
from coupons.redemption.services import redemption_reverse
from tests.conftest import ON_POSTGRES
from tests.coupons.factories import BulkIssueJobFactory, CouponFactory, CouponSeriesFactory
from tests.members.factories import MemberFactory, SegmentFactory
from tests.webhooks.conftest import ACTOR
from webhooks import events
from webhooks.models import Delivery, Event
from webhooks.outbox import events_emit
from webhooks.payloads import thin_payloads_fill
from webhooks.services import events_dispatch, events_purge

pytestmark = pytest.mark.django_db
REDEEM = "/api/v1/coupons/redeem"


def of_type(type):
    return Event.objects.filter(type=type).order_by("pk")


def test_bulk_issuance_writes_one_thin_event_per_coupon_filled_with_its_payload_when_sent():
    segment = SegmentFactory()
    members = [MemberFactory(segments=[segment]) for _ in range(9)]
    series = CouponSeriesFactory()
    job = BulkIssueJobFactory(series=series, segment=segment, chunk_size=3, running=True)
    bulk_issue_run(job_id=job.pk, actor=ACTOR)

    issued = list(of_type(events.COUPON_ISSUED))
    coupons = dict(Coupon.objects.filter(series=series).values_list("pk", "code"))
    assert sorted(int(event.object_id) for event in issued) == sorted(coupons)
    assert [event.data for event in issued] == [None] * 9  # the reference only, until sent

    thin_payloads_fill(issued)
    assert [event.data for event in of_type(events.COUPON_ISSUED)] == [event.data for event in issued]
    assert {event.data["status"] for event in issued} == {"issued"}
    assert {event.data["code"] for event in issued} == set(coupons.values())
    assert {event.data["member_external_id"] for event in issued} == {m.external_id for m in members}
    (finished,) = of_type(events.BULK_ISSUE_FINISHED)
    assert finished.data == {"job_id": job.pk, "series_id": series.pk, "status": "succeeded", "issued": 9,
                             "skipped": 0}  # fmt: skip


def test_redeem_over_the_api_writes_coupon_redeemed_with_the_redemption(pos, store):
    coupon = CouponFactory()
    body = {"code": coupon.code, "member": coupon.member.external_id, "store": store.code, "bill_amount": "50.00",
            "transaction_id": "T-9"}  # fmt: skip
    assert pos.post(REDEEM, body, format="json").status_code == 201

    (event,) = of_type(events.COUPON_REDEEMED)
    redemption = CouponRedemption.objects.get()
    assert (event.object_type, event.object_id) == ("coupon", str(coupon.pk))
    assert event.data["status"] == "redeemed"
    assert event.data["redemption_id"] == redemption.pk
    assert event.data["transaction_id"] == "T-9"
    assert event.data["member_external_id"] == coupon.member.external_id


def test_a_refused_redeem_writes_no_event(pos, store):
    coupon = CouponFactory(redeemed=True)
    body = {"code": coupon.code, "member": coupon.member.external_id, "store": store.code, "bill_amount": "50.00"}
    assert pos.post(REDEEM, body, format="json").status_code == 409
    assert not Event.objects.exists()


def test_reverse_writes_coupon_reversed(pos, store):
    coupon = CouponFactory()
    body = {"code": coupon.code, "member": coupon.member.external_id, "store": store.code, "bill_amount": "50.00"}
    pos.post(REDEEM, body, format="json")
    redemption = CouponRedemption.objects.get()
    redemption_reverse(redemption=redemption, actor=ACTOR)
    redemption_reverse(redemption=redemption, actor=ACTOR)  # a second reverse is a no-op: no second event

    (event,) = of_type(events.COUPON_REVERSED)
    assert (event.data["status"], event.data["redemption_id"]) == ("issued", redemption.pk)


def test_the_expiry_sweep_writes_one_coupon_expired_per_coupon_it_moved():
    past = timezone.now() - timedelta(days=1)
    due = [CouponFactory(expires_at=past) for _ in range(5)]
    CouponFactory(expires_at=timezone.now() + timedelta(days=5))
    assert coupons_expire_due(actor=ACTOR, batch_size=2) == 5

    expired = of_type(events.COUPON_EXPIRED)
    assert sorted(int(event.object_id) for event in expired) == sorted(c.pk for c in due)
    assert {event.data["status"] for event in expired} == {"expired"}
    assert coupons_expire_due(actor=ACTOR) == 0
    assert expired.count() == 5


def test_revoke_writes_one_coupon_revoked_per_coupon_it_moved():
    series = CouponSeriesFactory()
    live = [CouponFactory(series=series) for _ in range(3)]
    CouponFactory(series=series, redeemed=True)
    series_revoke(series=series, mode="all_unredeemed", actor=ACTOR, confirm=True, batch_size=2)

    revoked = of_type(events.COUPON_REVOKED)
    assert sorted(int(event.object_id) for event in revoked) == sorted(c.pk for c in live)
    assert {event.data["status"] for event in revoked} == {"revoked"}


@pytest.mark.skipif(not ON_POSTGRES, reason="the single-statement redemption is PostgreSQL's")
def test_the_redemption_statement_carries_its_event(pos, store, django_assert_max_num_queries):
    """The event is one more CTE of the redemption's statement, not a statement of its own (the till's statement
    counts, with the client cache on, are tests/coupons/redemption/test_statements.py's)."""
    coupon = CouponFactory()
    body = {"code": coupon.code, "member": coupon.member.external_id, "store": store.code, "bill_amount": "5.00"}
    with django_assert_max_num_queries(10) as captured:
        assert pos.post(REDEEM, body, format="json").status_code == 201
    writes = [q["sql"] for q in captured.captured_queries if "webhooks_event" in q["sql"]]
    assert len(writes) == 1
    assert writes[0].startswith("WITH moved AS (UPDATE") and "INSERT INTO webhooks_event" in writes[0]
    assert of_type(events.COUPON_REDEEMED).count() == 1


def test_events_purge_deletes_old_finished_events_and_keeps_pending_ones(make_endpoint):
    make_endpoint()
    old = timezone.now() - timedelta(days=40)
    done = events_emit(type=events.COUPON_ISSUED, object_type="coupon", object_id=1, data={}, at=old)
    waiting = events_emit(type=events.COUPON_ISSUED, object_type="coupon", object_id=2, data={}, at=old)
    recent = events_emit(type=events.COUPON_ISSUED, object_type="coupon", object_id=3, data={})
    events_dispatch()
    Delivery.objects.filter(event=done).update(status="succeeded")

    assert events_purge(older_than_days=30) == 1
    assert set(Event.objects.values_list("pk", flat=True)) == {waiting.pk, recent.pk}
    assert not Delivery.objects.filter(event_id=done.pk).exists()


def test_an_unknown_event_type_is_refused():
    with pytest.raises(ValueError, match="Unknown webhook event type"):
        events_emit(type="coupon.exploded", object_type="coupon", object_id=1, data={})


def test_a_thin_event_keeps_the_payload_of_its_first_send_for_every_try_and_endpoint():
    segment = SegmentFactory()
    MemberFactory(segments=[segment])
    job = BulkIssueJobFactory(series=CouponSeriesFactory(), segment=segment, running=True)
    bulk_issue_run(job_id=job.pk, actor=ACTOR)
    coupon = Coupon.objects.get()
    coupon.status = Coupon.Status.REDEEMED  # redeemed before its issued event went out
    coupon.save(update_fields=["status"])

    (first_sender,) = of_type(events.COUPON_ISSUED)
    thin_payloads_fill([first_sender])
    Coupon.objects.filter(pk=coupon.pk).update(member=MemberFactory())  # moved on after the first send
    (second_sender,) = of_type(events.COUPON_ISSUED)
    thin_payloads_fill([second_sender])

    assert first_sender.data["status"] == "issued"
    assert second_sender.data == first_sender.data
    assert first_sender.data["member_external_id"] == job.segment.members.get().external_id


def test_a_thin_event_whose_coupon_is_gone_is_sent_with_its_reference():
    event = Event.objects.create(type=events.COUPON_ISSUED, object_type="coupon", object_id="987654321", data=None)
    thin_payloads_fill([event])
    assert event.data == {"coupon_id": "987654321"}


def test_only_the_types_with_a_payload_source_may_be_written_thin():
    from webhooks.payloads import coupons_emit_thin

    with pytest.raises(ValueError, match=r"coupon\.redeemed"):
        coupons_emit_thin(type=events.COUPON_REDEEMED, queryset=Coupon.objects.all())
