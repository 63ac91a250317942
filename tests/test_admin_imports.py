"""Admin imports as background jobs: the Import page only queues a review; the review reports each row's errors
and writes nothing; a clean review's "Confirm import" writes the rows, chunk by chunk."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from config.actors import Actor
from jobs.imports import admin_import_run
from jobs.models import ImportJob
from jobs.sweeps import jobs_resume_stale
from jobs.tasks import admin_import_run_task
from members.models import Member
from offers.models import Offer
from rewards.models import CertificateCode
from tests.admin_imports import import_confirm, import_post, import_review, job_of, job_page
from tests.members.factories import MemberFactory, SegmentFactory
from tests.rewards.factories import RewardFactory

pytestmark = pytest.mark.django_db
MEMBERS_IMPORT = "admin:members_member_import"
HEADER = "external_id,email,mobile,user_id,first_name,last_name,birth_date,registered_at,status,transaction_count\n"
BAD_ROWS = {  # row number → (cells, the field named in its error)
    700: ("M-700,not-an-email,+15550000700,u700,Ana,Ng,,2024-01-01T00:00:00Z,active,0", "email"),
    1200: ("M-1200,m1200@example.com,+15550001200,u1200,Ana,Ng,not-a-date,2024-01-01T00:00:00Z,active,0",
           "birth_date"),
    1999: ("M-1999,m1999@example.com,+15550001999,u1999,Ana,Ng,,2024-01-01T00:00:00Z,sleeping,0", "status"),
}  # fmt: skip


@pytest.fixture(autouse=True)
def import_settings(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.IMPORT_CHUNK_ROWS = 500
    return settings


def member_row(number: int) -> str:
    return (f"M-{number},m{number}@example.com,+1555{number:07d},u{number},First{number},Last{number},1990-01-01,"
            "2024-01-01T00:00:00Z,active,0")  # fmt: skip


def members_file(rows: int, bad=None) -> str:
    bad = bad or {}
    return HEADER + "".join((bad[n][0] if n in bad else member_row(n)) + "\n" for n in range(1, rows + 1))


def test_import_post_stores_the_file_and_returns_before_the_review_runs(
    admin_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        response = import_post(admin_client, MEMBERS_IMPORT, members_file(50))

    job = job_of(response)
    assert (job.status, job.dry_run, job.processed_rows, job.total_rows) == ("queued", True, 0, None)
    assert len(queued) == 1  # the review, queued for after the request's commit
    assert job.file.name.startswith("admin_imports/") and job.file_name == "file.csv"
    assert job.file.storage.exists(job.file.name)  # stored under MEDIA_ROOT, which is never served
    assert not Member.objects.exists()
    assert (job.actor, job.channel) == ("admin", "admin")

    admin_import_run_task.apply(kwargs={"job_id": job.pk})  # as the worker runs it

    job.refresh_from_db()
    assert (job.status, job.total_rows, job.processed_rows, job.new, job.errors) == ("succeeded", 50, 50, 50, 0)
    assert not Member.objects.exists()  # a review writes nothing


def test_review_of_a_members_file_reports_exactly_its_bad_rows_and_confirm_imports_the_rest(
    admin_client, django_capture_on_commit_callbacks
):
    MemberFactory(external_id="M-1", first_name="Old")
    content = members_file(2000, BAD_ROWS)

    review = import_review(admin_client, django_capture_on_commit_callbacks, MEMBERS_IMPORT, content)

    assert (review.status, review.total_rows, review.processed_rows) == ("succeeded", 2000, 2000)
    assert (review.new, review.updated, review.errors) == (1996, 1, 3)
    assert sorted({(issue.row, issue.field) for issue in review.issues.all()}) == sorted(
        (number, field) for number, (_, field) in BAD_ROWS.items()
    )
    assert Member.objects.count() == 1 and Member.objects.get(external_id="M-1").first_name == "Old"
    page = job_page(admin_client, review)
    assert "3 rows of 2000 have errors" in page and "Enter a valid email address." in page
    assert "not-a-date" in page and "sleeping" in page
    assert "Confirm import" not in page
    refused = admin_client.post(reverse("admin:jobs_importjob_confirm", args=[review.pk]), follow=True)
    assert "The review found errors" in refused.content.decode() and not ImportJob.objects.filter(review=review)

    report = admin_client.get(reverse("admin:jobs_importjob_report", args=[review.pk]))
    lines = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert lines[0] == ["row", "field", "value", "message"]
    assert [(int(row), field) for row, field, _, _ in lines[1:]] == [(n, f) for n, (_, f) in BAD_ROWS.items()]

    corrected = members_file(2000)
    clean = import_review(admin_client, django_capture_on_commit_callbacks, MEMBERS_IMPORT, corrected)
    assert (clean.errors, clean.new, clean.updated) == (0, 1999, 1)
    assert "Confirm import" in job_page(admin_client, clean)

    imported = import_confirm(admin_client, django_capture_on_commit_callbacks, clean)

    assert (imported.status, imported.dry_run, imported.review_id) == ("succeeded", False, clean.pk)
    assert (imported.processed_rows, imported.new, imported.updated, imported.errors) == (2000, 1999, 1, 0)
    assert Member.objects.count() == 2000
    assert Member.objects.get(external_id="M-1").first_name == "First1"
    assert LogEntry.objects.filter(change_message__contains=f"through import {imported.pk}").count() == 2000
    assert "Confirm import" not in job_page(admin_client, clean)  # confirmed once
    again = admin_client.post(reverse("admin:jobs_importjob_confirm", args=[clean.pk]), follow=True)
    assert "confirmed already" in again.content.decode() or "was confirmed" in again.content.decode()
    assert ImportJob.objects.filter(review=clean).count() == 1


def test_an_import_resumes_after_its_last_committed_chunk(admin_client, django_capture_on_commit_callbacks):
    review = import_review(admin_client, django_capture_on_commit_callbacks, MEMBERS_IMPORT, members_file(1200))
    with django_capture_on_commit_callbacks():  # queued, but the worker "dies" after its first chunk
        job = job_of(admin_client.post(reverse("admin:jobs_importjob_confirm", args=[review.pk])))
    from jobs import imports

    real = imports._chunk_commit
    calls = []

    def dies_after_one_chunk(**kwargs):
        if calls:
            raise SystemExit("worker lost")
        calls.append(1)
        return real(**kwargs)

    imports._chunk_commit = dies_after_one_chunk
    try:
        with pytest.raises(SystemExit):
            admin_import_run(job_id=job.pk)
    finally:
        imports._chunk_commit = real
    job.refresh_from_db()
    assert (job.status, job.processed_rows, Member.objects.count()) == ("running", 500, 500)

    admin_import_run(job_id=job.pk)  # the reaper's resume

    job.refresh_from_db()
    assert (job.status, job.attempts, job.processed_rows, job.new) == ("succeeded", 2, 1200, 1200)
    assert Member.objects.count() == 1200


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"\r\n\r\n", "The file is empty"),
        (HEADER.encode(), "a header but no rows"),
        ((HEADER + "M-1,j\xf6rg@example.com,,,J\xf6rg,,,,active,0\n").encode("latin-1"), "not UTF-8 text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not UTF-8 text"),
        ("external_id,email".encode("utf-16"), "not UTF-8 text"),
        ((HEADER + "M-1," + "x" * 200_000 + "\n").encode(), "a cell longer than 131,072 characters"),
    ],
    ids=["blank lines", "header only", "latin-1", "binary", "utf-16", "huge cell"],
)
def test_a_file_that_cannot_be_read_fails_its_job_with_the_reason(
    admin_client, django_capture_on_commit_callbacks, content, reason
):
    job = import_review(admin_client, django_capture_on_commit_callbacks, MEMBERS_IMPORT, content)

    assert job.status == "failed" and reason in job.error
    assert job.finished_at is not None and not Member.objects.exists()
    page = job_page(admin_client, job)
    assert "The file could not be checked" in page and reason in page


def test_an_empty_file_is_refused_on_the_import_page(admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        response = import_post(admin_client, MEMBERS_IMPORT, b"")
    assert response.status_code == 200 and "The submitted file is empty." in response.content.decode()
    assert not queued and not ImportJob.objects.exists()


def test_a_utf8_file_with_a_byte_order_mark_imports(admin_client, django_capture_on_commit_callbacks):
    review = import_review(admin_client, django_capture_on_commit_callbacks, MEMBERS_IMPORT,
                           ("\ufeff" + members_file(3)).encode("utf-8"))  # fmt: skip
    assert (review.status, review.new, review.errors) == ("succeeded", 3, 0)
    import_confirm(admin_client, django_capture_on_commit_callbacks, review)
    assert sorted(Member.objects.values_list("external_id", flat=True)) == ["M-1", "M-2", "M-3"]


def test_nul_bytes_and_ragged_rows_are_errors_on_their_rows(admin_client, django_capture_on_commit_callbacks):
    content = HEADER + member_row(1) + "\n" + member_row(2).replace("First2", "Fir\x00st2") + "\n"
    content += member_row(3) + ",extra\n" + member_row(4) + "\n"

    review = import_review(admin_client, django_capture_on_commit_callbacks, MEMBERS_IMPORT, content)

    assert (review.status, review.new, review.errors) == ("succeeded", 2, 2)
    issues = [(issue.row, issue.field) for issue in review.issues.all()]
    assert issues == [(2, "first_name"), (3, "")]
    assert "NUL byte" in review.issues.get(row=2).message and "11 cells" in review.issues.get(row=3).message


def test_a_huge_cell_under_the_csv_limit_is_an_error_on_its_field(admin_client, django_capture_on_commit_callbacks):
    content = HEADER + member_row(1).replace("First1", "F" * 100_000) + "\n"

    review = import_review(admin_client, django_capture_on_commit_callbacks, MEMBERS_IMPORT, content)

    assert (review.status, review.errors) == ("succeeded", 1)
    issue = review.issues.get()
    assert issue.field == "first_name" and "at most 100 characters" in issue.message and len(issue.value) == 200


def test_offers_and_certificate_codes_import_through_the_same_jobs(admin_client, django_capture_on_commit_callbacks):
    offers = ("external_id,name,category,publish_at,expire_at,usage_start,usage_end,requires_activation,"
              "allow_multiple_responses,fulfillment_flow\n"
              "IMP-1,Imported,bakery,2026-01-01T00:00:00Z,2099-01-01T00:00:00Z,,,1,0,standard\n")  # fmt: skip
    review = import_review(admin_client, django_capture_on_commit_callbacks, "admin:offers_offer_import", offers)
    import_confirm(admin_client, django_capture_on_commit_callbacks, review)
    assert Offer.objects.get(external_id="IMP-1").requires_activation is True

    RewardFactory(external_id="R-GIFT")
    codes = "code,reward,status\nGIFT-0001,R-GIFT,\nGIFT-0002,R-GIFT,\n"
    review = import_review(admin_client, django_capture_on_commit_callbacks, "admin:rewards_certificatecode_import",
                           codes)  # fmt: skip
    assert (review.new, review.errors) == (2, 0)
    imported = import_confirm(admin_client, django_capture_on_commit_callbacks, review)
    assert imported.status == "succeeded"
    assert sorted(CertificateCode.objects.values_list("code", flat=True)) == ["GIFT-0001", "GIFT-0002"]


def test_an_import_whose_rows_changed_since_the_review_fails_its_chunk_whole(
    admin_client, django_capture_on_commit_callbacks, settings
):
    settings.IMPORT_CHUNK_ROWS = 2
    SegmentFactory(code="vip")
    content = "external_id,email,segments\nM-1,a@example.com,vip\nM-2,b@example.com,\nM-3,c@example.com,vip\n"
    review = import_review(admin_client, django_capture_on_commit_callbacks, MEMBERS_IMPORT, content)
    assert review.errors == 0
    from members.models import Segment

    Segment.objects.filter(code="vip").delete()  # removed between the review and the confirmation

    imported = import_confirm(admin_client, django_capture_on_commit_callbacks, review)

    assert imported.status == "failed" and "Row 1 was refused" in imported.error
    assert not Member.objects.exists()  # the chunk that held the bad row wrote nothing
    assert [issue.row for issue in imported.issues.all()] == [1]


def test_import_page_and_confirm_need_the_right_to_import(client, django_capture_on_commit_callbacks, admin_client):
    from django.contrib.auth.models import Permission, User

    review = import_review(admin_client, django_capture_on_commit_callbacks, MEMBERS_IMPORT, members_file(2))
    viewer = User.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_importjob"))
    client.force_login(viewer)
    page = client.get(reverse("admin:jobs_importjob_change", args=[review.pk])).content.decode()
    assert "Confirm import" not in page
    assert client.post(reverse("admin:jobs_importjob_confirm", args=[review.pk])).status_code == 403
    assert not ImportJob.objects.filter(review=review).exists()


def test_the_old_confirmation_step_points_to_the_review_page(admin_client):
    response = admin_client.post(reverse("admin:members_member_process_import"), {"import_file_name": "x"})
    assert response.status_code == 302 and response["Location"] == reverse(MEMBERS_IMPORT)


def test_review_jobs_are_listed_with_their_progress(admin_client, django_capture_on_commit_callbacks):
    review = import_review(admin_client, django_capture_on_commit_callbacks, MEMBERS_IMPORT, members_file(3))
    page = admin_client.get(reverse("admin:jobs_importjob_changelist")).content.decode()
    assert "file.csv" in page and "Review (nothing written)" in page
    progress = admin_client.get(reverse("admin:jobs_importjob_progress", args=[review.pk])).json()
    assert (progress["status"], progress["done"], progress["total"], progress["finished"]) == ("succeeded", 3, 3, True)


def test_the_stale_job_reaper_resumes_a_lost_import_or_fails_it_attempts_spent(
    admin_client, django_capture_on_commit_callbacks, settings
):
    settings.JOBS_MAX_ATTEMPTS = 2
    review = import_review(admin_client, django_capture_on_commit_callbacks, MEMBERS_IMPORT, members_file(4))
    stale = timezone.now() - timedelta(seconds=settings.JOBS_STALE_AFTER_SECONDS + 60)
    ImportJob.objects.filter(pk=review.pk).update(status="running", heartbeat_at=stale, attempts=1)
    lost = ImportJob.objects.create(model=review.model, resource=review.resource, input_format=review.input_format,
                                    file=review.file.name, file_name="lost.csv", status="running", attempts=2,
                                    heartbeat_at=stale, actor="admin", channel="admin")  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        counts = jobs_resume_stale(actor=Actor.system("test"))

    assert counts["import_jobs"] == {"resumed": 1, "failed": 1}
    review.refresh_from_db()
    lost.refresh_from_db()
    assert (review.status, review.attempts) == ("succeeded", 2)
    assert lost.status == "failed" and "Stopped after 2 attempts" in lost.error
