from datetime import UTC, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings

from config import sms
from config.actors import Actor
from coupons.models import Reminder, ReminderDelivery
from coupons.notify.reminders import reminder_expiry_windows, reminders_send_due, render_tags
from jobs.tasks import send_reminders_task
from tests.concurrency import run_concurrently
from tests.coupons.factories import CouponFactory, CouponSeriesFactory, ReminderFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

ACTOR = Actor.task("reminders")
EXPIRES = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)
# A reminder 3 days before expiry at 09:00 is due from 2026-12-07 09:00 (UTC, the site's time zone in tests).
MOMENT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def empty_outboxes():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def _series_with_reminder(*, channel=Reminder.Channel.SMS, days=3, at=time(9, 0), offer_name=None):
    series = CouponSeriesFactory(**({"offer__name": offer_name} if offer_name else {}))
    reminder = ReminderFactory(series=series, days_before_expiry=days, channel=channel, time=at)
    return series, reminder


def test_reminders_send_due_sends_each_reminder_once_however_often_it_runs():
    series, reminder = _series_with_reminder()
    coupon = CouponFactory(series=series, expires_at=EXPIRES)

    first = reminders_send_due(actor=ACTOR, now=MOMENT + timedelta(minutes=5))
    second = reminders_send_due(actor=ACTOR, now=MOMENT + timedelta(minutes=10))
    third = reminders_send_due(actor=ACTOR, now=MOMENT + timedelta(hours=3))

    assert (first.sent, second.sent, third.sent) == (1, 0, 0)
    assert len(sms.outbox) == 1
    assert sms.outbox[0].to == coupon.member.mobile
    delivery = ReminderDelivery.objects.get()
    assert (delivery.coupon_id, delivery.reminder_id, delivery.status) == (coupon.pk, reminder.pk, "sent")
    assert delivery.recipient == coupon.member.mobile
    assert delivery.finished_at is not None


def test_reminders_send_due_waits_for_the_time_of_day():
    series, _ = _series_with_reminder(at=time(9, 0))
    CouponFactory(series=series, expires_at=EXPIRES)

    assert reminders_send_due(actor=ACTOR, now=MOMENT - timedelta(minutes=1)).claimed == 0
    assert reminders_send_due(actor=ACTOR, now=MOMENT).sent == 1


def test_reminders_send_due_counts_days_before_expiry_by_date():
    series, _ = _series_with_reminder(days=3)
    due = CouponFactory(series=series, expires_at=EXPIRES)
    CouponFactory(series=series, expires_at=EXPIRES + timedelta(days=1))  # its moment is tomorrow
    CouponFactory(series=series, expires_at=EXPIRES - timedelta(days=1))  # its moment was yesterday, long past

    reminders_send_due(actor=ACTOR, now=MOMENT + timedelta(minutes=1))

    assert list(ReminderDelivery.objects.values_list("coupon_id", flat=True)) == [due.pk]


def test_reminders_send_due_skips_late_moments_beyond_the_window():
    series, _ = _series_with_reminder()
    CouponFactory(series=series, expires_at=EXPIRES)

    with override_settings(REMINDERS_LATE_HOURS=24):
        assert reminders_send_due(actor=ACTOR, now=MOMENT + timedelta(hours=25)).claimed == 0
        assert reminders_send_due(actor=ACTOR, now=MOMENT + timedelta(hours=23)).sent == 1


def test_reminders_send_due_reads_the_time_in_the_reminders_time_zone():
    series, _ = _series_with_reminder(at=time(9, 0))
    helsinki = ZoneInfo("Europe/Helsinki")  # UTC+2 in December
    CouponFactory(series=series, expires_at=datetime(2026, 12, 10, 12, 0, tzinfo=helsinki))

    with override_settings(REMINDERS_TIME_ZONE="Europe/Helsinki"):
        assert reminders_send_due(actor=ACTOR, now=datetime(2026, 12, 7, 6, 59, tzinfo=UTC)).claimed == 0
        assert reminders_send_due(actor=ACTOR, now=datetime(2026, 12, 7, 7, 0, tzinfo=UTC)).sent == 1


def test_reminders_send_due_sends_email_through_the_email_backend():
    series, _ = _series_with_reminder(channel=Reminder.Channel.EMAIL, offer_name="Winter sale")
    coupon = CouponFactory(series=series, expires_at=EXPIRES, code="WINTER42")

    assert reminders_send_due(actor=ACTOR, now=MOMENT).sent == 1

    assert sms.outbox == []
    [message] = mail.outbox
    assert message.to == [coupon.member.email]
    assert message.subject == "Your Winter sale coupon expires on 2026-12-10"
    assert "Your coupon WINTER42 for Winter sale expires on 2026-12-10." in message.body
    assert ReminderDelivery.objects.get().channel == "email"


def test_reminders_send_due_fills_tags_with_unicode():
    series, _ = _series_with_reminder(offer_name="Kaffe & kaka ☕ — Sommar")
    member = MemberFactory(first_name="Zoë", last_name="Ångström")
    CouponFactory(series=series, member=member, expires_at=EXPIRES, code="ÅÄÖ123")

    reminders_send_due(actor=ACTOR, now=MOMENT)

    expected = "Hi Zoë Ångström, your Kaffe & kaka ☕ — Sommar coupon ÅÄÖ123 expires on 2026-12-10. Use it before then!"
    assert sms.outbox[0].body == expected
    assert ReminderDelivery.objects.get().body == expected


def test_render_tags_leaves_unknown_tags_and_stray_braces():
    assert render_tags("{code} {unknown} {", {"code": "X1"}) == "X1 {unknown} {"


