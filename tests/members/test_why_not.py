""" "Why not?": each reason an offer, a coupon or a reward gives, in words with its code, and nothing changed."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from coupons.models import CouponRedemption, UnknownCodeBurst
from members import why_not
from offers.models import OfferLimit
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.members.factories import MemberFactory, OrgEntityFactory, SegmentFactory
from tests.offers.factories import ActivationFactory, AudienceFactory, LimitFactory, OfferFactory
from tests.rewards.factories import CertificateCodeFactory, RewardFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def codes(answer) -> list[str]:
    return [reason.code for reason in answer.reasons]


@pytest.mark.parametrize(
    ("offer_fields", "code"),
    [
        ({"discontinued_at": NOW - timedelta(days=1)}, "discontinued"),
        ({"publish_at": NOW + timedelta(days=1)}, "unpublished"),
        ({"expire_at": NOW - timedelta(days=1)}, "expired"),
    ],
)
def test_offer_why_not_names_a_global_status_in_words(offer_fields, code):
    answer = why_not.offer_why_not(member=MemberFactory(), offer=OfferFactory(**offer_fields))

    assert codes(answer) == [code] and not answer.can_use
    assert answer.reasons[0].sentence.startswith("The offer ")


def test_offer_why_not_names_the_missing_segment_and_the_age_audience():
    member = MemberFactory(birth_date=(NOW - timedelta(days=365 * 16)).date())
    by_age = AudienceFactory(min_age=18).offer
    by_segment = AudienceFactory(type="segment", min_age=None, segment=SegmentFactory()).offer

    assert codes(why_not.offer_why_not(member=member, offer=by_age)) == ["age_restricted"]
    assert codes(why_not.offer_why_not(member=member, offer=by_segment)) == ["missing_required_segments"]


def test_offer_why_not_an_opt_in_not_activated_and_then_nothing_once_activated():
    member, offer = MemberFactory(), OfferFactory(opt_in=True)

    before = why_not.offer_why_not(member=member, offer=offer)
    ActivationFactory(member=member, offer=offer)
    after = why_not.offer_why_not(member=member, offer=offer)

    assert codes(before) == ["not_activated"]
    assert "not activated" in before.reasons[0].sentence
    assert after.can_use


def test_offer_why_not_counts_what_each_limit_leaves():
    member, offer = MemberFactory(), OfferFactory()
    LimitFactory(offer=offer, scope=OfferLimit.Scope.GLOBAL, max_count=10, used_count=4)
    LimitFactory(offer=offer, scope=OfferLimit.Scope.MEMBER, max_count=3)

    answer = why_not.offer_why_not(member=member, offer=offer)

    assert {(limit.label, limit.left, limit.of) for limit in answer.limits} == {
        ("Fulfillments, every member's", 6, 10),
        ("Fulfillments, this member's", 3, 3),
    }


def test_offer_why_not_a_reached_global_limit():
    offer = OfferFactory()
    LimitFactory(offer=offer, max_count=2, used_count=2)

    answer = why_not.offer_why_not(member=MemberFactory(), offer=offer)

    assert codes(answer) == ["global_limit"] and answer.limits[0].left == 0


def test_coupon_why_not_an_issued_coupon_of_the_member_has_no_reason():
    coupon = CouponFactory()

    assert why_not.coupon_why_not(member=coupon.member, coupon=coupon, store=OrgEntityFactory()).can_use


@pytest.mark.parametrize(
    ("coupon_fields", "code"),
    [({"revoked": True}, "revoked"), ({"redeemed": True}, "already_redeemed")],
)
def test_coupon_why_not_names_its_state(coupon_fields, code):
    coupon = CouponFactory(**coupon_fields)

    assert code in codes(why_not.coupon_why_not(member=coupon.member, coupon=coupon))


def test_coupon_why_not_another_members_coupon_and_a_start_in_the_future():
    coupon = CouponFactory(redeemable_from=NOW + timedelta(days=2))

    answer = why_not.coupon_why_not(member=MemberFactory(), coupon=coupon)

    assert codes(answer) == ["not_owner", "redemption_not_started"]
    assert answer.reasons[0].sentence == "The coupon belongs to another member."


def test_coupon_why_not_judges_the_bill_only_when_one_is_given():
    coupon = CouponFactory(series=CouponSeriesFactory(min_bill=Decimal("20"), max_bill=Decimal("100")))

    unjudged = why_not.coupon_why_not(member=coupon.member, coupon=coupon)
    low = why_not.coupon_why_not(member=coupon.member, coupon=coupon, bill_amount=Decimal("5"))
    high = why_not.coupon_why_not(member=coupon.member, coupon=coupon, bill_amount=Decimal("500"))

    assert unjudged.can_use and any("bill" in note for note in unjudged.notes)
    assert codes(low) == ["bill_below_minimum"] and codes(high) == ["bill_above_maximum"]


def test_coupon_why_not_judges_days_and_hours_at_the_time_asked_in_the_stores_zone():
    store = OrgEntityFactory(time_zone="America/New_York")
    coupon = CouponFactory(series=CouponSeriesFactory(hours=[9, 10, 11], days_of_week=[0]))
    a_sunday_at_noon_utc = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # 07:00 in New York

    answer = why_not.coupon_why_not(member=coupon.member, coupon=coupon, store=store, at=a_sunday_at_noon_utc)

    assert codes(answer) == ["day_of_week_not_allowed", "hour_not_allowed"]


def test_coupon_why_not_a_store_outside_the_series_stores_and_none_chosen():
    allowed, elsewhere = OrgEntityFactory(), OrgEntityFactory()
    series = CouponSeriesFactory(redemption_stores_type="store")
    series.redemption_stores.set([allowed])
    coupon = CouponFactory(series=series)

    assert codes(why_not.coupon_why_not(member=coupon.member, coupon=coupon, store=elsewhere)) == ["store_not_allowed"]
    assert why_not.coupon_why_not(member=coupon.member, coupon=coupon, store=allowed).can_use
    assert why_not.coupon_why_not(member=coupon.member, coupon=coupon).can_use  # no store: not judged


def test_coupon_why_not_a_series_at_its_redemption_limit_and_what_it_leaves():
    series = CouponSeriesFactory(redemption_series_limit=5)
    series.redeemed_count = 5
    series.save(update_fields=["redeemed_count"])
    coupon = CouponFactory(series=series)

    answer = why_not.coupon_why_not(member=coupon.member, coupon=coupon)

    assert codes(answer) == ["series_redemption_limit_reached"]
    assert [(limit.left, limit.of) for limit in answer.limits] == [(0, 5)]


def test_coupon_why_not_a_time_far_ahead_is_not_the_tills_clock_and_counts_no_guess():
    coupon = CouponFactory()
    next_year = NOW + timedelta(days=300)

    answer = why_not.coupon_why_not(member=MemberFactory(), coupon=coupon, at=next_year)

    assert "time_out_of_range" not in codes(answer)
    assert not UnknownCodeBurst.objects.exists() and not CouponRedemption.objects.exists()


def test_reward_why_not_points_short_says_by_how_many():
    member = MemberFactory(points=30)
    reward = RewardFactory(cost_points=100)
    CertificateCodeFactory(reward=reward)

    answer = why_not.reward_why_not(member=member, reward=reward)

    assert codes(answer) == ["insufficient_points"]
    assert answer.reasons[0].sentence == "The member is 70 points short of its 100."


def test_reward_why_not_no_codes_inactive_reward_and_inactive_member():
    reward = RewardFactory(inactive=True, cost_points=0)

    answer = why_not.reward_why_not(member=MemberFactory(inactive=True), reward=reward)

    assert codes(answer) == ["reward_inactive", "member_inactive", "no_codes_available"]


def test_reward_why_not_a_bank_code_is_enough_and_the_balance_after_is_shown():
    CertificateCodeFactory(reward=None)
    member = MemberFactory(points=250)

    answer = why_not.reward_why_not(member=member, reward=RewardFactory(cost_points=100))

    assert answer.can_use
    assert [(limit.left, limit.of) for limit in answer.limits] == [(150, 250), (0, None)]
