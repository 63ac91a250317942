"""Uploads whose next chunk is prepared on a second connection: the same outcomes, row for row, as chunks
prepared one after the other, and a failure on that connection stops the upload after its committed chunks."""

import threading

import pytest
from django.core.files.base import ContentFile

from coupons.issuance import uploads
from coupons.issuance.uploads import upload_process
from coupons.models import Coupon, Upload, UploadIssue
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.members.factories import MemberFactory

# Committed rows: the second connection sees only what is committed.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def processed(series, text, kind, *, read_ahead: bool, monkeypatch):
    if not read_ahead:
        monkeypatch.setattr(uploads, "_may_read_ahead", lambda: False)
    prepared_on = set()
    prepare = uploads.upload_chunk_prepare

    def prepare_noting_thread(**kwargs):
        prepared_on.add(threading.current_thread().name)
        return prepare(**kwargs)

    monkeypatch.setattr(uploads, "upload_chunk_prepare", prepare_noting_thread)
    file = ContentFile(text.encode(), name="f.csv")
    upload = Upload.objects.create(series=series, kind=kind, file=file, actor="test", channel="system")
    upload = upload_process(upload_id=upload.pk)
    monkeypatch.undo()
    assert upload.status == "succeeded", upload.error
    assert (threading.current_thread().name not in prepared_on) is read_ahead
    return {
        "report": list(
            UploadIssue.objects.filter(upload=upload).order_by("row", "id").values_list("row", "identifier", "code")
        ),
        "counts": (upload.processed_rows, upload.succeeded, upload.failed),
        "held": sorted(
            (member or 0, status)
            for member, status in Coupon.objects.filter(series=series).values_list("member_id", "status")
        ),
    }


def series_pair(**options):
    if options.get("common"):  # one common code a member across series: each series its own
        return CouponSeriesFactory(**options, common_code="SAVE-A"), CouponSeriesFactory(
            **options, common_code="SAVE-B"
        )
    return CouponSeriesFactory(**options), CouponSeriesFactory(**options)


def test_members_upload_read_ahead_matches_chunks_one_after_the_other(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.UPLOAD_CHUNK_ROWS = 2
    ann, ben, gone = MemberFactory(), MemberFactory(), MemberFactory(inactive=True)
    ids = [ann.user_id] * 4 + [ben.user_id, "u-nobody", gone.user_id, "", ben.user_id]
    text = "user_id\n" + "".join(f"{value}\n" for value in ids)
    for options in ({"max_per_member": 3, "min_gap_days": None}, {"max_per_member": 3, "min_gap_days": 1},
                    {"max_per_member": None, "series_limit": 2}, {"common": True}):  # fmt: skip
        one_by_one, ahead = series_pair(**options)
        expected = processed(one_by_one, text, "members", read_ahead=False, monkeypatch=monkeypatch)
        assert processed(ahead, text, "members", read_ahead=True, monkeypatch=monkeypatch) == expected
        assert expected["report"], options


def test_codes_upload_read_ahead_matches_chunks_one_after_the_other(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.UPLOAD_CHUNK_ROWS = 2
    ann, ben = MemberFactory(), MemberFactory()
    CouponFactory(series=CouponSeriesFactory(), code="TAKEN-1")
    one_by_one, ahead = series_pair(uploaded=True, max_per_member=1, min_gap_days=None)

    def file(prefix):
        return (
            "code,external_id\n"
            f"{prefix}-1,{ann.external_id}\n"
            f"{prefix}-2,{ann.external_id}\n"  # max one a member
            f"{prefix}-2,\n"  # named in an earlier chunk: a duplicate
            f"{prefix}-3,NOPE-9\n"
            f"{prefix}-3,{ben.external_id}\n"
            f"TAKEN-1,{ben.external_id}\n"
            f"{prefix}-4,\n"
            f"{prefix.lower()}-4,{ben.external_id}\n"
            "bad!,\n"
        )

    expected = processed(one_by_one, file("A"), "codes", read_ahead=False, monkeypatch=monkeypatch)
    seen = processed(ahead, file("B"), "codes", read_ahead=True, monkeypatch=monkeypatch)
    assert seen["counts"] == expected["counts"] == (9, 2, 7)
    assert [(row, code) for row, _, code in seen["report"]] == [(row, code) for row, _, code in expected["report"]]
    assert seen["held"] == expected["held"]


def test_a_failure_preparing_a_chunk_ahead_stops_the_upload_after_the_chunks_before(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.UPLOAD_CHUNK_ROWS = 2
    members = [MemberFactory() for _ in range(6)]
    series = CouponSeriesFactory(max_per_member=None)
    prepare = uploads.upload_chunk_prepare

    def failing_on_the_third_chunk(*, layout, rows):
        if rows[0][0] == 5:
            raise RuntimeError("the second connection failed")
        return prepare(layout=layout, rows=rows)

    monkeypatch.setattr(uploads, "upload_chunk_prepare", failing_on_the_third_chunk)
    threads_before = threading.active_count()
    file = ContentFile(("external_id\n" + "".join(f"{m.external_id}\n" for m in members)).encode(), name="f.csv")
    upload = Upload.objects.create(series=series, kind="members", file=file, actor="test", channel="system")
    with pytest.raises(RuntimeError, match="second connection"):
        upload_process(upload_id=upload.pk)
    upload.refresh_from_db()
    assert (upload.status, upload.processed_rows, upload.succeeded) == ("running", 4, 4)
    assert Coupon.objects.filter(series=series).count() == 4
    assert threading.active_count() == threads_before
