"""The coupon series' page as its hub: tabs for its coupons, uploads, bulk issues and redemptions, pickers instead
of ids and JSON, and a form that refuses settings that could never work."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coupons.models import BulkIssueJob
from exports.dashboard.models import DailyFigure
from tests.coupons.factories import BulkIssueJobFactory, CouponFactory, CouponSeriesFactory, UploadFactory
from tests.members.factories import MemberFactory, OrgEntityFactory, SegmentFactory

pytestmark = pytest.mark.django_db


def hub_url(series, query=""):
    return reverse("admin:coupons_couponseries_change", args=[series.pk]) + query


def series_form_data(series, **changes):
    """The change form's fields as the page posts them, with `changes` applied."""
    data = {
        "offer": series.offer_id, "name": series.name, "issued_by": series.issued_by, "code_mode": series.code_mode,
        "code_length": series.code_length or "", "code_charset": series.code_charset,
        "discount_type": series.discount_type, "discount_value": series.discount_value,
        "discount_currency": series.discount_currency, "expiry_mode": series.expiry_mode,
        "on_rematch": series.on_rematch, "redemption_start_mode": series.redemption_start_mode,
        "stacking_priority": "0", "on_return": series.on_return, "limit_notify_emails": "",
        "reminders-TOTAL_FORMS": "0", "reminders-INITIAL_FORMS": "0",
    }  # fmt: skip
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_series_hub_shows_counts_by_status_coupons_uploads_jobs_and_redemptions(admin_client):
    series = CouponSeriesFactory()
    CouponFactory.create_batch(3, series=series)
    CouponFactory(series=series, redeemed=True, code="REDEEMED1")
    CouponFactory(series=series, revoked=True)
    CouponFactory()  # another series' coupon
    upload = UploadFactory(series=series, status="succeeded", total_rows=12, succeeded=12)
    job = BulkIssueJobFactory(series=series, status="running", total_members=200, issued=50)
    today = timezone.localdate()
    DailyFigure.objects.create(day=today, metric="series_redemptions", scope_id=series.pk, currency="USD", count=4)
    DailyFigure.objects.create(day=today - timedelta(days=3), metric="series_redemptions", scope_id=series.pk,
                               currency="EUR", count=3)  # fmt: skip
    DailyFigure.objects.create(day=today - timedelta(days=120), metric="series_redemptions", scope_id=series.pk,
                               count=100)  # fmt: skip

    response = admin_client.get(hub_url(series))

    assert response.status_code == 200
    hub = response.context["hub"]
    assert {row.status: row.count for row in hub.status_counts} == {
        "unissued": 0, "issued": 3, "redeemed": 1, "expired": 0, "revoked": 1}  # fmt: skip
    assert hub.total_coupons == 5 and len(hub.coupons) == 5
    assert [u.pk for u in hub.uploads] == [upload.pk] and [j.pk for j in hub.bulk_jobs] == [job.pk]
    assert hub.redemptions_total == 7 and len(hub.redemptions_per_day) == 90
    page = response.content.decode()
    for tab in ('id="coupons-group"', 'id="uploads-group"', 'id="bulk-issues-group"', 'id="redemptions-group"'):
        assert tab in page
    assert "Redeemed <strong>1</strong>" in page
    assert f"?series__id__exact={series.pk}" in page  # the full coupon list, filtered by this series
    assert reverse("admin:coupons_upload_change", args=[upload.pk]) in page and "Succeeded" in page
    assert reverse("admin:coupons_bulkissuejob_change", args=[job.pk]) in page and 'value="25"' in page
    assert f"{reverse('admin:coupons_upload_add')}?series={series.pk}&amp;kind=members" in page
    assert reverse("admin:coupons_couponseries_bulk_issue", args=[series.pk]) in page
    assert reverse("admin:coupons_couponseries_revoke", args=[series.pk]) in page


def test_series_hub_filters_its_coupons_by_status(admin_client):
    series = CouponSeriesFactory()
    CouponFactory.create_batch(2, series=series)
    redeemed = CouponFactory(series=series, redeemed=True)

    response = admin_client.get(hub_url(series, "?coupon_status=redeemed"))

    hub = response.context["hub"]
    assert [coupon.pk for coupon in hub.coupons] == [redeemed.pk]
    assert "Newest redeemed coupons" in response.content.decode()
    assert admin_client.get(hub_url(series, "?coupon_status=nonsense")).context["hub"].status_filter == ""


def test_series_hub_query_count_does_not_grow_with_its_coupons_uploads_and_jobs(admin_client):
    series = CouponSeriesFactory()
    CouponFactory(series=series)
    UploadFactory(series=series)
    BulkIssueJobFactory(series=series)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(hub_url(series))
    CouponFactory.create_batch(15, series=series)
    CouponFactory.create_batch(5, series=series, redeemed=True)
    UploadFactory.create_batch(6, series=series)
    for _ in range(4):
        BulkIssueJobFactory(series=series)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(hub_url(series))
    assert response.status_code == 200
    assert len(response.context["hub"].coupons) == 20
    assert len(many) == len(few)


