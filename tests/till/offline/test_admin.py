import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from config.actors import Actor
from coupons.models import Coupon, CouponRedemption
from coupons.redemption.services import coupon_redeem
from exports.models import ExportRun
from tests.coupons.factories import CouponFactory
from tests.members.factories import OrgEntityFactory
from till.offline.models import OfflineBatch, OfflineConflict
from till.offline.services import OfflineRow, offline_batch_record

pytestmark = pytest.mark.django_db


def csv_file(lines):
    return SimpleUploadedFile("offline.csv", "\n".join(lines).encode(), content_type="text/csv")


def post_upload(admin_client, store, lines, batch_id="B-UP"):
    url = reverse("admin:till_offlinebatch_add")
    return admin_client.post(url, {"batch_id": batch_id, "store": store.pk, "file": csv_file(lines)})


@pytest.fixture
def upload(django_capture_on_commit_callbacks):
    """The upload's POST, then its background judging (the task queued on commit, run here)."""

    def send(admin_client, store, lines, batch_id="B-UP"):
        with django_capture_on_commit_callbacks(execute=True):
            return post_upload(admin_client, store, lines, batch_id)

    return send


def test_admin_upload_answers_before_the_rows_are_judged(admin_client, store, django_capture_on_commit_callbacks):
    coupons = [CouponFactory() for _ in range(3)]
    at = (timezone.now() - timedelta(hours=1)).isoformat()
    lines = ["code,member,redeemed_at,bill_amount", *(f"{c.code},{c.member.external_id},{at},5" for c in coupons)]

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = post_upload(admin_client, store, lines)

    batch = OfflineBatch.objects.get()
    assert response.status_code == 302
    assert len(queued) == 1  # the judging task, sent once the upload commits
    assert batch.response_body is None
    assert not CouponRedemption.objects.exists()
    page = admin_client.get(reverse("admin:till_offlinebatch_change", args=[batch.pk])).content.decode()
    assert "0 of 3 rows (being judged)" in page
    assert "When every row is judged" in page

    queued[0]()

    batch.refresh_from_db()
    assert (batch.accepted_count, batch.rejected_count) == (3, 0)
    assert CouponRedemption.objects.count() == 3
    page = admin_client.get(reverse("admin:till_offlinebatch_change", args=[batch.pk])).content.decode()
    assert "All 3 rows" in page


def test_admin_upload_judged_again_changes_nothing(admin_client, store, upload):
    from till.offline.uploads import offline_upload_judge

    coupon = CouponFactory()
    at = (timezone.now() - timedelta(hours=1)).isoformat()
    lines = ["code,member,redeemed_at,bill_amount", f"{coupon.code},{coupon.member.external_id},{at},5"]
    upload(admin_client, store, lines)
    batch = OfflineBatch.objects.get()

    offline_upload_judge(batch.pk)  # a redelivered task

    assert CouponRedemption.objects.count() == 1
    assert OfflineBatch.objects.get().response_body == batch.response_body


def test_admin_upload_judges_the_rows_and_offers_a_report(admin_client, store, upload):
    good, expired = CouponFactory(), CouponFactory(expired=True)
    at = (timezone.now() - timedelta(hours=1)).isoformat()
    lines = [
        "code,member,redeemed_at,bill_amount,transaction_id",
        f"{good.code},{good.member.external_id},{at},12.00,T-9",
        f"{expired.code},{expired.member.external_id},{at},12.00,",
        f"=HYPERLINK(1),{good.member.external_id},yesterday,12.00,",
    ]

    response = upload(admin_client, store, lines)

    batch = OfflineBatch.objects.get()
    assert response.status_code == 302
    assert (batch.source, batch.total_rows, batch.accepted_count, batch.rejected_count) == ("upload", 3, 1, 2)
    good.refresh_from_db()
    assert good.status == Coupon.Status.REDEEMED
    assert CouponRedemption.objects.get(coupon=good).transaction_id == "T-9"
    page = admin_client.get(reverse("admin:till_offlinebatch_change", args=[batch.pk])).content.decode()
    assert "Download the 2 rejected rows" in page
    report = admin_client.get(reverse("admin:till_offlinebatch_report", args=[batch.pk]))
    rows = list(csv.reader(io.StringIO(report.content.decode())))
    assert rows[0] == ["row", "identifier", "code", "message"]
    assert [(r[0], r[1], r[2]) for r in rows[1:]] == [("2", expired.code, "expired"), ("3", "", "malformed_row")]


