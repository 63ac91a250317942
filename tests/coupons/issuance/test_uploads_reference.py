"""The set-based upload against the row-at-a-time reference, on the same files and the same program.

Each case sets up a program, then runs the reference and the set-based engine on the same file, each from
that same state (the other's run rolled back), and compares the report line by line, the counters, every
coupon of the program (code, member, status) and its events. Small chunks cross chunk boundaries.
"""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from config.actors import Actor
from coupons.issuance.uploads import upload_process
from coupons.lifecycle.revoke import series_revoke
from coupons.models import Coupon, CouponEvent, CouponSeries, Upload, UploadIssue
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.coupons.issuance.reference_uploads import reference_upload_process
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


class _Rollback(Exception):
    pass


def outcome(series, upload):
    upload.refresh_from_db()
    series.refresh_from_db()
    return {
        "report": list(UploadIssue.objects.filter(upload=upload).order_by("row", "id")
                       .values_list("row", "identifier", "code", "message")),
        "counts": (upload.processed_rows, upload.succeeded, upload.failed),
        "series": (series.issued_count, series.code_count, series.next_code_index),
        "coupons": sorted(Coupon.objects.values_list("series_id", "code", "member_id", "status", "is_common",
                                                     "is_reversed")),
        "events": sorted(CouponEvent.objects.values_list("coupon__code", "coupon__member_id", "old_status",
                                                         "new_status", "reason")),
    }  # fmt: skip


def both(series, text, kind, settings, chunk_rows):
    """(reference outcome, set-based outcome) of the same file from the same starting state."""
    settings.UPLOAD_CHUNK_ROWS = chunk_rows
    results = []
    for engine in ("reference", "set-based"):
        try:
            with transaction.atomic():
                file = ContentFile(text.encode() if isinstance(text, str) else text, name="f.csv")
                upload = Upload.objects.create(series=series, kind=kind, file=file, actor="test", channel="system",
                                               status="running", attempts=1)  # fmt: skip
                if engine == "reference":
                    reference_upload_process(upload=upload)
                else:
                    Upload.objects.filter(pk=upload.pk).update(status="queued", attempts=0)
                    assert upload_process(upload_id=upload.pk).status == "succeeded"
                results.append(outcome(series, upload))
                raise _Rollback
        except _Rollback:
            pass
    return results


CHUNKS = pytest.mark.parametrize("chunk_rows", [2, 3, 1000], ids=["chunks of 2", "chunks of 3", "one chunk"])


def assert_same(series, text, kind, settings, chunk_rows):
    reference, set_based = both(series, text, kind, settings, chunk_rows)
    assert set_based["report"] == reference["report"]
    assert set_based == reference
    return reference


def rows(column, values):
    return column + "\n" + "".join(f"{value}\n" for value in values)


@CHUNKS
def test_seed_duplicate_cases_match_the_reference(settings, chunk_rows):
    ann, ben = MemberFactory(), MemberFactory()
    four_and_one = rows("user_id", [ann.user_id] * 4 + [ben.user_id])
    limit = CouponSeriesFactory(max_per_member=3, min_gap_days=None, series_limit=None)
    seen = assert_same(limit, four_and_one, "members", settings, chunk_rows)
    assert [line[:3] for line in seen["report"]] == [(4, ann.user_id, "member_limit_reached")]
    gap = CouponSeriesFactory(max_per_member=3, min_gap_days=1)
    assert len(assert_same(gap, four_and_one, "members", settings, chunk_rows)["report"]) == 3
    series_limit = CouponSeriesFactory(max_per_member=None, series_limit=2)
    assert len(assert_same(series_limit, four_and_one, "members", settings, chunk_rows)["report"]) == 3
    common = CouponSeriesFactory(common=True)
    assert len(assert_same(common, four_and_one, "members", settings, chunk_rows)["report"]) == 3


@CHUNKS
def test_members_file_with_identifier_errors_matches_the_reference(settings, chunk_rows):
    ann, ben, gone = MemberFactory(), MemberFactory(), MemberFactory(inactive=True)
    twin = MemberFactory(email=ann.email.upper())  # the same e-mail on two members: the first by id is taken
    series = CouponSeriesFactory(max_per_member=2, min_gap_days=None, series_limit=None)
    CouponFactory(series=series, member=ben, issued_at=timezone.now() - timedelta(days=3))
    for column, values in {
        "email": [ann.email, ann.email.upper(), twin.email, "nobody@example.com", "not-an-email", "", ben.email],
        "external_id": [gone.external_id, ann.external_id, "bad id!", "NOPE-1", ben.external_id, ben.external_id],
        "user_id": [gone.user_id, ann.user_id, "", "u-nobody", ann.user_id, ann.user_id],
        "mobile": [ann.mobile, f" {ann.mobile[:4]} ({ann.mobile[4:7]}) {ann.mobile[7:]}", "12", "+19999999999"],
    }.items():
        assert_same(series, rows(column, values), "members", settings, chunk_rows)


