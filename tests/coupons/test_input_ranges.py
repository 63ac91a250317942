"""Coupon series settings, issuance and uploads at and past their ranges, read back from the database.

A setting that would make issuance fail later (a start or expiry beyond the calendar) is refused when
the series is saved, through the API, the admin and the service itself.
"""

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from config import ranges
from config.actors import Actor
from coupons.exceptions import CouponSeriesInvalidError
from coupons.issuance.uploads import upload_create
from coupons.models import Coupon, CouponSeries, Reminder
from coupons.series import services
from tests.coupons.factories import CouponSeriesFactory
from tests.extremes import inside, outside
from tests.members.factories import MemberFactory
from tests.offers.factories import OfferFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system()


def series_body(offer, **groups):
    body = {
        "offer": offer.pk,
        "name": "Bounds",
        "code_generation": {"mode": "unique", "length": 10, "charset": "alphanumeric"},
        "discount": {"type": "fixed", "value": "5.00", "currency": "USD"},
        "expiry": {"mode": "days_from_issue", "days": 30},
    }
    for group, values in groups.items():
        body[group] = {**body.get(group, {}), **values} if isinstance(values, dict) else values
    return body


# (group, field, range, the column it lands in): every integer setting of a series.
INTEGER_SETTINGS = [
    ("code_generation", "length", ranges.COUPON_CODE_LENGTH, "code_length"),
    ("expiry", "days", ranges.DAYS, "expiry_days"),
    ("issual", "max_per_member", ranges.POSITIVE_COUNT, "max_per_member"),
    ("issual", "min_gap_days", ranges.DAYS, "min_gap_days"),
    ("issual", "series_limit", ranges.COUNT, "series_limit"),
    ("issual", "limit_notify_remaining", ranges.COUNT, "limit_notify_remaining"),
    ("issual", "exclude_window_days", ranges.DAYS, "exclude_window_days"),
    ("redemption", "max_per_member", ranges.POSITIVE_COUNT, "redemption_max_per_member"),
    ("redemption", "min_gap_days", ranges.DAYS, "redemption_min_gap_days"),
    ("redemption", "series_limit", ranges.COUNT, "redemption_series_limit"),
]


def setting(group, field, value):
    if group == "expiry":
        return {"expiry": {"mode": "days_from_issue", field: value}}
    return {group: {field: value}}