def test_admin_upload_of_the_same_file_again_changes_nothing(admin_client, store, upload):
    coupon = CouponFactory()
    at = (timezone.now() - timedelta(hours=1)).isoformat()
    lines = ["code,member,redeemed_at,bill_amount", f"{coupon.code},{coupon.member.external_id},{at},5"]
    upload(admin_client, store, lines)
    again = upload(admin_client, store, lines)
    assert again.status_code == 200  # the form says the batch id is taken
    assert OfflineBatch.objects.count() == 1
    assert CouponRedemption.objects.count() == 1


def test_admin_upload_refuses_a_file_without_the_columns(admin_client, store, upload):
    response = upload(admin_client, store, ["code,member", "A,B"])
    assert response.status_code == 200
    assert "it lacks redeemed_at, bill_amount" in response.content.decode()
    assert not OfflineBatch.objects.exists()


def test_admin_upload_refuses_a_file_that_is_not_utf8(admin_client, store):
    url = reverse("admin:till_offlinebatch_add")
    data = {"batch_id": "B", "store": store.pk, "file": SimpleUploadedFile("x.csv", "code".encode("utf-16"))}
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert not OfflineBatch.objects.exists()


@pytest.fixture
def conflicts(store):
    """One conflict at S-MAIN against S-ONLINE, one at S-SIDE against S-MAIN."""
    online, side = OrgEntityFactory(type="store", code="S-ONLINE"), OrgEntityFactory(type="store", code="S-SIDE")
    made = []
    for offline_store, first_store in ((store, online), (side, store)):
        coupon = CouponFactory()
        coupon_redeem(code=coupon.code, member=coupon.member, store=first_store, bill_amount=Decimal("5"),
                      actor=Actor.system())  # fmt: skip
        row = OfflineRow(code=coupon.code, member=coupon.member.external_id,
                         redeemed_at=timezone.now() - timedelta(hours=3), bill_amount=Decimal("5"))  # fmt: skip
        offline_batch_record(batch_id=f"B-{offline_store.code}", store=offline_store, rows=[row], actor=Actor.system())
        made.append(coupon)
    assert OfflineConflict.objects.count() == 2
    return made


def test_admin_offline_conflicts_list_filters_by_store(admin_client, conflicts):
    url = reverse("admin:till_offlineconflict_changelist")
    page = admin_client.get(url).content.decode()
    assert conflicts[0].code in page and conflicts[1].code in page
    page = admin_client.get(url, {"offline_store": "S-SIDE"}).content.decode()
    assert conflicts[1].code in page and conflicts[0].code not in page
    page = admin_client.get(url, {"online_store": "S-ONLINE"}).content.decode()
    assert conflicts[0].code in page and conflicts[1].code not in page


def test_admin_offline_conflicts_export_csv_with_the_list_filter(
    admin_client, conflicts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:till_offlineconflict_export") + "?offline_store=S-MAIN")
    run = ExportRun.objects.get()
    assert response.status_code == 302
    run.refresh_from_db()
    assert (run.status, run.rows) == ("succeeded", 1)
    with default_storage.open(run.file.name, "rb") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read().decode())))
    assert [(r["code"], r["offline_store"], r["online_store"]) for r in rows] == [
        (conflicts[0].code, "S-MAIN", "S-ONLINE")
    ]
    assert rows[0]["member"] == conflicts[0].member.external_id
    assert rows[0]["online_redeemed_at"] and rows[0]["offline_redeemed_at"]
