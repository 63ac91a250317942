import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.actors import Actor
from coupons.issuance.services import coupon_issue
from coupons.models import BulkIssueJob, Coupon, CouponSeries, Upload
from tests.coupons.factories import BulkIssueJobFactory, CouponFactory, CouponSeriesFactory, UploadFactory
from tests.members.factories import MemberFactory, SegmentFactory
from tests.offers.factories import OfferFactory

pytestmark = pytest.mark.django_db


def test_series_changelist_shows_counts_without_n_plus_one(admin_client):
    CouponSeriesFactory(series_limit=10)
    url = reverse("admin:coupons_couponseries_changelist")
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url)
    for _ in range(5):
        CouponSeriesFactory()
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)
    assert response.status_code == 200
    assert len(many) == len(few)
    assert b"Remaining" in response.content


def test_series_add_form_in_the_seed_groups_creates_through_the_service(admin_client):
    offer = OfferFactory(expiring=True)
    page = admin_client.get(reverse("admin:coupons_couponseries_add"))
    content = page.content.decode()
    assert "Coupon details" in content and "Issual and reminders" in content and "Redemption" in content
    data = {
        "offer": offer.pk, "name": "Admin series", "issued_by": "platform", "code_mode": "randomized_common",
        "sample_code": "SPRING2026", "code_charset": "", "discount_type": "fixed", "discount_value": "5",
        "discount_currency": "USD", "expiry_mode": "with_offer", "on_rematch": "do_not_send",
        "limit_notify_emails": "[]", "redemption_start_mode": "on_issue",
        "stacking_priority": "0", "on_return": "forfeit",
        "reminders-TOTAL_FORMS": "1", "reminders-INITIAL_FORMS": "0",
        "reminders-0-days_before_expiry": "2", "reminders-0-channel": "sms", "reminders-0-time": "09:00",
    }  # fmt: skip
    response = admin_client.post(reverse("admin:coupons_couponseries_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    series = CouponSeries.objects.get(name="Admin series")
    assert (series.code_prefix, series.code_length) == ("SPRIN", 5)
    assert series.reminders.count() == 1
    change = admin_client.get(reverse("admin:coupons_couponseries_change", args=[series.pk]))
    assert b"A random guess at the till" in change.content and b"possible codes" in change.content


def test_series_admin_refuses_third_party_with_issual_settings(admin_client):
    data = {
        "offer": OfferFactory(expiring=True).pk, "name": "3P", "issued_by": "third_party", "code_mode": "unique",
        "code_length": "8", "code_charset": "numeric", "discount_type": "fixed", "discount_value": "5",
        "expiry_mode": "with_offer", "on_rematch": "do_not_send", "max_per_member": "2",
        "limit_notify_emails": "[]", "redemption_start_mode": "on_issue",
        "stacking_priority": "0", "on_return": "forfeit",
        "reminders-TOTAL_FORMS": "0", "reminders-INITIAL_FORMS": "0",
    }  # fmt: skip
    response = admin_client.post(reverse("admin:coupons_couponseries_add"), data)
    assert response.status_code == 200
    assert not CouponSeries.objects.filter(name="3P").exists()


def bulk_issue_from_the_admin_to_three_members(admin_client, django_capture_on_commit_callbacks):
    segment = SegmentFactory()
    for _ in range(3):
        MemberFactory(segments=[segment])
    series = CouponSeriesFactory()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:coupons_couponseries_changelist"),
            {"action": "start_bulk_issue", "_selected_action": [series.pk], "segment": segment.pk},
        )
    return BulkIssueJob.objects.get(series=series)


def test_bulk_issue_action_queues_a_job_for_the_segment(admin_client, django_capture_on_commit_callbacks):
    job = bulk_issue_from_the_admin_to_three_members(admin_client, django_capture_on_commit_callbacks)
    assert (job.status, job.issued) == ("succeeded", 3)


def test_upload_admin_add_progress_and_issues_download(admin_client, django_capture_on_commit_callbacks):
    series = CouponSeriesFactory()
    file = SimpleUploadedFile("m.csv", b"external_id\nNOBODY\n")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:coupons_upload_add"), {"series": series.pk, "kind": "members", "file": file})
    upload = Upload.objects.get()
    listing = admin_client.get(reverse("admin:coupons_upload_changelist")).content.decode()
    assert "<progress" in listing and "Download issues" in listing
    report = admin_client.get(reverse("admin:coupons_upload_issues", args=[upload.pk]))
    assert report.content.decode().splitlines()[1].split(",")[2] == "invalid_external_id"


def test_coupon_search_by_code_and_member_and_member_tab(admin_client):
    series = CouponSeriesFactory()
    member = MemberFactory(external_id="M-TAB")
    coupon = coupon_issue(series=series, member=member, actor=Actor.system()).coupon
    other = coupon_issue(series=series, member=MemberFactory(), actor=Actor.system()).coupon
    url = reverse("admin:coupons_coupon_changelist")
    by_code = admin_client.get(url, {"q": coupon.code}).content.decode()
    assert coupon.code in by_code and other.code not in by_code
    by_member = admin_client.get(url, {"q": "M-TAB"}).content.decode()
    assert coupon.code in by_member and other.code not in by_member
    tab = admin_client.get(reverse("admin:members_member_change", args=[member.pk])).content.decode()
    assert 'data-tab="coupons"' in tab and coupon.code in tab
    assert Coupon.objects.count() == 2


def test_bulk_issue_action_warns_when_the_guessing_odds_get_high(admin_client, django_capture_on_commit_callbacks):
    segment = SegmentFactory()
    for _ in range(3):
        MemberFactory(segments=[segment])
    series = CouponSeriesFactory(code_length=4, code_charset="numeric")  # 10,000 codes: 3 live is 3e-4
    CouponSeries.objects.filter(pk=series.pk).update(issued_count=8)  # 11 live is 1.1e-3
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:coupons_couponseries_changelist"),
            {"action": "start_bulk_issue", "_selected_action": [series.pk], "segment": segment.pk},
            follow=True,
        )
    assert "random guess would hit a live code" in response.content.decode()


