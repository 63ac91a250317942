"""The admin lists' "Export" buttons: a background export run through the export engine, never a file built
inside the request; the request returns before the run has done anything, and the run's page has the file."""

import csv
import io

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from exports.models import ExportRun
from tests.coupons.factories import CouponFactory, CouponRedemptionFactory
from tests.members.factories import MemberFactory
from tests.rewards.factories import CertificateCodeFactory

pytestmark = pytest.mark.django_db

LISTS = {
    "members_member": ("members", MemberFactory),
    "coupons_coupon": ("coupons", CouponFactory),
    "rewards_certificatecode": ("certificate_codes", CertificateCodeFactory),
    "coupons_couponredemption": ("coupon_redemptions", CouponRedemptionFactory),
}


def read(run):
    with default_storage.open(run.file.name, "rb") as handle:
        return list(csv.DictReader(io.StringIO(handle.read().decode())))


@pytest.mark.parametrize("admin_list", LISTS)
def test_export_button_returns_before_the_work_and_the_run_writes_the_file(
    admin_client, admin_list, django_capture_on_commit_callbacks
):
    dataset, factory = LISTS[admin_list]
    factory.create_batch(3)
    changelist = admin_client.get(reverse(f"admin:{admin_list}_changelist")).content.decode()
    url = reverse(f"admin:{admin_list}_export")
    assert f'href="{url}' in changelist
    assert admin_client.get(url).status_code == 200  # a confirmation, nothing started
    assert not ExportRun.objects.exists()

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = admin_client.post(url)

    run = ExportRun.objects.get()
    assert response.status_code == 302 and response.url == reverse("admin:exports_exportrun_change", args=[run.pk])
    assert (run.status, run.rows, run.definition.dataset) == ("queued", None, dataset)  # the request did not run it
    assert len(queued) == 1
    queued[0]()  # the worker's part
    run.refresh_from_db()
    assert (run.status, run.rows) == ("succeeded", 3)
    assert len(read(run)) == 3
    page = admin_client.get(response.url).content.decode()
    assert "Download" in page or run.file.name.rsplit("/", 1)[-1] in page


def test_export_button_keeps_one_definition_per_list_and_filter(admin_client, django_capture_on_commit_callbacks):
    MemberFactory(external_id="M-ON")
    MemberFactory(external_id="M-OFF", inactive=True)
    url = reverse("admin:members_member_export")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url)
        admin_client.post(url)
        admin_client.post(url + "?status__exact=inactive")
    runs = list(ExportRun.objects.select_related("definition").order_by("pk"))
    assert [run.definition.filters for run in runs] == [{}, {}, {"status": "inactive"}]
    assert runs[0].definition_id == runs[1].definition_id != runs[2].definition_id
    assert [row["external_id"] for row in read(runs[2])] == ["M-OFF"]


def test_export_button_refuses_a_filter_it_cannot_apply_instead_of_exporting_more(admin_client):
    response = admin_client.post(reverse("admin:members_member_export") + "?q=Kim", follow=True)
    assert "cannot apply this list&#x27;s filter or search (q)" in response.content.decode()
    assert not ExportRun.objects.exists()


def test_export_file_neutralises_formula_cells(admin_client, django_capture_on_commit_callbacks):
    MemberFactory(external_id="M-1", first_name='=HYPERLINK("http://x.example")', last_name="@SUM(A1)")
    MemberFactory(external_id="M-2", first_name="-12.50", last_name="+Plus")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:members_member_export"))
    rows = {row["external_id"]: row for row in read(ExportRun.objects.get())}
    assert (rows["M-1"]["first_name"], rows["M-1"]["last_name"]) == ('\'=HYPERLINK("http://x.example")', "'@SUM(A1)")
    assert rows["M-2"]["last_name"] == "'+Plus"


def test_redemptions_export_applies_the_lists_reversed_filter(admin_client, django_capture_on_commit_callbacks):
    kept = CouponRedemptionFactory()
    CouponRedemptionFactory(is_reversed=True)
    url = reverse("admin:coupons_couponredemption_export") + "?is_reversed__exact=0"
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url)
    run = ExportRun.objects.get()
    assert run.definition.filters == {"reversed": "0"}
    assert [row["id"] for row in read(run)] == [str(kept.pk)]
