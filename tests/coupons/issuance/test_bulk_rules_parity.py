"""Bulk issuance's SQL issual rules (`coupons.issuance.bulk._may_receive`) agree with `issuance.rules`.

For every member, the bulk decision (`bulk_issue_decisions`, the query a chunk runs, or the coupons a
whole bulk job writes) must equal `issual_reasons(issual_facts(...)) == []`, the single issue's decision.
Each rule has its explicit cases on both sides of its boundary, and hypothesis mixes every rule's
settings and histories in one series.
"""

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.actors import Actor
from coupons.issuance.bulk import bulk_issue_decisions, bulk_issue_run, bulk_issue_start
from coupons.issuance.rules import issual_reasons
from coupons.issuance.services import issual_facts
from coupons.models import Coupon, CouponSeries, SeriesAllowedMember
from members.models import Member
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.members.factories import MemberFactory, SegmentFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system()
DAY, TICK = timedelta(days=1), timedelta(microseconds=1)
NOW = timezone.now().replace(microsecond=500_000)


@dataclass
class Someone:
    """A member as the rules see them: active or not, on the series' list or not, and past coupons."""

    active: bool = True
    on_list: bool = False
    held: list[tuple[timedelta, str]] = field(default_factory=list)  # (how long ago, status), this series
    excluded: list[timedelta] = field(default_factory=list)  # coupons of an excluded series, how long ago


def _build(series: CouponSeries, people: list[Someone], *, excluded_series: CouponSeries | None = None):
    members = []
    for person in people:
        member = MemberFactory(status=Member.Status.ACTIVE if person.active else Member.Status.INACTIVE)
        if person.on_list:
            SeriesAllowedMember.objects.create(series=series, member=member)
        common = series.code_mode == CouponSeries.CodeMode.COMMON
        for ago, status in person.held:
            code = {"code": series.common_code, "is_common": True} if common else {}
            CouponFactory(series=series, member=member, status=status, issued_at=NOW - ago, **code)
        for ago in person.excluded:
            CouponFactory(series=excluded_series, member=member, issued_at=NOW - ago)
        members.append(member)
    return members


def _rules_say(series: CouponSeries, member: Member) -> bool:
    facts, _ = issual_facts(series=series, member=member, now=NOW)
    return issual_reasons(facts) == []


def _assert_parity(series: CouponSeries, members: list[Member]) -> dict[int, bool]:
    series = CouponSeries.objects.select_related("offer").get(pk=series.pk)
    decided = dict(bulk_issue_decisions(Member.objects.filter(pk__in=[m.pk for m in members]), series=series, now=NOW))
    rules = {member.pk: _rules_say(series, member) for member in members}
    assert decided == rules
    return decided


def _decisions(people, **series_settings) -> list[bool]:
    excluded = CouponSeriesFactory()
    series = CouponSeriesFactory(**series_settings)
    if series.exclude_window_days is not None:
        series.exclude_recipients_of.add(excluded)
    members = _build(series, people, excluded_series=excluded)
    decided = _assert_parity(series, members)
    return [decided[member.pk] for member in members]


# --- each rule on both sides of its boundary ------------------------------------------------------


def test_member_limit():
    people = [
        Someone(),
        Someone(held=[(10 * DAY, "issued")]),
        Someone(held=[(10 * DAY, "redeemed"), (9 * DAY, "expired")]),
        Someone(held=[(10 * DAY, "issued"), (9 * DAY, "revoked"), (8 * DAY, "revoked")]),  # revoked ones don't count
    ]
    assert _decisions(people, max_per_member=2) == [True, True, False, True]
    assert _decisions(people, max_per_member=1) == [True, False, False, False]
    assert _decisions(people, max_per_member=0) == [False, False, False, False]


def test_min_gap():
    people = [
        Someone(held=[(3 * DAY, "issued")]),  # exactly the gap ago: the gap is met
        Someone(held=[(3 * DAY - TICK, "issued")]),
        Someone(held=[(3 * DAY + TICK, "redeemed")]),
        Someone(held=[(TICK, "revoked")]),  # a revoked coupon is not the last issual
        Someone(held=[(10 * DAY, "issued"), (DAY, "expired")]),  # the latest counts
    ]
    assert _decisions(people, min_gap_days=3) == [True, False, True, True, False]
    assert _decisions(people, min_gap_days=0) == [True] * 5


