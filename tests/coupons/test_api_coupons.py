import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coupons.models import Coupon, CouponSeries
from tests.coupons.factories import CouponSeriesFactory
from tests.members.factories import MemberFactory, OrgEntityFactory
from tests.offers.factories import OfferFactory

pytestmark = pytest.mark.django_db


def full_body(offer, **overrides):
    body = {
        "offer": offer.pk,
        "name": "Welcome 10",
        "issued_by": "platform",
        "code_generation": {"mode": "unique", "length": 10, "charset": "alphanumeric"},
        "discount": {"type": "percentage", "value": "10.00", "currency": "USD"},
        "expiry": {"mode": "days_from_issue", "days": 30},
        "specific_members_only": False,
        "issual": {"max_per_member": 2, "min_gap_days": 0, "on_rematch": "resend_existing", "series_limit": 1000,
                   "limit_notify_remaining": 10, "limit_notify_emails": ["poc@example.com"],
                   "exclude_recipients_of": [], "exclude_window_days": None, "resend_sms_template": "Your code {code}"},
        "reminders": [{"days_before_expiry": 3, "channel": "sms", "time": "10:00"},
                      {"days_before_expiry": 1, "channel": "email", "time": "18:30"}],
        "redemption": {"allow_anyone": False, "start": {"mode": "days_after_issue", "days": 1}, "multi_use": True,
                       "max_per_member": 2, "stores": {"type": "store", "codes": ["S-1"]}, "min_bill": "20.00",
                       "max_bill": "500.00", "days_of_week": [0, 1], "days_of_month": None, "hours": [9, 10],
                       "min_gap_days": 1, "series_limit": 500,
                       "new_members": {"registered_from": "2026-01-01", "registered_to": None, "max_transactions": 3}},
    }  # fmt: skip
    body.update(overrides)
    return body


