"""Upload pages say what they expect, refuse what cannot work with one error, and list a finished upload's errors
row by row."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from coupons.models import Upload
from tests.coupons.factories import CouponSeriesFactory, UploadFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
ADD = "admin:coupons_upload_add"


def post_upload(admin_client, capture, series, body: bytes, kind="members", **extra):
    data = {"series": series.pk, "kind": kind, "file": SimpleUploadedFile("list.csv", body), **extra}
    with capture(execute=True):
        return admin_client.post(reverse(ADD), data, follow=True)


def shown_messages(response):
    return [(message.level_tag, str(message)) for message in response.context["messages"]]


def test_upload_add_page_says_the_columns_of_each_kind_with_a_template(admin_client):
    series = CouponSeriesFactory()
    page = admin_client.get(reverse(ADD) + f"?series={series.pk}&kind=members")
    content = page.content.decode()
    assert "external_id" in content and "<code>code</code>" in content
    assert page.context["adminform"].form.initial == {"series": str(series.pk), "kind": "members"}
    for kind, header in (("members", ["external_id"]), ("codes", ["code", "external_id"])):
        url = reverse("admin:coupons_upload_template", args=[kind])
        assert url in content
        template = admin_client.get(url)
        assert template["Content-Disposition"] == f'attachment; filename="upload-{kind}-template.csv"'
        assert next(csv.reader(io.StringIO(template.content.decode()))) == header
    assert admin_client.get("/admin/coupons/upload/template/other.csv").status_code == 404


@pytest.mark.parametrize(
    ("body", "phrase"),
    [
        ("external_id\nM1\n".encode("utf-16"), "not UTF-8 text"),
        (b"external_id\nM\xe91\n", "not UTF-8 text"),
        (b"name\nAda\n", "needs one identifier column"),
    ],
)
def test_upload_that_cannot_work_is_refused_with_one_error(admin_client, django_capture_on_commit_callbacks, body,
                                                           phrase):  # fmt: skip
    series = CouponSeriesFactory()
    response = post_upload(admin_client, django_capture_on_commit_callbacks, series, body, _continue="1")
    assert not Upload.objects.exists()
    form = response.context["adminform"].form
    assert list(form.errors) == ["file"] and phrase in form.errors["file"][0]
    assert shown_messages(response) == []  # no "added successfully", no "doesn't exist"


def test_upload_the_series_does_not_take_is_refused_with_one_error(admin_client, django_capture_on_commit_callbacks):
    series = CouponSeriesFactory()  # generates its codes: it takes no codes file
    response = post_upload(admin_client, django_capture_on_commit_callbacks, series, b"code\nABCD-1\n", kind="codes",
                           _continue="1")  # fmt: skip
    assert not Upload.objects.exists()
    assert response.context["adminform"].form.errors == {
        "kind": ["Existing codes upload only into a series whose codes are uploaded."]}  # fmt: skip
    assert shown_messages(response) == []


def test_upload_finished_page_lists_its_errors_by_row_with_the_report(admin_client, django_capture_on_commit_callbacks):
    series = CouponSeriesFactory()
    MemberFactory(external_id="KNOWN1")
    response = post_upload(admin_client, django_capture_on_commit_callbacks, series,
                           b"external_id\nKNOWN1\nNOBODY\n")  # fmt: skip
    upload = Upload.objects.get()
    assert (upload.status, upload.succeeded, upload.failed) == ("succeeded", 1, 1)
    assert response.redirect_chain[-1][0] == reverse("admin:coupons_upload_change", args=[upload.pk])
    assert [level for level, _ in shown_messages(response)] == ["success"]
    page = admin_client.get(reverse("admin:coupons_upload_change", args=[upload.pk])).content.decode()
    assert 'data-code="invalid_external_id"' in page and "User does not exist with provided external id" in page
    assert "NOBODY" in page and reverse("admin:coupons_upload_issues", args=[upload.pk]) in page


def test_upload_page_shows_the_first_200_errors(admin_client):
    upload = UploadFactory(status="succeeded", total_rows=250, processed_rows=250)
    Upload.objects.filter(pk=upload.pk).update(failed=250)  # the factory's `failed` is its failed-status trait
    upload.issues.bulk_create([upload.issues.model(upload=upload, row=n, identifier=f"X{n}", code="invalid_email",
                                                   message="User does not exist with provided email")
                               for n in range(1, 251)])  # fmt: skip
    page = admin_client.get(reverse("admin:coupons_upload_change", args=[upload.pk])).content.decode()
    assert page.count('data-code="invalid_email"') == 200
    assert "the first 200 are below" in page and "X200<" in page and "X201<" not in page


def test_failed_upload_shows_as_failed_without_a_bar(admin_client, django_capture_on_commit_callbacks):
    failed = UploadFactory(status="failed", error="The file is not a readable CSV.")
    listing = admin_client.get(reverse("admin:coupons_upload_changelist")).content.decode()
    assert "<progress" not in listing and "Failed" in listing
    page = admin_client.get(reverse("admin:coupons_upload_change", args=[failed.pk])).content.decode()
    assert "job-progress--failed" in page and 'progress-bar" hidden' in page