def test_bulk_issue_job_list_and_page_show_progress_polling_the_progress_endpoint(admin_client):
    job = BulkIssueJobFactory(running=True, issued=100_000, skipped=20_000, total_members=1_000_000)
    progress_url = reverse("admin:coupons_bulkissuejob_progress", args=[job.pk])

    listing = admin_client.get(reverse("admin:coupons_bulkissuejob_changelist")).content.decode()
    page = admin_client.get(reverse("admin:coupons_bulkissuejob_change", args=[job.pk])).content.decode()

    assert "120,000 / 1,000,000 (12%)" in listing
    assert f'data-poll-url="{progress_url}"' in page and 'data-finished="false"' in page
    assert 'max="1000000" value="120000"' in page and "offerdesk/job_progress.js" in page
    assert admin_client.get(progress_url).json() == {"status": "running", "status_label": "Running", "done": 120_000,
                                                     "total": 1_000_000, "finished": False, "error": ""}  # fmt: skip


def test_bulk_issue_job_with_an_unknown_total_shows_an_indeterminate_bar(admin_client):
    job = BulkIssueJobFactory()
    listing = admin_client.get(reverse("admin:coupons_bulkissuejob_changelist")).content.decode()
    page = admin_client.get(reverse("admin:coupons_bulkissuejob_change", args=[job.pk])).content.decode()
    assert "0 / ?" in listing
    assert '<progress class="job-progress-bar" ></progress>' in page.replace("\n", "")
    progress = admin_client.get(reverse("admin:coupons_bulkissuejob_progress", args=[job.pk])).json()
    assert (progress["total"], progress["finished"]) == (None, False)


def test_bulk_issue_job_progress_is_finished_after_the_action_succeeds(
    admin_client, django_capture_on_commit_callbacks
):
    job = bulk_issue_from_the_admin_to_three_members(admin_client, django_capture_on_commit_callbacks)
    progress = admin_client.get(reverse("admin:coupons_bulkissuejob_progress", args=[job.pk])).json()
    assert progress | {"status_label": None} == {"status": "succeeded", "status_label": None, "done": 3, "total": 3,
                                                 "finished": True, "error": ""}  # fmt: skip
    page = admin_client.get(reverse("admin:coupons_bulkissuejob_change", args=[job.pk])).content.decode()
    assert 'data-finished="true"' in page and 'max="3" value="3"' in page


