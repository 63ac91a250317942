"""An upload handled by two workers at once (a reaper's resume while the first still lives) handles each row once."""

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from config.actors import Actor
from coupons.issuance.uploads import upload_create, upload_process
from coupons.models import Coupon
from tests.concurrency import run_concurrently
from tests.coupons.factories import CouponSeriesFactory
from tests.members.factories import MemberFactory

ACTOR = Actor.system("test")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_upload_processed_by_two_workers_at_once_issues_each_row_once(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    series = CouponSeriesFactory(max_per_member=5)  # a row handled twice would issue a second coupon
    members = [MemberFactory() for _ in range(30)]
    text = "user_id\n" + "".join(f"{m.user_id}\n" for m in members)
    upload = upload_create(series=series, kind="members", file=ContentFile(text.encode(), name="m.csv"), actor=ACTOR)
    upload.refresh_from_db()
    assert upload.status == "succeeded"  # eager: processed once on commit; run it again from the start
    type(upload).objects.filter(pk=upload.pk).update(status="running", processed_rows=0, succeeded=0)
    with connection.cursor() as cursor:  # a test reset: events are append-only, so their trigger is bypassed
        cursor.execute("SET session_replication_role = replica")
        Coupon.objects.filter(series=series).delete()
        cursor.execute("SET session_replication_role = DEFAULT")

    run_concurrently(2, lambda index: upload_process(upload_id=upload.pk).status)

    upload.refresh_from_db()
    assert (upload.status, upload.processed_rows, upload.succeeded, upload.failed) == ("succeeded", 30, 30, 0)
    assert [Coupon.objects.filter(series=series, member=m).count() for m in members] == [1] * 30