def test_series_create_round_trips_every_setting(marketer):
    OrgEntityFactory(code="S-1", type="store")
    response = marketer.post("/api/v1/coupon-series", full_body(OfferFactory(expiring=True)), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code_generation"] == {"mode": "unique", "length": 10, "charset": "alphanumeric"}
    assert body["issual"]["max_per_member"] == 2 and body["issual"]["on_rematch"] == "resend_existing"
    assert [r["time"] for r in body["reminders"]] == ["10:00", "18:30"]
    assert body["redemption"]["stores"] == {"type": "store", "codes": ["S-1"]}
    assert body["redemption"]["new_members"]["max_transactions"] == 3
    assert (body["capacity"], body["issued"], body["redeemed"], body["remaining"]) == (36**10, 0, 0, 1000)
    series = CouponSeries.objects.get()
    assert series.redemption_start_days == 1 and series.min_bill == 20 and series.hours == [9, 10]


def test_series_create_third_party_with_issual_settings_is_400(marketer):
    body = full_body(OfferFactory(expiring=True), issued_by="third_party", redemption=None)
    response = marketer.post("/api/v1/coupon-series", body, format="json")
    assert response.status_code == 400
    assert "issual" in response.json()["errors"]


def test_series_create_bad_input_is_400_and_pos_is_403(marketer, pos):
    assert marketer.post("/api/v1/coupon-series", {"offer": 999, "name": "x"}, format="json").status_code == 400
    body = full_body(OfferFactory(expiring=True), code_generation={"mode": "randomized_common", "sample_code": "AB"})
    assert marketer.post("/api/v1/coupon-series", body, format="json").status_code == 400
    assert pos.post("/api/v1/coupon-series", full_body(OfferFactory(expiring=True)), format="json").status_code == 403


def test_series_patch_locks_code_generation_after_issue(marketer):
    series = CouponSeriesFactory()
    url = f"/api/v1/coupon-series/{series.pk}"
    assert marketer.patch(url, {"name": "New"}, format="json").status_code == 200
    marketer.post(f"{url}/issue", {"member": MemberFactory().external_id}, format="json")
    response = marketer.patch(url, {"code_generation": {"mode": "unique", "length": 12, "charset": "numeric"}},
                              format="json")  # fmt: skip
    assert response.status_code == 409 and response.json()["code"] == "setting_locked"


def test_series_patch_sample_code_never_changes(marketer):
    create = full_body(
        OfferFactory(expiring=True),
        code_generation={"mode": "randomized_common", "sample_code": "TEST12345"},
        redemption=None,
    )
    series_id = marketer.post("/api/v1/coupon-series", create, format="json").json()["id"]
    response = marketer.patch(f"/api/v1/coupon-series/{series_id}",
                              {"code_generation": {"mode": "randomized_common", "sample_code": "ZZZZ12345"}},
                              format="json")  # fmt: skip
    assert response.status_code == 409


def test_series_list_has_no_n_plus_one(marketer):
    for _ in range(3):
        CouponSeriesFactory()
    with CaptureQueriesContext(connection) as few:
        marketer.get("/api/v1/coupon-series")
    for _ in range(5):
        CouponSeriesFactory()
    with CaptureQueriesContext(connection) as many:
        assert marketer.get("/api/v1/coupon-series").json()["count"] == 8
    assert len(many) == len(few)


def test_issue_api_201_then_409_with_reasons(pos):
    series = CouponSeriesFactory(max_per_member=1)
    member = MemberFactory()
    url = f"/api/v1/coupon-series/{series.pk}/issue"
    first = pos.post(url, {"member": member.external_id}, format="json")
    assert first.status_code == 201 and first.json()["resent"] is False
    second = pos.post(url, {"member": member.external_id}, format="json")
    assert second.status_code == 409
    assert second.json()["reasons"] == ["member_limit_reached"]


def test_issue_api_resend_existing_is_200(member_care):
    series = CouponSeriesFactory(max_per_member=1, on_rematch="resend_existing")
    member = MemberFactory()
    url = f"/api/v1/coupon-series/{series.pk}/issue"
    code = member_care.post(url, {"member": member.external_id}, format="json").json()["code"]
    again = member_care.post(url, {"member": member.external_id}, format="json")
    assert again.status_code == 200 and again.json()["resent"] is True and again.json()["code"] == code


def test_issue_api_idempotency_replays_the_first_coupon(pos):
    series = CouponSeriesFactory()
    member = MemberFactory()
    url = f"/api/v1/coupon-series/{series.pk}/issue"
    a = pos.post(url, {"member": member.external_id}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    b = pos.post(url, {"member": member.external_id}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert a.status_code == b.status_code == 201 and a.json()["code"] == b.json()["code"]
    assert Coupon.objects.count() == 1


def test_issue_api_unknown_member_400_unknown_series_404(pos):
    series = CouponSeriesFactory()
    assert pos.post(f"/api/v1/coupon-series/{series.pk}/issue", {"member": "nope"}, format="json").status_code == 400
    assert pos.post("/api/v1/coupon-series/999/issue", {"member": "x"}, format="json").status_code == 404


def test_coupon_detail_and_member_coupons(pos):
    series = CouponSeriesFactory()
    member = MemberFactory()
    code = pos.post(f"/api/v1/coupon-series/{series.pk}/issue", {"member": member.external_id},
                    format="json").json()["code"]  # fmt: skip
    detail = pos.get(f"/api/v1/coupons/{code}")
    assert detail.status_code == 200
    body = detail.json()
    assert set(body) >= {"code", "series", "member", "status", "issued_at", "expires_at", "redeemable_from",
                         "is_reversed", "last_status_change_on"}  # fmt: skip
    assert body["member"] == member.external_id and body["status"] == "issued" and body["is_reversed"] is False
    listing = pos.get(f"/api/v1/members/{member.external_id}/coupons").json()
    assert [c["code"] for c in listing["results"]] == [code]
    assert pos.get("/api/v1/coupons/UNKNOWN").status_code == 404
    assert pos.get("/api/v1/members/nobody/coupons").status_code == 404


def test_upload_api_202_progress_and_error_report(marketer, pos, django_capture_on_commit_callbacks):
    series = CouponSeriesFactory(max_per_member=3)
    member = MemberFactory()
    file = SimpleUploadedFile("m.csv", ("user_id\n" + f"{member.user_id}\n" * 4 + "ghost\n").encode())
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer.post(f"/api/v1/coupon-series/{series.pk}/uploads", {"file": file, "kind": "members"},
                                 format="multipart")  # fmt: skip
    assert response.status_code == 202 and set(response.json()) == {"id", "status"}
    assert pos.get(f"/api/v1/uploads/{response.json()['id']}").status_code == 403
    status = marketer.get(f"/api/v1/uploads/{response.json()['id']}").json()
    assert (status["status"], status["total_rows"], status["succeeded"], status["failed"]) == ("succeeded", 5, 3, 2)
    assert pos.get(status["error_report_url"]).status_code == 403  # the report names members
    report = marketer.get(status["error_report_url"])
    assert report.status_code == 200
    lines = report.content.decode().splitlines()
    assert lines[0] == "row,identifier,code,message"
    assert [line.split(",")[2] for line in lines[1:]] == ["member_limit_reached", "invalid_user_id"]


def test_upload_api_rejects_missing_file_and_wrong_kind(marketer):
    series = CouponSeriesFactory()
    url = f"/api/v1/coupon-series/{series.pk}/uploads"
    assert marketer.post(url, {"kind": "members"}, format="multipart").status_code == 400
    file = SimpleUploadedFile("c.csv", b"code\nA\n")
    assert marketer.post(url, {"file": file, "kind": "codes"}, format="multipart").status_code == 409


def test_coupon_endpoints_404_and_403(marketer, pos, anonymous):
    series = CouponSeriesFactory()
    assert marketer.get("/api/v1/coupon-series/999").status_code == 404
    assert marketer.patch("/api/v1/coupon-series/999", {"name": "x"}, format="json").status_code == 404
    assert pos.patch(f"/api/v1/coupon-series/{series.pk}", {"name": "x"}, format="json").status_code == 403
    assert marketer.get("/api/v1/uploads/999").status_code == 404
    assert marketer.get("/api/v1/uploads/999/error-report").status_code == 404
    file = SimpleUploadedFile("m.csv", b"external_id\nM1\n")
    assert pos.post(f"/api/v1/coupon-series/{series.pk}/uploads", {"file": file, "kind": "members"},
                    format="multipart").status_code == 403  # fmt: skip
    assert marketer.post("/api/v1/coupon-series/999/uploads", {"kind": "members"},
                         format="multipart").status_code == 404  # fmt: skip
    issue = anonymous.post(f"/api/v1/coupon-series/{series.pk}/issue", {"member": "x"}, format="json")
    assert issue.status_code == 401
    assert anonymous.get("/api/v1/coupons/ANY").status_code == 401


def test_series_patch_bad_input_is_400(marketer):
    series = CouponSeriesFactory()
    url = f"/api/v1/coupon-series/{series.pk}"
    assert marketer.patch(url, {"expiry": {"mode": "days_from_issue"}}, format="json").status_code == 400
    assert marketer.patch(url, {"discount": {"type": "percentage", "value": "150"}}, format="json").status_code == 400
    assert marketer.patch(url, {"issual": {"max_per_member": "many"}}, format="json").status_code == 400


def test_coupon_detail_of_a_common_code_by_member(pos):
    series = CouponSeriesFactory(common=True)
    a, b = MemberFactory(), MemberFactory()
    for member in (a, b):
        pos.post(f"/api/v1/coupon-series/{series.pk}/issue", {"member": member.external_id}, format="json")
    body = pos.get(f"/api/v1/coupons/save10?member={b.external_id}").json()
    assert (body["code"], body["member"]) == ("SAVE10", b.external_id)


def test_series_detail_counts_after_issuing(marketer):
    series = CouponSeriesFactory(code_length=4, code_charset="numeric", series_limit=50)
    for _ in range(3):
        marketer.post(f"/api/v1/coupon-series/{series.pk}/issue", {"member": MemberFactory().external_id},
                      format="json")  # fmt: skip
    body = marketer.get(f"/api/v1/coupon-series/{series.pk}").json()
    assert (body["capacity"], body["issued"], body["redeemed"], body["remaining"]) == (10_000, 3, 0, 47)
    assert body["guess_odds"] == pytest.approx(3 / 10_000)
    assert body["guess_warning"] is False