def test_bulk_issue_job_progress_needs_staff(client):
    response = client.get(reverse("admin:coupons_bulkissuejob_progress", args=[BulkIssueJobFactory().pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_upload_page_shows_a_live_bar_polling_its_progress_endpoint(admin_client, django_capture_on_commit_callbacks):
    series = CouponSeriesFactory()
    running = UploadFactory(series=series, running=True, total_rows=400, processed_rows=100)
    progress_url = reverse("admin:coupons_upload_progress", args=[running.pk])
    page = admin_client.get(reverse("admin:coupons_upload_change", args=[running.pk])).content.decode()
    assert f'data-poll-url="{progress_url}"' in page and 'max="400" value="100"' in page
    assert admin_client.get(progress_url).json() == {"status": "running", "status_label": "Running", "done": 100,
                                                     "total": 400, "finished": False, "error": ""}  # fmt: skip

    file = SimpleUploadedFile("m.csv", b"external_id\nNOBODY\nNOBODY2\n")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:coupons_upload_add"), {"series": series.pk, "kind": "members", "file": file})
    done = Upload.objects.exclude(pk=running.pk).get()
    progress = admin_client.get(reverse("admin:coupons_upload_progress", args=[done.pk])).json()
    assert (progress["status"], progress["done"], progress["total"], progress["finished"]) == ("succeeded", 2, 2, True)


def test_upload_progress_of_a_queued_upload_has_no_total_yet(admin_client):
    queued = UploadFactory()
    progress = admin_client.get(reverse("admin:coupons_upload_progress", args=[queued.pk])).json()
    assert (progress["status"], progress["total"], progress["finished"]) == ("queued", None, False)


def upload_from_the_admin(admin_client, django_capture_on_commit_callbacks, text):
    series = CouponSeriesFactory()
    file = SimpleUploadedFile("members.csv", text)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:coupons_upload_add"), {"series": series.pk, "kind": "members", "file": file})
    return Upload.objects.get()


def test_upload_page_links_its_file_to_the_admin_download_not_to_media(admin_client,
                                                                       django_capture_on_commit_callbacks):  # fmt: skip
    upload = upload_from_the_admin(admin_client, django_capture_on_commit_callbacks, b"external_id\n=1+2\n")
    page = admin_client.get(reverse("admin:coupons_upload_change", args=[upload.pk])).content.decode()
    download = reverse("admin:coupons_upload_file", args=[upload.pk])
    assert f'href="{download}"' in page and "/media/" not in page
    response = admin_client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"external_id\n=1+2\n"  # the file as uploaded
    report = admin_client.get(reverse("admin:coupons_upload_issues", args=[upload.pk])).content.decode()
    assert report.splitlines()[1].split(",")[:3] == ["1", "'=1+2", "invalid_external_id"]


def test_upload_downloads_need_the_view_permission(admin_client, client, django_capture_on_commit_callbacks):
    upload = upload_from_the_admin(admin_client, django_capture_on_commit_callbacks, b"external_id\nNOBODY\n")
    client.force_login(User.objects.create_user("clerk", password="pw", is_staff=True))  # staff, no permission
    for name in ("admin:coupons_upload_file", "admin:coupons_upload_issues"):
        assert client.get(reverse(name, args=[upload.pk])).status_code == 403, name


def test_coupon_search_by_exact_code_normalises_the_term_not_the_column(admin_client):
    coupon = CouponFactory(code="ABC-123")
    CouponFactory(code="ABC-1234")
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(reverse("admin:coupons_coupon_changelist"), {"q": "  abc-123 "}).content.decode()
    assert f"/admin/coupons/coupon/{coupon.pk}/change/" in page and "ABC-1234" not in page
    searches = [q["sql"] for q in queries if "coupons_coupon" in q["sql"] and "ABC-123" in q["sql"]]
    assert searches and not any('UPPER("coupons_coupon"."code"' in sql for sql in searches)


def test_member_search_by_first_or_last_name(admin_client):
    kim = MemberFactory(external_id="M-KIM", first_name="Kim", last_name="Lee")
    MemberFactory(external_id="M-ADA", first_name="Ada", last_name="Kimball")
    MemberFactory(external_id="M-BOB", first_name="Bob", last_name="Stone")
    url = reverse("admin:members_member_changelist")

    def found(term):
        page = admin_client.get(url, {"q": term}).content.decode()
        return {external_id for external_id in ("M-KIM", "M-ADA", "M-BOB") if external_id in page}

    assert found("Kim") == {"M-KIM", "M-ADA"}
    assert found("kim lee") == {kim.external_id}
    assert found("Stone") == {"M-BOB"}
