"""The liability's day closes: the report carried forward from them answers what reading every coupon answers."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.actors import Actor
from coupons.issuance.services import coupon_issue
from coupons.lifecycle.status import coupon_event, coupon_transition
from coupons.lifecycle.transfer import coupon_transfer
from coupons.models import Coupon, CouponEvent, CouponRedemption
from coupons.redemption import services as redemption
from exports.reports.liability import liability_report
from exports.reports.liability_closes import figures_as_of, last_closable_day, liability_days_close
from exports.reports.liability_figures import end_of_day, figures_scanned
from exports.reports.models import LiabilityClose
from exports.tasks import liability_days_close_task
from tests.coupons.factories import CouponSeriesFactory
from tests.exports.reports.conftest import at, issued
from tests.members.factories import MemberFactory, OrgEntityFactory

pytestmark = pytest.mark.django_db

ACTOR = Actor.system()


def events_as_the_services_write_them():
    """The events the coupon services record with each fact of the hand-built history."""
    events = []
    for coupon in Coupon.objects.exclude(issued_at=None):
        events.append(coupon_event(coupon_id=coupon.pk, old="", new="issued", actor=ACTOR, at=coupon.issued_at))
        if coupon.status == Coupon.Status.REVOKED:
            events.append(coupon_event(coupon_id=coupon.pk, old="issued", new="revoked", actor=ACTOR,
                                       at=coupon.last_status_change_on))  # fmt: skip
        if coupon.status == Coupon.Status.EXPIRED:
            events.append(coupon_event(coupon_id=coupon.pk, old="issued", new="expired", actor=ACTOR,
                                       at=coupon.expires_at + timedelta(hours=3)))  # fmt: skip
    for row in CouponRedemption.objects.select_related("series"):
        if not row.series.multi_use:
            events.append(coupon_event(coupon_id=row.coupon_id, old="issued", new="redeemed", actor=ACTOR,
                                       at=row.redeemed_at))  # fmt: skip
        if row.is_reversed:
            events.append(coupon_event(coupon_id=row.coupon_id, old="redeemed", new="issued", actor=ACTOR,
                                       at=row.reversed_at))  # fmt: skip
    CouponEvent.objects.bulk_create(events)


def closes_through(day: date):
    """Close every day up to `day`, starting from an empty program at the end of 2025."""
    settle = timedelta(hours=73, minutes=1)
    liability_days_close(actor=ACTOR, now=end_of_day(date(2025, 12, 31)) + settle)
    liability_days_close(actor=ACTOR, now=end_of_day(day) + settle)


def as_dict(figures):
    coupons = {pk: counts for pk, counts in figures.coupons.items() if any(counts.values())}
    redemptions = {key: tuple(value) for key, value in figures.redemptions.items() if any(value)}
    return coupons, redemptions, figures.points


def test_every_day_carried_from_the_closes_is_what_reading_every_coupon_gives(history):
    events_as_the_services_write_them()
    closes_through(date(2026, 3, 20))
    closes = LiabilityClose.objects.order_by("day")
    assert closes.first().day == date(2025, 12, 31) and closes.first().method == "scan"
    assert closes.last().day == date(2026, 3, 20) and closes.count() == 1 + 31 + 28 + 20
    day = date(2026, 1, 1)
    while day <= date(2026, 4, 10):  # closed days, then days carried past the last close
        assert as_dict(figures_as_of(day)) == as_dict(figures_scanned(end_of_day(day))), day
        day += timedelta(days=1)


def test_the_report_from_the_closes_matches_the_hand_computed_figures(history):
    events_as_the_services_write_them()
    closes_through(date(2026, 3, 31))
    report = liability_report(as_of=date(2026, 2, 28))
    a = next(row for row in report["coupons"] if row.series_name == "A" and row.currency == "USD")
    assert (a.issued_open_count, a.redeemed_count, a.expired_count, a.revoked_count) == (1, 2, 2, 1)
    assert (a.issued_open_value, a.redeemed_value, a.expired_value) == (Decimal("5"), Decimal("10.00"), Decimal("10"))
    assert report["points"]["outstanding"] == 150
    after = liability_report(as_of=date(2026, 4, 2))  # carried two days past the last close
    a = next(row for row in after["coupons"] if row.series_name == "A" and row.currency == "USD")
    assert (a.issued_open_count, a.redeemed_count, a.expired_count, a.revoked_count) == (3, 1, 2, 1)
    assert after["points"]["outstanding"] == 120


def test_a_day_is_closed_only_once_the_offline_window_has_passed(settings):
    settings.OFFLINE_WINDOW_HOURS = 72
    now = end_of_day(date(2026, 5, 10)) + timedelta(hours=72, minutes=59)  # 01:00 + 72 h past May 10's end: not yet
    assert last_closable_day(now) == date(2026, 5, 9)
    assert last_closable_day(now + timedelta(minutes=2)) == date(2026, 5, 10)


def test_closing_again_closes_nothing_new_and_never_rewrites_a_day(history):
    events_as_the_services_write_them()
    closes_through(date(2026, 2, 10))
    first = {close.day: close.closed_at for close in LiabilityClose.objects.all()}
    closes_through(date(2026, 2, 10))
    assert {close.day: close.closed_at for close in LiabilityClose.objects.all()} == first


def test_the_services_writes_are_carried_exactly(settings):
    """Issue, redeem, reverse, transfer and revoke through the services today, close the days after them, and
    read every figure from the closes: the same as reading every coupon."""
    settings.OFFLINE_WINDOW_HOURS = 72
    series = CouponSeriesFactory(discount_value=5, discount_currency="USD")
    store = OrgEntityFactory(type="store")
    liability_days_close(actor=ACTOR)  # the first close, before anything was issued
    coupons = [coupon_issue(series=series, member=MemberFactory(), actor=ACTOR).coupon for _ in range(5)]
    redemption.coupon_redeem(code=coupons[0].code, member=coupons[0].member, store=store,
                             bill_amount=Decimal("50"), actor=ACTOR)  # fmt: skip
    undone = redemption.coupon_redeem(code=coupons[1].code, member=coupons[1].member, store=store,
                                      bill_amount=Decimal("50"), actor=ACTOR)  # fmt: skip
    redemption.redemption_reverse(redemption=undone, actor=ACTOR)
    coupon_transfer(coupon=coupons[2], to_member=MemberFactory(), actor=ACTOR)
    coupon_transition(coupon=coupons[3], to=Coupon.Status.REVOKED, actor=ACTOR, reason="fraud")
    today = timezone.localdate()
    closed = liability_days_close(actor=ACTOR, now=timezone.now() + timedelta(days=6))
    assert closed >= 5 and LiabilityClose.objects.filter(day=today).exists()
    for day in (today - timedelta(days=1), today, today + timedelta(days=1), today + timedelta(days=9)):
        assert as_dict(figures_as_of(day)) == as_dict(figures_scanned(end_of_day(day))), day
    figures = figures_as_of(today)
    assert figures.coupons[series.pk] == {"open": 3, "expired": 0, "revoked": 1}
    assert figures.redemptions[(series.pk, "USD")] == [1, Decimal("5.00")]


def test_a_transfer_after_a_close_counts_the_coupon_once(history):
    events_as_the_services_write_them()
    series = CouponSeriesFactory(name="T", discount_value=3, discount_currency="USD")
    moved = issued(series, on=at(1, 20))
    CouponEvent.objects.create(coupon=moved, old_status="", new_status="issued", actor="t", channel="t", at=at(1, 20))
    closes_through(date(2026, 2, 28))
    # transferred in March: issued again to the other member, its issue date moved
    Coupon.objects.filter(pk=moved.pk).update(member=MemberFactory(), issued_at=at(3, 10))
    CouponEvent.objects.create(coupon=moved, old_status="issued", new_status="issued", actor="t", channel="t",
                               at=at(3, 10))  # fmt: skip
    assert figures_as_of(date(2026, 2, 28)).coupons[series.pk]["open"] == 1  # as it was closed
    assert figures_as_of(date(2026, 3, 31)).coupons[series.pk]["open"] == 1  # carried: once, not twice
    closes_through(date(2026, 3, 31))
    assert figures_as_of(date(2026, 3, 9)).coupons[series.pk]["open"] == 1  # from its first issue
    assert figures_as_of(date(2026, 3, 31)).coupons[series.pk]["open"] == 1


def test_a_revoked_code_issued_again_leaves_the_revoked_figures_and_counts_open(history):
    events_as_the_services_write_them()
    series = CouponSeriesFactory(name="R", discount_value=4, discount_currency="USD")
    code = issued(series, on=at(1, 20), status="revoked", last_status_change_on=at(2, 20))
    CouponEvent.objects.bulk_create([
        CouponEvent(coupon=code, old_status="", new_status="issued", actor="t", channel="t", at=at(1, 20)),
        CouponEvent(coupon=code, old_status="issued", new_status="revoked", actor="t", channel="t", at=at(2, 20)),
    ])  # fmt: skip
    closes_through(date(2026, 2, 28))
    Coupon.objects.filter(pk=code.pk).update(status="issued", issued_at=at(3, 10), last_status_change_on=at(3, 10))
    CouponEvent.objects.create(coupon=code, old_status="revoked", new_status="issued", actor="t", channel="t",
                               at=at(3, 10))  # fmt: skip
    assert figures_as_of(date(2026, 2, 28)).coupons[series.pk] == {"open": 0, "expired": 0, "revoked": 1}
    assert figures_as_of(date(2026, 3, 31)).coupons[series.pk] == {"open": 1, "expired": 0, "revoked": 0}
    assert as_dict(figures_as_of(date(2026, 3, 31))) == as_dict(figures_scanned(end_of_day(date(2026, 3, 31))))


def test_the_report_from_the_closes_costs_the_same_queries_whatever_changed(history):
    events_as_the_services_write_them()
    closes_through(date(2026, 3, 1))

    def queries(as_of):
        """The report's reads; on PostgreSQL the probe's planner setting comes with a savepoint around it."""
        with CaptureQueriesContext(connection) as captured:
            liability_report(as_of=as_of)
        return sum(1 for query in captured if query["sql"].lstrip().upper().startswith("SELECT"))

    closed_day, carried = queries(date(2026, 2, 28)), queries(date(2026, 3, 31))
    series = CouponSeriesFactory(discount_currency="GBP")
    for _ in range(30):
        coupon = issued(series, on=at(3, 5))
        CouponEvent.objects.create(coupon=coupon, old_status="", new_status="issued", actor="t", channel="t",
                                   at=at(3, 5))  # fmt: skip
    assert (closed_day, carried) == (queries(date(2026, 2, 28)), queries(date(2026, 3, 31))) == (3, 7)


@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_the_close_task_closes_the_settled_days(history):
    result = liability_days_close_task.apply().get()
    assert result == {"closed": 1}
    assert LiabilityClose.objects.get().day == last_closable_day()
