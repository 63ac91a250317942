import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from coupons.models import Coupon, Upload
from tests.coupons.factories import CouponSeriesFactory
from tests.integration.conftest import wait_for
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_members_upload_runs_on_a_real_worker_with_a_report(celery_worker, marketer):
    series = CouponSeriesFactory(max_per_member=3)
    member = MemberFactory()
    file = SimpleUploadedFile("m.csv", ("user_id\n" + f"{member.user_id}\n" * 4 + "ghost\n").encode())

    response = marketer.post(f"/api/v1/coupon-series/{series.pk}/uploads", {"file": file, "kind": "members"},
                             format="multipart")  # fmt: skip

    assert response.status_code == 202
    upload_id = response.json()["id"]
    wait_for(lambda: Upload.objects.get(pk=upload_id).status == "succeeded", timeout=60, message="the upload")
    body = marketer.get(f"/api/v1/uploads/{upload_id}").json()
    assert (body["total_rows"], body["succeeded"], body["failed"]) == (5, 3, 2)
    report = marketer.get(body["error_report_url"]).content.decode().splitlines()
    assert [line.split(",")[2] for line in report[1:]] == ["member_limit_reached", "invalid_user_id"]
    assert Coupon.objects.filter(series=series, member=member).count() == 3
