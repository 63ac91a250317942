"""A coupon series' history: who set it up and changed it, and the revokes, bulk issuance and uploads done to it;
a coupon's history with its transfer; and the coupon rows the admin keeps."""

from datetime import time

import pytest
from django.urls import reverse

from audit.exceptions import HistoryKeptError
from audit.models import AuditEvent
from audit.selectors import audit_events_for
from config.actors import Actor
from coupons.issuance.bulk import bulk_issue_run, bulk_issue_start
from coupons.lifecycle.revoke import series_revoke
from coupons.lifecycle.transfer import coupon_transfer
from coupons.models import BulkIssueJob, Coupon, CouponEvent, CouponRedemption, CouponSeries, ExchangeRate
from coupons.series.services import series_create, series_delete, series_update
from tests.coupons.factories import CouponFactory, CouponSeriesFactory, OfferFactory
from tests.members.factories import MemberFactory, SegmentFactory

pytestmark = pytest.mark.django_db

MARKETER = Actor(name="mara", channel="api:marketer")


def test_series_created_then_changed_records_who_and_only_the_changed_values():
    series = series_create(actor=MARKETER, offer=OfferFactory(expiring=True), name="Spring", code_mode="unique",
                           code_length=8, code_charset="numeric", max_per_member=1,
                           reminders=[{"days_before_expiry": 3, "channel": "sms", "time": time(9)}])  # fmt: skip

    series_update(series=series, actor=Actor.from_admin_user(type("U", (), {"get_username": lambda s: "ann"})()),
                  max_per_member=2, name="Spring")  # fmt: skip

    created, changed = audit_events_for(series).order_by("at", "pk")
    assert (created.action, created.actor, created.channel) == ("create", "mara", "api:marketer")
    assert created.changes["name"] == [None, "Spring"]
    assert created.changes["reminders[3 days, sms].time"] == [None, "09:00:00"]
    assert (changed.action, changed.actor, changed.channel) == ("update", "ann", "admin")
    assert changed.changes == {"max_per_member": [1, 2]}


def test_a_series_update_that_changes_nothing_records_nothing():
    series = CouponSeriesFactory()
    series_update(series=series, actor=MARKETER, name=series.name)
    assert not audit_events_for(series).filter(action="update").exists()


def test_revoke_bulk_issuance_and_upload_appear_in_the_series_history(run):
    series = CouponSeriesFactory(code_mode="unique")
    CouponFactory.create_batch(3, series=series)
    member = MemberFactory()

    series_revoke(series=series, mode="all_unredeemed", actor=MARKETER, confirm=True)
    job = bulk_issue_start(series=series, source=BulkIssueJob.Source.SEGMENT, segment=SegmentFactory(), actor=MARKETER)
    upload = run(series, f"user_id\n{member.user_id}\n", actor=MARKETER)

    rows = {row.action: row for row in audit_events_for(series)}
    assert rows["revoke"].changes == {"revoked_coupons": [None, 3]}
    assert rows["revoke"].summary == "Revoked 3 coupons: every unredeemed coupon"
    assert rows["bulk_issue"].changes == {"bulk_issue_job": [None, job.pk]}
    assert rows["upload"].changes == {"upload": [None, upload.pk]}
    assert {row.actor for row in rows.values()} == {"mara"}


def test_a_finished_bulk_issuance_appears_in_the_series_history_with_its_counts():
    series = CouponSeriesFactory(code_mode="unique")
    segment = SegmentFactory(member_count=3)
    job = bulk_issue_start(series=series, source=BulkIssueJob.Source.SEGMENT, segment=segment, actor=MARKETER)

    bulk_issue_run(job_id=job.pk, actor=Actor.task("bulk_issue_run_task"))

    finished = audit_events_for(series).get(action="bulk_issue", actor="bulk_issue_run_task")
    assert finished.changes == {"issued_count": [None, 3]}
    assert finished.summary == f"Bulk issuance job {job.pk} finished: 3 issued, 0 skipped"


def test_a_transfer_appears_in_the_coupon_history_with_both_members():
    coupon = CouponFactory(status="issued", member=MemberFactory(external_id="FROM-1"))
    coupon_transfer(coupon=coupon, to_member=MemberFactory(external_id="TO-2"), actor=MARKETER)

    (row,) = audit_events_for(coupon)
    assert (row.action, row.changes) == ("transfer", {"member": ["FROM-1", "TO-2"]})


def test_a_series_with_coupons_is_not_deleted_and_one_without_is_deleted_with_its_audit_row():
    kept = CouponFactory(series=CouponSeriesFactory()).series
    empty = CouponSeriesFactory(name="Unused")
    empty_pk = empty.pk

    with pytest.raises(HistoryKeptError):
        series_delete(series=kept, actor=MARKETER)
    series_delete(series=empty, actor=MARKETER)

    assert CouponSeries.objects.filter(pk=kept.pk).exists()
    assert not CouponSeries.objects.filter(pk=empty_pk).exists()
    deleted = AuditEvent.objects.get(action="delete", object_type="coupons.couponseries", object_id=str(empty_pk))
    assert deleted.changes["name"] == ["Unused", None]


def test_the_admin_refuses_to_delete_a_redeemed_coupon_with_a_message(admin_client):
    coupon = CouponFactory(status="redeemed")
    CouponEvent.objects.create(coupon=coupon, old_status="issued", new_status="redeemed", actor="till", channel="api")

    response = admin_client.post(reverse("admin:coupons_coupon_delete", args=[coupon.pk]), {"post": "yes"},
                                 follow=True)  # fmt: skip

    assert Coupon.objects.filter(pk=coupon.pk).exists()
    assert any("kept" in str(m) or "history" in str(m) for m in response.context["messages"])


def test_the_coupon_history_page_shows_its_status_moves_in_words(admin_client):
    coupon = CouponFactory(status="redeemed")
    CouponEvent.objects.create(coupon=coupon, old_status="issued", new_status="redeemed", actor="till-7",
                               channel="api:pos", reason="redeemed at store S1")  # fmt: skip

    page = admin_client.get(reverse("admin:coupons_coupon_history", args=[coupon.pk])).content.decode()

    assert "Issued → Redeemed" in page and "till-7" in page and "redeemed at store S1" in page


@pytest.mark.parametrize("model", [CouponEvent, CouponRedemption])
def test_coupon_events_and_redemptions_have_no_add_change_or_delete_in_the_admin(model, admin_user, rf):
    from django.contrib import admin

    request = rf.get("/")
    request.user = admin_user
    model_admin = admin.site._registry[model]
    assert (model_admin.has_add_permission(request), model_admin.has_change_permission(request),
            model_admin.has_delete_permission(request)) == (False, False, False)  # fmt: skip


def test_an_exchange_rate_changed_in_the_admin_is_recorded(admin_client):
    rate = ExchangeRate.objects.create(from_currency="USD", to_currency="EUR", rate="0.9200")
    url = reverse("admin:coupons_exchangerate_change", args=[rate.pk])

    admin_client.post(url, {"from_currency": "usd", "to_currency": "eur", "rate": "0.9300"})

    (row,) = audit_events_for(rate).filter(action="update")
    assert (row.actor, row.channel, row.changes) == ("admin", "admin", {"rate": ["0.92000000", "0.93000000"]})