def test_exclusion_window():
    people = [
        Someone(excluded=[2 * DAY]),  # exactly at the window's start: inside it
        Someone(excluded=[2 * DAY + TICK]),
        Someone(excluded=[2 * DAY - TICK]),
        Someone(excluded=[30 * DAY, TICK]),
        Someone(),
    ]
    assert _decisions(people, exclude_window_days=2) == [False, True, False, False, True]
    assert _decisions(people, exclude_window_days=0) == [True, True, True, True, True]


def test_exclusion_window_without_excluded_series_excludes_nobody():
    series = CouponSeriesFactory(exclude_window_days=5)
    members = _build(series, [Someone(held=[(DAY, "issued")]), Someone()])
    assert list(_assert_parity(series, members).values()) == [True, True]


def test_generic_code():
    people = [
        Someone(),
        Someone(held=[(30 * DAY, "expired")]),
        Someone(held=[(30 * DAY, "redeemed")]),
        Someone(held=[(30 * DAY, "revoked")]),
    ]
    assert _decisions(people, common=True) == [True, False, False, True]


def test_specific_members():
    people = [Someone(on_list=True), Someone(on_list=False), Someone(on_list=True, active=False)]
    assert _decisions(people, specific_members_only=True) == [True, False, False]
    assert _decisions(people, specific_members_only=False) == [True, True, False]


def test_inactive_member():
    assert _decisions([Someone(active=True), Someone(active=False)]) == [True, False]


# --- the series limit: what a whole bulk job writes, member by member in id order ------------------


@pytest.mark.parametrize(("limit", "already"), [(0, 0), (3, 3), (4, 1), (5, 0), (20, 2)])
def test_series_limit_stops_a_job_where_the_rules_stop_one_issue_after_another(limit, already):
    series = CouponSeriesFactory(series_limit=limit, issued_count=already)
    segment = SegmentFactory()
    members = [MemberFactory(segments=[segment], status="inactive" if n % 3 == 1 else "active") for n in range(6)]
    expected, issued = set(), already
    for member in sorted(members, key=lambda m: m.pk):
        series.issued_count = issued  # as it stands after the members before this one
        facts, _ = issual_facts(series=series, member=member, now=timezone.now())
        if issual_reasons(facts) == []:
            expected.add(member.pk)
            issued += 1

    job = bulk_issue_start(series=series, source="segment", segment=segment, actor=ACTOR, chunk_size=2)
    bulk_issue_run(job_id=job.pk, actor=ACTOR)

    assert set(Coupon.objects.filter(series=series).values_list("member_id", flat=True)) == expected
    assert len(expected) == max(0, min(limit - already, 4))  # four active members


# --- every rule at once --------------------------------------------------------------------------

AGES = st.sampled_from([TICK, DAY - TICK, DAY, DAY + TICK, 2 * DAY, 3 * DAY - TICK, 3 * DAY, 7 * DAY, 40 * DAY])
STATUSES = st.sampled_from(["issued", "redeemed", "expired", "revoked"])
PEOPLE = st.lists(
    st.builds(
        Someone,
        active=st.booleans(),
        on_list=st.booleans(),
        held=st.lists(st.tuples(AGES, STATUSES), max_size=3),
        excluded=st.lists(AGES, max_size=2),
    ),
    min_size=1,
    max_size=5,
)
SERIES_SETTINGS = st.fixed_dictionaries(
    {
        "common": st.booleans(),
        "specific_members_only": st.booleans(),
        "max_per_member": st.sampled_from([None, 0, 1, 2, 3]),
        "min_gap_days": st.sampled_from([None, 0, 1, 3]),
        "exclude_window_days": st.sampled_from([None, 0, 1, 3]),
    }
)


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(people=PEOPLE, series_settings=SERIES_SETTINGS)
def test_every_rule_at_once(people, series_settings):
    if series_settings["common"]:
        people = [Someone(p.active, p.on_list, p.held[:1], p.excluded) for p in people]  # one row per member
    with transaction.atomic():
        _decisions(people, **series_settings)
        transaction.set_rollback(True)  # each example starts from an empty database
