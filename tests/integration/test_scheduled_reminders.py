"""Coupon expiry reminders through a real Celery worker: email to files, SMS to files, each once."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from coupons.models import Reminder, ReminderDelivery
from jobs.tasks import send_reminders_task
from tests.coupons.factories import CouponFactory, CouponSeriesFactory, ReminderFactory
from tests.integration.conftest import wait_for
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _due_now():
    """A reminder time and a coupon expiry that make a 1-day reminder due a minute ago (site time zone: UTC)."""
    moment = timezone.now().astimezone(UTC) - timedelta(minutes=1)
    expires_at = datetime.combine(moment.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(
        hours=12
    )
    return moment.time().replace(second=0, microsecond=0), expires_at


def test_scheduled_send_reminders_task_delivers_each_reminder_once_by_email_and_sms(celery_worker, tmp_path):
    at, expires_at = _due_now()
    series = CouponSeriesFactory(offer__name="Été ☀ sale")
    ReminderFactory(series=series, days_before_expiry=1, channel=Reminder.Channel.EMAIL, time=at)
    ReminderFactory(series=series, days_before_expiry=1, channel=Reminder.Channel.SMS, time=at)
    member = MemberFactory(first_name="Zoë", email="zoe@example.com", mobile="+15557654321")
    CouponFactory(series=series, member=member, code="ETE2026", expires_at=expires_at)

    for _ in range(3):  # beat firing again, or a redelivered task, sends nothing twice
        send_reminders_task.delay()
    wait_for(lambda: celery_worker.output().count("succeeded") >= 3, message="three reminder runs finished")

    assert list(ReminderDelivery.objects.values_list("channel", "status").order_by("channel")) == [
        ("email", "sent"),
        ("sms", "sent"),
    ]
    [email_file] = list((tmp_path / "mail").iterdir())
    email = email_file.read_text(encoding="utf-8")
    assert "To: zoe@example.com" in email
    assert email.count("ETE2026") == 1
    sms_lines = [
        line for path in (tmp_path / "sms").iterdir() for line in path.read_text(encoding="utf-8").splitlines()
    ]
    assert [json.loads(line) for line in sms_lines] == [
        {"to": "+15557654321", "body": f"Hi Zoë Lovelace, your Été ☀ sale coupon ETE2026 expires on "
                                       f"{expires_at.date().isoformat()}. Use it before then!"}
    ]  # fmt: skip
