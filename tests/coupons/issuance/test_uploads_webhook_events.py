"""Uploads write one coupon.issued outbox event for each coupon they issue, and one upload.finished."""

import pytest

from coupons.models import Coupon
from tests.coupons.factories import CouponSeriesFactory
from tests.members.factories import MemberFactory
from webhooks import events
from webhooks.models import Event

pytestmark = pytest.mark.django_db


def issued_events(series):
    ids = {str(pk) for pk in Coupon.objects.filter(series=series, member__isnull=False).values_list("pk", flat=True)}
    events_of_series = Event.objects.filter(type=events.COUPON_ISSUED, object_id__in=ids)
    return sorted(events_of_series.values_list("object_id", flat=True)), sorted(ids)


def test_a_members_upload_writes_an_issued_event_for_each_coupon_it_issues(run):
    series = CouponSeriesFactory(max_per_member=1, min_gap_days=None, series_limit=None)
    members = MemberFactory.create_batch(3)
    text = "user_id\n" + "".join(f"{m.user_id}\n" for m in [*members, members[0]])
    upload = run(series, text)
    assert (upload.succeeded, upload.failed) == (3, 1)
    emitted, coupons = issued_events(series)
    assert len(coupons) == 3
    assert emitted == coupons  # once each: the refused fourth row wrote none
    finished = Event.objects.get(type=events.UPLOAD_FINISHED, object_id=str(upload.pk))
    assert (finished.data["succeeded"], finished.data["failed"]) == (3, 1)


def test_a_codes_upload_writes_issued_events_for_the_codes_given_to_members_only(run):
    series = CouponSeriesFactory(uploaded=True, max_per_member=None, min_gap_days=None, series_limit=None)
    member = MemberFactory()
    upload = run(series, f"code,external_id\nUP-001,{member.external_id}\nUP-002,\n", "codes")
    assert (upload.succeeded, upload.failed) == (2, 0)
    emitted, coupons = issued_events(series)
    assert emitted == coupons == [str(Coupon.objects.get(code="UP-001").pk)]
