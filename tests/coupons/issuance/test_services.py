from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from config.actors import Actor
from coupons.exceptions import CouponIssueError, CouponSeriesInvalidError, SettingLockedError
from coupons.issuance.services import coupon_issue
from coupons.models import Coupon, CouponEvent, CouponSeries
from coupons.series.capacity import series_capacity
from coupons.series.services import series_create, series_update
from tests.coupons.factories import CouponSeriesFactory
from tests.members.factories import MemberFactory
from tests.offers.factories import OfferFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system()


def issue(series, member, **kw):
    return coupon_issue(series=series, member=member, actor=ACTOR, **kw)


def reasons_of(series, member):
    with pytest.raises(CouponIssueError) as caught:
        issue(series, member)
    return caught.value.reasons


def test_issue_unique_code_writes_coupon_event_and_counter():
    series = CouponSeriesFactory(code_length=8)
    member = MemberFactory()
    result = issue(series, member)
    coupon = result.coupon
    assert not result.resent
    assert coupon.status == Coupon.Status.ISSUED and coupon.member == member and len(coupon.code) == 8
    assert coupon.expires_at == series.offer.expire_at
    series.refresh_from_db()
    assert (series.issued_count, series.next_code_index) == (1, 1)
    assert CouponEvent.objects.filter(coupon=coupon, new_status="issued").count() == 1


def test_issue_codes_follow_the_series_permutation():
    from coupons.series.codes import series_generator

    series = CouponSeriesFactory(code_length=6, code_charset="numeric")
    codes = [issue(series, MemberFactory()).coupon.code for _ in range(3)]
    generator = series_generator(series)
    assert codes == [generator.code(n) for n in range(3)]
    assert all(code.isdigit() for code in codes)


def test_issue_member_limit_refuses_the_fourth():
    series = CouponSeriesFactory(max_per_member=3)
    member = MemberFactory()
    for _ in range(3):
        issue(series, member)
    assert reasons_of(series, member) == ["member_limit_reached"]


def test_issue_on_rematch_resends_existing_valid_coupon():
    series = CouponSeriesFactory(max_per_member=1, on_rematch=CouponSeries.OnRematch.RESEND_EXISTING)
    member = MemberFactory()
    first = issue(series, member).coupon
    again = issue(series, member)
    assert again.resent and again.coupon.pk == first.pk
    assert Coupon.objects.filter(series=series).count() == 1


def test_issue_min_gap_counts_from_the_last_issue():
    series = CouponSeriesFactory(min_gap_days=1)
    member = MemberFactory()
    now = timezone.now()
    issue(series, member, now=now)
    with pytest.raises(CouponIssueError) as caught:
        issue(series, member, now=now + timedelta(hours=23))
    assert caught.value.reasons == ["min_gap_not_met"]
    assert issue(series, member, now=now + timedelta(days=1)).coupon


def test_issue_common_code_once_per_member():
    series = CouponSeriesFactory(common=True)
    a, b = MemberFactory(), MemberFactory()
    assert issue(series, a).coupon.code == "SAVE10"
    assert issue(series, b).coupon.code == "SAVE10"
    assert reasons_of(series, a) == ["generic_code_already_issued"]


def test_issue_inactive_and_unlisted_members_get_every_reason():
    series = CouponSeriesFactory(specific_members_only=True)
    assert reasons_of(series, MemberFactory(inactive=True)) == ["member_inactive", "member_not_allowed"]


def test_issue_excludes_recent_recipients_of_chosen_series():
    past = CouponSeriesFactory()
    series = CouponSeriesFactory(exclude_window_days=180)
    series.exclude_recipients_of.set([past])
    member, other = MemberFactory(), MemberFactory()
    issue(past, member)
    assert reasons_of(series, member) == ["excluded_by_past_issual"]
    assert issue(series, other).coupon
    Coupon.objects.filter(member=member).update(issued_at=timezone.now() - timedelta(days=181))
    assert issue(series, member).coupon


def test_issue_refuses_past_capacity_with_series_exhausted():
    series = CouponSeriesFactory(code_length=4, code_charset="numeric")
    CouponSeries.objects.filter(pk=series.pk).update(next_code_index=9_999)
    issue(series, MemberFactory())
    series.refresh_from_db()
    assert series_capacity(series).remaining == 0
    assert reasons_of(series, MemberFactory()) == ["series_exhausted"]


def test_issue_upload_series_hands_out_uploaded_codes_then_exhausts():
    series = CouponSeriesFactory(uploaded=True)
    Coupon.objects.create(series=series, code="MIGRATED1", status=Coupon.Status.UNISSUED)
    CouponSeries.objects.filter(pk=series.pk).update(code_count=1)
    coupon = issue(series, MemberFactory()).coupon
    assert coupon.code == "MIGRATED1" and coupon.status == "issued"
    assert reasons_of(series, MemberFactory()) == ["series_exhausted"]


def test_issue_limit_notification_sends_exactly_one_email(django_capture_on_commit_callbacks):
    series = CouponSeriesFactory(series_limit=5, limit_notify_remaining=2, limit_notify_emails=["poc@example.com"])
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            issue(series, MemberFactory())
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["poc@example.com"]
    assert "2 issuals left" in mail.outbox[0].subject


def test_series_capacity_and_guess_odds_for_a_randomized_common_series():
    series = series_create(actor=ACTOR, offer=OfferFactory(expiring=True), name="R", code_mode="randomized_common",
                           sample_code="AB34567890")  # fmt: skip
    assert series.code_prefix == "AB345"
    cap = series_capacity(series)
    assert cap.capacity == 36**5 and cap.remaining == 36**5 and cap.guess_odds == 0
    half = series_capacity(series, planned=36**5 // 2)
    assert half.guess_warning and half.guess_odds == pytest.approx(0.5, rel=1e-6)
    assert not series_capacity(series, planned=60_000).guess_warning  # about 1e-3 of the space


def test_series_randomized_common_prefix_unique_in_program():
    offer = OfferFactory(expiring=True)
    series_create(actor=ACTOR, offer=offer, name="A", code_mode="randomized_common", sample_code="TEST12345")
    with pytest.raises(CouponSeriesInvalidError):
        series_create(actor=ACTOR, offer=offer, name="B", code_mode="randomized_common", sample_code="TEST99999")


def test_series_third_party_refuses_issual_settings():
    with pytest.raises(CouponSeriesInvalidError) as caught:
        series_create(actor=ACTOR, offer=OfferFactory(expiring=True), name="T", issued_by="third_party",
                      code_mode="unique", code_length=8, code_charset="numeric", max_per_member=1)  # fmt: skip
    assert "issual" in caught.value.errors


def test_series_code_generation_locked_once_codes_exist():
    series = CouponSeriesFactory()
    series_update(series=series, actor=ACTOR, code_length=10)  # no codes yet: allowed
    issue(series, MemberFactory())
    with pytest.raises(SettingLockedError):
        series_update(series=series, actor=ACTOR, code_length=12)
    series_update(series=series, actor=ACTOR, name="Renamed", code_length=10)  # unchanged value is fine