@pytest.mark.parametrize(
    "group, field, value",
    [(group, field, value) for group, field, allowed, _ in INTEGER_SETTINGS for value in outside(allowed)],
)
def test_series_integer_setting_outside_its_range_is_400_naming_it(marketer, group, field, value):
    body = series_body(OfferFactory(expiring=True), **setting(group, field, value))
    response = marketer.post("/api/v1/coupon-series", body, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"][group]
    assert not CouponSeries.objects.exists()


@pytest.mark.parametrize(
    "group, field, value, column",
    [(group, field, value, column) for group, field, allowed, column in INTEGER_SETTINGS for value in inside(allowed)],
)
def test_series_integer_setting_at_its_bounds_is_stored_exactly(marketer, group, field, value, column):
    body = series_body(OfferFactory(expiring=True), **setting(group, field, value))
    response = marketer.post("/api/v1/coupon-series", body, format="json")

    assert response.status_code == 201, response.json()
    assert CouponSeries.objects.values_list(column, flat=True).get() == value


@pytest.mark.parametrize(
    "groups, group",
    [({"expiry": {"mode": "month_ends_from_issue", "months": 10**9}}, "expiry"),
     ({"expiry": {"mode": "month_ends_from_issue", "months": ranges.MONTHS.max + 1}}, "expiry"),
     ({"redemption": {"start": {"mode": "days_after_issue", "days": 10**10}}}, "redemption"),
     ({"redemption": {"start": {"mode": "from_date", "date": "2030-01-01", "days": 2**31}}}, "redemption"),
     ({"redemption": {"new_members": {"max_transactions": 2**32 + 5}}}, "redemption"),
     ({"reminders": [{"days_before_expiry": 2**31, "channel": "sms", "time": "10:00"}]}, "reminders"),
     ({"discount": {"type": "fixed", "value": "10000000000.00"}}, "discount"),
     ({"discount": {"type": "fixed", "value": "-1"}}, "discount"),
     ({"redemption": {"min_bill": "-0.01"}}, "redemption"),
     ({"redemption": {"max_bill": "1e400"}}, "redemption"),
     ({"redemption": {"days_of_week": [7]}}, "redemption"),
     ({"redemption": {"days_of_month": [2**32 + 5]}}, "redemption"),
     ({"redemption": {"hours": [-1]}}, "redemption")],
)  # fmt: skip
def test_series_settings_issuance_could_not_honour_are_refused_when_saved(marketer, groups, group):
    response = marketer.post("/api/v1/coupon-series", series_body(OfferFactory(expiring=True), **groups), format="json")

    assert response.status_code == 400, response.json()
    assert group in response.json()["errors"]
    assert not CouponSeries.objects.exists()


@pytest.mark.parametrize("value", [2**31, 2**32 + 5, 2**40, -1])
def test_series_patch_outside_a_range_is_400_and_keeps_the_setting(marketer, value):
    series = CouponSeriesFactory(series_limit=10)

    response = marketer.patch(f"/api/v1/coupon-series/{series.pk}", {"issual": {"series_limit": value}},
                              format="json")  # fmt: skip

    assert response.status_code == 400
    assert "series_limit" in response.json()["errors"]["issual"]
    assert CouponSeries.objects.values_list("series_limit", flat=True).get(pk=series.pk) == 10


@pytest.mark.parametrize(
    "fields",
    [{"expiry_mode": "month_ends_from_issue", "expiry_months": 10**9},
     {"expiry_mode": "days_from_issue", "expiry_days": 10**10},
     {"redemption_start_mode": "days_after_issue", "redemption_start_days": 10**10},
     {"exclude_window_days": 2**40}, {"series_limit": 2**40}, {"hours": [10**30]}, {"days_of_week": ["1"]}],
)  # fmt: skip
def test_series_service_refuses_settings_out_of_range_whoever_calls_it(fields):
    offer = OfferFactory(expiring=True)
    base = dict(offer=offer, name="Direct", code_mode="unique", code_length=8, code_charset="alphanumeric")

    with pytest.raises(CouponSeriesInvalidError) as refused:
        services.series_create(actor=ACTOR, **{**base, **fields})

    assert refused.value.errors
    assert not CouponSeries.objects.exists()


def test_series_at_the_day_and_month_bounds_issues_with_the_expected_dates(pos):
    offer = OfferFactory(expire_at=None)
    days = CouponSeriesFactory(
        offer=offer,
        expiry_mode="days_from_issue",
        expiry_days=ranges.DAYS.max,
        redemption_start_mode="days_after_issue",
        redemption_start_days=ranges.DAYS.max,
    )
    months = CouponSeriesFactory(offer=offer, expiry_mode="month_ends_from_issue", expiry_months=ranges.MONTHS.max)
    member = MemberFactory()  # fmt: skip

    assert (
        pos.post(f"/api/v1/coupon-series/{days.pk}/issue", {"member": member.external_id}, format="json").status_code
        == 201
    )
    assert (
        pos.post(f"/api/v1/coupon-series/{months.pk}/issue", {"member": member.external_id}, format="json").status_code
        == 201
    )

    today = timezone.localdate()
    by_days = Coupon.objects.get(series=days)
    assert by_days.expires_at.date() == today + timedelta(days=ranges.DAYS.max)
    assert by_days.redeemable_from.date() == today + timedelta(days=ranges.DAYS.max)
    by_months = Coupon.objects.get(series=months)
    assert by_months.expires_at.year == today.year + ranges.MONTHS.max // 12


@pytest.mark.parametrize("series_id", [2**31, 2**32 + 5, 2**63, 2**64 + 5])
def test_issue_to_a_series_id_past_any_column_is_404(pos, series_id):
    member = MemberFactory()

    response = pos.post(f"/api/v1/coupon-series/{series_id}/issue", {"member": member.external_id}, format="json")

    assert response.status_code == 404
    assert not Coupon.objects.exists()


@pytest.mark.parametrize("offer_id", [2**31, 2**63, -1])
def test_series_for_an_offer_id_past_any_column_is_400(marketer, offer_id):
    body = {**series_body(OfferFactory(expiring=True)), "offer": offer_id}

    response = marketer.post("/api/v1/coupon-series", body, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["offer"]


@pytest.mark.parametrize("column", ["external_id", "user_id", "mobile"])
def test_member_upload_with_numeric_identifiers_past_any_column_reports_each_row(
    column, django_capture_on_commit_callbacks
):
    series = CouponSeriesFactory()
    MemberFactory(external_id="4294967301", user_id="u-5", mobile="+15550000005")
    cells = [str(2**31), str(2**63), str(-(2**63) - 1), "5", "1e400"]
    text = column + "\n" + "\n".join(cells) + "\n"

    with django_capture_on_commit_callbacks(execute=True):
        upload = upload_create(series=series, kind="members", file=ContentFile(text.encode(), name="m.csv"),
                               actor=ACTOR)  # fmt: skip
    upload.refresh_from_db()

    assert (upload.status, upload.total_rows, upload.succeeded, upload.failed) == ("succeeded", 5, 0, 5)
    rows = list(csv.DictReader(io.StringIO(upload.error_report.read().decode())))
    assert [row["code"] for row in rows] == [f"invalid_{column}"] * 5
    assert not Coupon.objects.exists()


def test_member_upload_issues_to_the_member_whose_id_is_exactly_the_cell(django_capture_on_commit_callbacks):
    series = CouponSeriesFactory()
    member = MemberFactory(external_id="4294967301")
    MemberFactory(external_id="5")
    text = "external_id\n4294967301\n"

    with django_capture_on_commit_callbacks(execute=True):
        upload_create(series=series, kind="members", file=ContentFile(text.encode(), name="m.csv"), actor=ACTOR)

    assert list(Coupon.objects.values_list("member_id", flat=True)) == [member.pk]


def admin_series_data(offer, **overrides):
    data = {
        "offer": offer.pk, "name": "Admin series", "issued_by": "platform", "code_mode": "unique",
        "code_length": "8", "code_charset": "alphanumeric", "discount_type": "fixed", "discount_value": "5",
        "discount_currency": "USD", "expiry_mode": "with_offer", "on_rematch": "do_not_send",
        "limit_notify_emails": "[]", "redemption_start_mode": "on_issue",
        "stacking_priority": "0", "on_return": "forfeit",
        "reminders-TOTAL_FORMS": "0", "reminders-INITIAL_FORMS": "0",
    }  # fmt: skip
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    "field, value",
    [("series_limit", str(2**40)), ("series_limit", str(2**31)), ("max_per_member", "0"),
     ("expiry_days", str(2**32 + 5)), ("expiry_months", str(10**9)), ("redemption_start_days", str(10**10)),
     ("exclude_window_days", "-1"), ("redemption_series_limit", str(2**63)), ("min_bill", "-1"),
     ("discount_value", "10000000000"), ("days_of_week", "7"), ("hours", "1e30"), ("days_of_month", "32"),
     ("hours", "\x00")],
)  # fmt: skip
def test_series_admin_form_refuses_values_outside_their_ranges(admin_client, field, value):
    data = admin_series_data(OfferFactory(expiring=True), **{field: value})
    response = admin_client.post(reverse("admin:coupons_couponseries_add"), data)

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not CouponSeries.objects.exists()


def test_series_admin_reminder_days_outside_their_range_are_refused(admin_client):
    data = admin_series_data(OfferFactory(expiring=True), **{
        "reminders-TOTAL_FORMS": "1", "reminders-0-days_before_expiry": str(2**31), "reminders-0-channel": "sms",
        "reminders-0-time": "09:00"})  # fmt: skip

    response = admin_client.post(reverse("admin:coupons_couponseries_add"), data)

    assert response.status_code == 200
    assert not CouponSeries.objects.exists() and not Reminder.objects.exists()


def test_series_admin_at_the_bounds_stores_exactly(admin_client):
    data = admin_series_data(OfferFactory(expiring=True), series_limit=str(ranges.COUNT.max),
                             expiry_mode="days_from_issue", expiry_days=str(ranges.DAYS.max),
                             days_of_week=["0", "6"])  # fmt: skip

    response = admin_client.post(reverse("admin:coupons_couponseries_add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    series = CouponSeries.objects.get()
    assert (series.series_limit, series.expiry_days, series.days_of_week) == (ranges.COUNT.max, ranges.DAYS.max, [0, 6])


@pytest.mark.parametrize("series_id", [2**31, 2**63, 2**64 + 5])
def test_series_excluding_an_id_past_any_column_is_400_naming_it(marketer, series_id):
    body = series_body(
        OfferFactory(expiring=True), issual={"exclude_recipients_of": [series_id], "exclude_window_days": 30}
    )

    response = marketer.post("/api/v1/coupon-series", body, format="json")

    assert response.status_code == 400
    assert "exclude_recipients_of" in response.json()["errors"]["issual"]
    assert not CouponSeries.objects.exists()


@pytest.mark.parametrize(
    ("setting", "part"),
    [("expiry", "mode"), ("discount", "type"), ("discount", "value"), ("code_generation", "mode")],
)
def test_series_patch_of_a_setting_without_its_required_part_is_400_naming_it(marketer, setting, part):
    series = CouponSeriesFactory()
    whole = {"expiry": {"mode": "days", "days": 3}, "discount": {"type": "percentage", "value": "10"},
             "code_generation": {"mode": "unique", "length": 8}}[setting]  # fmt: skip
    without_part = {key: value for key, value in whole.items() if key != part}
    response = marketer.patch(f"/api/v1/coupon-series/{series.pk}", {setting: without_part}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][setting][part] == ["This field is required."]