@CHUNKS
def test_members_file_with_odd_rows_matches_the_reference(settings, chunk_rows):
    ann, ben = MemberFactory(), MemberFactory()
    series = CouponSeriesFactory(max_per_member=None, min_gap_days=None, series_limit=None)
    text = (
        f"\ufeffNote, External_ID ,extra\n"
        f"a,{ann.external_id}\n\n"
        f"b\x00,{ben.external_id}\n"  # a NUL in a named column
        f"c,{ben.external_id},x,y,z\n"  # more cells than columns
        f"d\n"  # fewer
        f'"e, quoted","{ann.external_id}"\n'
    )
    seen = assert_same(series, text, "members", settings, chunk_rows)
    assert seen["counts"] == (5, 3, 2)


@CHUNKS
def test_members_file_on_rules_of_every_kind_matches_the_reference(settings, chunk_rows):
    ann, ben, cat, dan = (MemberFactory() for _ in range(4))
    other = CouponSeriesFactory()
    CouponFactory(series=other, member=cat)
    listed = CouponSeriesFactory(specific_members_only=True, max_per_member=None, min_gap_days=None)
    excluding = CouponSeriesFactory(exclude_window_days=30, max_per_member=None, min_gap_days=None)
    excluding.exclude_recipients_of.set([other])
    resending = CouponSeriesFactory(max_per_member=1, on_rematch=CouponSeries.OnRematch.RESEND_EXISTING)
    CouponFactory(series=resending, member=dan, expires_at=timezone.now() + timedelta(days=5))
    text = rows("external_id", [m.external_id for m in (ann, ben, cat, dan, ann, cat, dan, ben)])
    for series in (listed, excluding, resending):
        assert_same(series, text, "members", settings, chunk_rows)


@CHUNKS
def test_members_file_on_uploaded_codes_claims_them_in_order_like_the_reference(settings, chunk_rows):
    series = CouponSeriesFactory(uploaded=True, max_per_member=None, min_gap_days=None, code_count=3)
    for n in range(3):
        CouponFactory(series=series, unissued=True, code=f"UP-{n}")
    members = [MemberFactory() for _ in range(5)]
    seen = assert_same(series, rows("external_id", [m.external_id for m in members]), "members", settings,
                       chunk_rows)  # fmt: skip
    assert [line[2] for line in seen["report"]] == ["series_exhausted"] * 2


@CHUNKS
def test_codes_files_with_and_without_members_match_the_reference(settings, chunk_rows):
    ann, ben = MemberFactory(), MemberFactory()
    elsewhere = CouponSeriesFactory()
    CouponFactory(series=elsewhere, code="TAKEN-1")
    series = CouponSeriesFactory(uploaded=True, max_per_member=1, min_gap_days=None)
    without = rows("code", ["new-1", "NEW-2", "new-1", "TAKEN-1", "bad code!", "", "NEW-3", "new-2"])
    assert_same(series, without, "codes", settings, chunk_rows)
    with_members = (
        "code,external_id\n"
        f"W-1,{ann.external_id}\n"
        f"W-2,{ann.external_id}\n"  # max one a member: refused, and W-2 counts as named
        "W-2,\n"  # so this is a duplicate
        "W-3,NOPE-9\n"  # an unknown member: W-3 is named but not written
        f"W-3,{ben.external_id}\n"
        f"TAKEN-1,{ben.external_id}\n"
        "W-4,\n"
        f"w-4,{ben.external_id}\n"
        "bad!,\n"
    )
    assert_same(series, with_members, "codes", settings, chunk_rows)


@CHUNKS
def test_codes_file_moving_revoked_codes_matches_the_reference(settings, chunk_rows):
    ann, ben, cat = MemberFactory(), MemberFactory(), MemberFactory()
    series = CouponSeriesFactory(uploaded=True, max_per_member=None, min_gap_days=None)
    for code, member in (("MOVE-1", ann), ("MOVE-2", ann), ("MOVE-3", ann), ("KEEP-1", ben)):
        CouponFactory(series=series, code=code, member=member)
    series_revoke(series=series, mode="members", members=[ann], actor=ACTOR, confirm=True)
    text = (
        "code,external_id\n"
        f"MOVE-1,{ben.external_id}\n"  # moves to Ben
        f"MOVE-1,{cat.external_id}\n"  # named already
        f"MOVE-2,{ann.external_id}\n"  # back to the member it was revoked from: a duplicate
        "MOVE-3,NOPE-1\n"  # an unknown member: stays revoked
        f"MOVE-3,{cat.external_id}\n"  # named already
        "MOVE-1,\n"
        f"KEEP-1,{cat.external_id}\n"
    )
    assert_same(series, text, "codes", settings, chunk_rows)