def test_series_form_offers_pickers_not_ids_or_json(admin_client):
    series = CouponSeriesFactory(limit_notify_emails=["marketing@example.com", "ops@example.com"])
    page = admin_client.get(hub_url(series)).content.decode()
    form = admin_client.get(hub_url(series)).context["adminform"].form
    for name in ("offer", "exclude_recipients_of", "redemption_stores"):
        assert "admin-autocomplete" in str(form[name]), name
    assert "selectfilter" not in page.lower() and 'name="offer" type="text"' not in page
    emails = str(form["limit_notify_emails"])
    assert "marketing@example.com\nops@example.com" in emails and "[&quot;" not in emails


def test_series_form_saves_emails_typed_with_commas_and_lines(admin_client):
    series = CouponSeriesFactory()
    data = series_form_data(series, limit_notify_emails="a@example.com, b@example.com\nc@example.com")
    response = admin_client.post(hub_url(series), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    series.refresh_from_db()
    assert series.limit_notify_emails == ["a@example.com", "b@example.com", "c@example.com"]


def test_series_form_refuses_an_address_that_is_not_an_e_mail(admin_client):
    series = CouponSeriesFactory()
    response = admin_client.post(hub_url(series), series_form_data(series, limit_notify_emails="a@example.com\nnope"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["limit_notify_emails"] == ["Not an e-mail address: nope."]


@pytest.mark.parametrize("field", ["max_per_member", "series_limit", "redemption_series_limit"])
def test_series_form_refuses_a_limit_of_zero_that_can_never_be_met(admin_client, field):
    series = CouponSeriesFactory()
    response = admin_client.post(hub_url(series), series_form_data(series, **{field: "0"}))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors[field]
    assert "0" in errors[0] and "leave it empty for no limit" in errors[0]


def test_series_form_refuses_a_series_that_excludes_itself(admin_client):
    series = CouponSeriesFactory()
    response = admin_client.post(hub_url(series), series_form_data(series, exclude_recipients_of=[series.pk]))
    assert response.status_code == 200
    assert "cannot exclude the recipients of itself" in response.context["adminform"].form.errors[
        "exclude_recipients_of"][0]  # fmt: skip


def test_series_form_picks_stores_and_excluded_series(admin_client):
    series, other = CouponSeriesFactory(), CouponSeriesFactory()
    store = OrgEntityFactory()
    data = series_form_data(series, exclude_recipients_of=[other.pk], exclude_window_days="30",
                            redemption_stores_type="store", redemption_stores=[store.pk])  # fmt: skip
    response = admin_client.post(hub_url(series), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(series.exclude_recipients_of.all()) == [other]
    assert list(series.redemption_stores.all()) == [store]


def test_start_bulk_issue_from_the_series_page_runs_and_shows_the_finished_job(
    admin_client, django_capture_on_commit_callbacks
):
    segment = SegmentFactory()
    for _ in range(3):
        MemberFactory(segments=[segment])
    series = CouponSeriesFactory()
    url = reverse("admin:coupons_couponseries_bulk_issue", args=[series.pk])
    assert segment.name in admin_client.get(url).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"segment": segment.pk})

    assert response.status_code == 302 and response["Location"].endswith("#bulk-issues")
    job = BulkIssueJob.objects.get(series=series)
    assert (job.status, job.issued) == ("succeeded", 3)
    hub = admin_client.get(hub_url(series)).context["hub"]
    assert [(j.pk, j.status) for j in hub.bulk_jobs] == [(job.pk, "succeeded")]


def test_start_bulk_issue_refused_shows_the_reason_and_starts_nothing(admin_client):
    series = CouponSeriesFactory(uploaded=True)  # uploaded codes are issued with a members upload
    response = admin_client.post(reverse("admin:coupons_couponseries_bulk_issue", args=[series.pk]), {}, follow=True)
    assert not BulkIssueJob.objects.filter(series=series).exists()
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_series_add_page_has_no_hub_yet(admin_client):
    response = admin_client.get(reverse("admin:coupons_couponseries_add"))
    assert response.status_code == 200 and "hub" not in response.context


def test_series_hub_links_open_the_coupon_and_upload_lists_filtered_by_the_series(admin_client):
    series = CouponSeriesFactory()
    mine = CouponFactory(series=series, redeemed=True)
    CouponFactory(series=series)
    CouponFactory()
    UploadFactory(series=series)
    UploadFactory()
    coupons = admin_client.get(
        reverse("admin:coupons_coupon_changelist") + f"?series__id__exact={series.pk}&status__exact=redeemed"
    )
    assert coupons.status_code == 200 and [c.pk for c in coupons.context["cl"].result_list] == [mine.pk]
    uploads = admin_client.get(reverse("admin:coupons_upload_changelist") + f"?series__id__exact={series.pk}")
    assert uploads.status_code == 200 and [u.series_id for u in uploads.context["cl"].result_list] == [series.pk]
