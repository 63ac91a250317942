import pytest

from config.actors import Actor
from coupons.exceptions import CouponIssueError
from coupons.issuance.services import coupon_issue
from coupons.models import Coupon
from tests.concurrency import run_callers
from tests.coupons.factories import CouponSeriesFactory
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(series, members):
    """Every member issued a coupon of the series from its own thread at once; "issued" or the refusal reason."""
    outcomes = run_callers([lambda member=member: coupon_issue(series=series, member=member, actor=Actor.system())
                            for member in members])  # fmt: skip
    for outcome in outcomes:
        if outcome.error is not None and not isinstance(outcome.error, CouponIssueError):
            raise outcome.error
    return ["issued" if outcome.error is None else outcome.error.reasons[0] for outcome in outcomes]


def test_issue_series_limit_holds_under_racing_issuers():
    series = CouponSeriesFactory(series_limit=5)
    outcomes = race(series, [MemberFactory() for _ in range(12)])
    assert outcomes.count("issued") == 5
    assert outcomes.count("series_limit_reached") == 7
    assert Coupon.objects.filter(series=series).count() == 5
    series.refresh_from_db()
    assert series.issued_count == 5


def test_issue_member_limit_holds_when_one_member_races_itself():
    series = CouponSeriesFactory(max_per_member=2)
    member = MemberFactory()
    outcomes = race(series, [member] * 8)
    assert outcomes.count("issued") == 2
    assert Coupon.objects.filter(series=series, member=member).count() == 2