def test_reminders_send_due_records_a_failed_send_and_does_not_resend_it():
    series, _ = _series_with_reminder()
    CouponFactory(series=series, expires_at=EXPIRES)

    with override_settings(SMS_BACKEND="tests.coupons.notify.test_reminders.FailingBackend"):
        result = reminders_send_due(actor=ACTOR, now=MOMENT)
    assert (result.claimed, result.sent, result.failed) == (1, 0, 1)
    delivery = ReminderDelivery.objects.get()
    assert delivery.status == "failed"
    assert "gateway down" in delivery.error

    assert reminders_send_due(actor=ACTOR, now=MOMENT + timedelta(minutes=5)).claimed == 0
    assert sms.outbox == []


def test_reminders_send_due_skips_members_without_an_address():
    series, _ = _series_with_reminder()
    CouponFactory(series=series, member=MemberFactory(mobile=""), expires_at=EXPIRES)

    result = reminders_send_due(actor=ACTOR, now=MOMENT)

    assert (result.claimed, result.skipped, result.sent) == (1, 1, 0)
    assert ReminderDelivery.objects.get().status == "skipped"


def test_reminders_send_due_ignores_coupons_not_issued_or_already_expired():
    series, _ = _series_with_reminder(days=0, at=time(9, 0))
    CouponFactory(series=series, expires_at=MOMENT + timedelta(hours=5), redeemed=True)
    CouponFactory(series=series, expires_at=MOMENT - timedelta(minutes=1))  # past expiry, sweep not run yet
    live = CouponFactory(series=series, expires_at=MOMENT + timedelta(hours=5))

    reminders_send_due(actor=ACTOR, now=MOMENT)

    assert list(ReminderDelivery.objects.values_list("coupon_id", flat=True)) == [live.pk]


def test_reminders_send_due_sends_several_reminders_of_a_series_once_each():
    series, _ = _series_with_reminder(days=3, channel=Reminder.Channel.SMS)
    ReminderFactory(series=series, days_before_expiry=1, channel=Reminder.Channel.EMAIL, time=time(18, 0))
    CouponFactory(series=series, expires_at=EXPIRES)

    reminders_send_due(actor=ACTOR, now=MOMENT)
    reminders_send_due(actor=ACTOR, now=datetime(2026, 12, 9, 18, 0, tzinfo=UTC))
    reminders_send_due(actor=ACTOR, now=datetime(2026, 12, 9, 19, 0, tzinfo=UTC))

    assert len(sms.outbox) == 1
    assert len(mail.outbox) == 1
    assert ReminderDelivery.objects.filter(status="sent").count() == 2


def test_reminders_send_due_in_batches_claims_every_coupon_once():
    series, _ = _series_with_reminder()
    for _ in range(5):
        CouponFactory(series=series, expires_at=EXPIRES)

    result = reminders_send_due(actor=ACTOR, now=MOMENT, batch_size=2)

    assert result.sent == 5
    assert len({message.to for message in sms.outbox}) == 5


def test_reminder_expiry_windows_cover_the_local_expiry_day():
    tz = ZoneInfo("Europe/Helsinki")
    windows = reminder_expiry_windows(days_before_expiry=2, at=time(9, 0), now=datetime(2026, 12, 7, 8, 0, tzinfo=UTC),
                                      late=timedelta(hours=24), tz=tz)  # fmt: skip
    assert windows == [(datetime(2026, 12, 9, tzinfo=tz), datetime(2026, 12, 10, tzinfo=tz))]


def test_send_reminders_command_prints_what_it_did():
    series, _ = _series_with_reminder(at=time(0, 0), days=1)
    from django.utils import timezone

    today = timezone.now().astimezone(UTC).date()
    CouponFactory(series=series, expires_at=datetime.combine(today + timedelta(days=1), time(12), tzinfo=UTC))
    out = StringIO()

    call_command("send_reminders", stdout=out)

    assert out.getvalue().strip() == "Reminders: 1 due, 1 sent, 0 failed, 0 skipped (no address)."
    assert len(sms.outbox) == 1


def test_send_reminders_task_returns_counts():
    assert send_reminders_task.delay().get() == {"claimed": 0, "sent": 0, "failed": 0, "skipped": 0}


class FailingBackend(sms.BaseSmsBackend):
    def send_messages(self, messages):
        raise ConnectionError("gateway down")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_reminders_send_due_concurrent_runs_send_each_reminder_once():
    series, _ = _series_with_reminder()
    for _ in range(12):
        CouponFactory(series=series, expires_at=EXPIRES)
    sent = run_concurrently(4, lambda index: reminders_send_due(actor=ACTOR, now=MOMENT, batch_size=5).sent)

    assert sum(sent) == 12
    assert len(sms.outbox) == 12
    assert len({message.to for message in sms.outbox}) == 12
    assert ReminderDelivery.objects.filter(status="sent").count() == 12


def test_reminders_send_due_after_a_crash_between_claim_and_send_does_not_send_twice(monkeypatch):
    from coupons.notify import reminders

    series, _ = _series_with_reminder()
    CouponFactory(series=series, expires_at=EXPIRES)

    def crash(**kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(reminders, "_deliver", crash)
    with pytest.raises(SystemExit):
        reminders_send_due(actor=ACTOR, now=MOMENT)
    monkeypatch.undo()

    assert reminders_send_due(actor=ACTOR, now=MOMENT + timedelta(minutes=5)).claimed == 0
    assert sms.outbox == []
    assert ReminderDelivery.objects.get().status == "claimed"
