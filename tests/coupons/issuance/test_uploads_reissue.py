"""Seed 003's route for moving a coupon: revoke it, then upload the same code with the new member.

The code keeps its one row (the unique code index holds and a till finds the one live coupon); its
events keep the revoke and the re-issue. Anything else that holds the code stays a duplicate.
"""

import pytest
from django.core.files.base import ContentFile

from config.actors import Actor
from coupons.issuance.uploads import upload_process
from coupons.lifecycle.revoke import series_revoke
from coupons.models import Coupon, CouponEvent, CouponSeries, Upload
from coupons.selectors import coupon_by_code
from tests.concurrency import run_concurrently
from tests.coupons.factories import CouponFactory, CouponSeriesFactory, UploadFactory
from tests.coupons.uploading import report
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor(name="marketer-1", channel="api:marketer")


@pytest.fixture
def upload_codes(run):
    def upload_codes(series, rows):
        text = "code,external_id\n" + "".join(
            f"{code},{member.external_id if member else ''}\n" for code, member in rows
        )
        return run(series, text, kind="codes", actor=ACTOR)

    return upload_codes


def report_codes(upload):
    return [row["code"] for row in report(upload)]


@pytest.fixture
def moved(upload_codes):
    """MOVE-1 uploaded to Ann, revoked from her, then uploaded again with Ben."""
    series = CouponSeriesFactory(uploaded=True)
    ann, ben = MemberFactory(external_id="M-ANN"), MemberFactory(external_id="M-BEN")
    upload_codes(series, [("MOVE-1", ann)])
    series_revoke(series=series, mode="members", members=[ann], actor=ACTOR, confirm=True)
    original = Coupon.objects.get(code="MOVE-1")
    assert (original.status, original.member) == ("revoked", ann)
    upload = upload_codes(series, [("MOVE-1", ben)])
    return {"series": series, "ann": ann, "ben": ben, "upload": upload, "coupon_id": original.pk}


def test_reupload_of_a_revoked_code_issues_it_to_the_new_member_on_the_same_row(moved):
    upload = moved["upload"]
    assert (upload.status, upload.succeeded, upload.failed) == ("succeeded", 1, 0)
    coupon = Coupon.objects.get(code="MOVE-1")
    assert coupon.pk == moved["coupon_id"]
    assert (coupon.status, coupon.member, coupon.is_reversed) == ("issued", moved["ben"], False)
    assert coupon.issued_at is not None and coupon.expires_at is not None
    events = list(CouponEvent.objects.filter(coupon=coupon).order_by("at", "id"))
    assert [(e.old_status, e.new_status) for e in events] == [
        ("", "issued"),
        ("issued", "revoked"),
        ("revoked", "issued"),
    ]
    assert events[-1].reason == "re-issued by a codes upload (revoked from M-ANN)"
    assert (events[-1].actor, events[-1].channel) == ("marketer-1", "api:marketer")
    series = CouponSeries.objects.get(pk=moved["series"].pk)
    assert (series.code_count, series.issued_count) == (2, 2)


def test_reuploaded_code_redeems_for_the_new_member_only(moved, pos, store):
    assert coupon_by_code(code="move-1").member == moved["ben"]
    bill = {"code": "MOVE-1", "store": store.code, "bill_amount": "5"}
    refused = pos.post("/api/v1/coupons/validate", {**bill, "member": "M-ANN"}, format="json")
    assert refused.json()["reasons"] == ["not_owner"]
    redeemed = pos.post("/api/v1/coupons/redeem", {**bill, "member": "M-BEN"}, format="json")
    assert redeemed.status_code == 201, redeemed.json()
    assert Coupon.objects.get(code="MOVE-1").status == "redeemed"


def test_reupload_of_a_revoked_code_without_a_member_is_a_duplicate(upload_codes):
    series = CouponSeriesFactory(uploaded=True)
    CouponFactory(series=series, code="LOOSE-1", revoked=True)
    upload = upload_codes(series, [("LOOSE-1", None)])
    assert report_codes(upload) == ["duplicate_code"]
    assert Coupon.objects.get(code="LOOSE-1").status == "revoked"


def test_reupload_of_a_revoked_code_to_the_member_it_was_revoked_from_is_a_duplicate(upload_codes):
    series, ann = CouponSeriesFactory(uploaded=True), MemberFactory()
    upload_codes(series, [("BACK-1", ann)])
    series_revoke(series=series, mode="members", members=[ann], actor=ACTOR, confirm=True)

    upload = upload_codes(series, [("BACK-1", ann)])

    assert report_codes(upload) == ["duplicate_code"]
    assert Coupon.objects.get(code="BACK-1").status == "revoked"
    assert CouponEvent.objects.filter(coupon__code="BACK-1").count() == 2


def test_reupload_of_a_revoked_unissued_code_issues_it(upload_codes):
    series, ben = CouponSeriesFactory(uploaded=True), MemberFactory()
    upload_codes(series, [("POOL-1", None)])
    series_revoke(series=series, mode="unissued", actor=ACTOR, confirm=True)

    upload = upload_codes(series, [("POOL-1", ben)])

    assert report_codes(upload) == []
    coupon = Coupon.objects.get(code="POOL-1")
    assert (coupon.status, coupon.member) == ("issued", ben)
    assert list(coupon.events.order_by("at", "id").values_list("old_status", "new_status")) == [
        ("unissued", "revoked"),
        ("revoked", "issued"),
    ]
    assert coupon.events.order_by("-at", "-id").first().reason == "re-issued by a codes upload (revoked from no member)"


@pytest.mark.parametrize("status", ["issued", "redeemed", "expired"])
def test_reupload_of_a_live_redeemed_or_expired_code_is_a_duplicate(upload_codes, status):
    series = CouponSeriesFactory(uploaded=True)
    held = CouponFactory(series=series, code="HELD-1", status=status)
    upload = upload_codes(series, [("HELD-1", MemberFactory())])
    assert report_codes(upload) == ["duplicate_code"]
    held.refresh_from_db()
    assert held.status == status and Coupon.objects.filter(code="HELD-1").count() == 1


def test_reupload_of_a_code_revoked_in_another_series_is_a_duplicate(upload_codes):
    first, other = CouponSeriesFactory(uploaded=True), CouponSeriesFactory(uploaded=True)
    CouponFactory(series=first, code="ELSE-1", revoked=True)
    upload = upload_codes(other, [("ELSE-1", MemberFactory())])
    assert report_codes(upload) == ["duplicate_code"]
    assert list(Coupon.objects.filter(code="ELSE-1").values_list("series_id", "status")) == [(first.pk, "revoked")]


def test_reupload_of_a_revoked_code_twice_in_one_file_moves_it_once(upload_codes):
    series = CouponSeriesFactory(uploaded=True)
    CouponFactory(series=series, code="TWICE-1", revoked=True)
    ben, cy = MemberFactory(), MemberFactory()
    upload = upload_codes(series, [("TWICE-1", ben), ("TWICE-1", cy)])
    assert report_codes(upload) == ["duplicate_code"]
    assert Coupon.objects.get(code="TWICE-1").member == ben


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_uploads_move_a_revoked_code_to_one_member_only():
    racers = 6
    series = CouponSeriesFactory(uploaded=True)
    CouponFactory(series=series, code="RACE-1", revoked=True)
    members = [MemberFactory() for _ in range(racers)]
    uploads = [
        UploadFactory(
            series=series,
            codes=True,
            file=ContentFile(f"code,external_id\nRACE-1,{member.external_id}\n".encode(), name="codes.csv"),
        )
        for member in members
    ]

    outcomes = run_concurrently(racers, lambda index: upload_process(upload_id=uploads[index].pk).succeeded)

    assert sorted(outcomes) == [0] * (racers - 1) + [1]
    coupon = Coupon.objects.get(code="RACE-1")
    assert coupon.status == "issued" and coupon.member in members
    assert coupon.events.filter(old_status="revoked", new_status="issued").count() == 1
    assert Upload.objects.filter(issues__code="duplicate_code").distinct().count() == racers - 1
