"""What the set-based chunk relies on: identifiers with quotes and backslashes reach the lookups whole, report
lines keep any text, the events name exactly the chunk's coupons, and the collector is back on afterwards."""

import gc

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from coupons.issuance import upload_chunks
from coupons.issuance.uploads import upload_process
from coupons.models import Coupon, CouponEvent, Upload, UploadIssue
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.coupons.uploading import report
from tests.members.factories import MemberFactory
from webhooks.models import Event

pytestmark = pytest.mark.django_db

QUOTED_EMAILS = ['"o\\"neil"@example.com', '"back\\\\slash"@example.com', '"comma,brace}"@example.com']


def csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def test_emails_with_quotes_backslashes_and_braces_find_their_members(run):
    members = [MemberFactory(email=email) for email in QUOTED_EMAILS]
    series = CouponSeriesFactory(max_per_member=1)
    upload = run(series, "email\n" + "".join(f"{csv_cell(email.upper())}\n" for email in QUOTED_EMAILS))
    assert (upload.succeeded, upload.failed) == (3, 0), report(upload)
    assert sorted(Coupon.objects.filter(series=series).values_list("member_id", flat=True)) == sorted(
        member.pk for member in members
    )


def test_report_lines_keep_tabs_newlines_and_backslashes_of_the_identifier(run):
    series = CouponSeriesFactory()
    odd = ["tab\there", "line\nbreak", "back\\slash", "\\N"]
    upload = run(series, "external_id\n" + "".join(f"{csv_cell(value)}\n" for value in odd))
    assert (upload.succeeded, upload.failed) == (0, 4)
    assert list(UploadIssue.objects.filter(upload=upload).order_by("row").values_list("row", "identifier", "code")) == [
        (number, value, "invalid_external_id") for number, value in enumerate(odd, start=1)
    ]


def series_and_file(kind: str, members):
    """A series and a file issuing one coupon to each of `members`: by a members upload, or a codes upload."""
    if kind == "members":
        return CouponSeriesFactory(max_per_member=1), "external_id\n" + "".join(f"{m.external_id}\n" for m in members)
    text = "code,external_id\n" + "".join(f"UP-{n},{m.external_id}\n" for n, m in enumerate(members))
    return CouponSeriesFactory(uploaded=True), text


@pytest.mark.parametrize("kind", ["members", "codes"])
def test_events_name_the_chunks_coupons_and_no_other(run, settings, kind):
    settings.UPLOAD_CHUNK_ROWS = 2
    other = CouponFactory()  # another series' coupon, written before: its id is below every chunk's
    members = [MemberFactory() for _ in range(5)]
    series, text = series_and_file(kind, members)
    upload = run(series, text, kind)
    assert (upload.succeeded, upload.failed) == (5, 0)
    issued = set(Coupon.objects.filter(series=series).values_list("pk", flat=True))
    assert len(issued) == 5
    created = CouponEvent.objects.filter(new_status="issued", old_status="")
    assert sorted(created.exclude(coupon_id=other.pk).values_list("coupon_id", flat=True)) == sorted(issued)
    assert sorted(
        int(pk) for pk in Event.objects.filter(type="coupon.issued").values_list("object_id", flat=True)
    ) == sorted(issued)


def test_the_collector_is_on_again_after_an_upload_and_after_a_failing_chunk(run, monkeypatch):
    series = CouponSeriesFactory()
    member = MemberFactory()
    assert run(series, f"external_id\n{member.external_id}\n").succeeded == 1
    assert gc.isenabled()

    def broken(**kwargs):
        raise RuntimeError("the chunk failed")

    monkeypatch.setattr("coupons.issuance.uploads.upload_chunk_apply", broken)
    file = ContentFile(f"external_id\n{member.external_id}\n".encode(), name="f.csv")
    upload = Upload.objects.create(series=series, kind="members", actor="test", channel="system", file=file)
    with pytest.raises(RuntimeError):
        upload_process(upload_id=upload.pk)
    assert gc.isenabled()


def test_a_chunk_whose_insert_meets_a_code_written_meanwhile_is_judged_again_from_what_reading_found(run, monkeypatch):
    ann = MemberFactory()
    CouponFactory(series=CouponSeriesFactory(), code="TAKEN-1")  # as if another upload wrote it meanwhile
    # One a member: the first run, blind to TAKEN-1, issues it to Ann and refuses her NEW-1; the second run must
    # not keep that refusal.
    series = CouponSeriesFactory(uploaded=True, max_per_member=1, min_gap_days=None)
    holders = upload_chunks._holders
    calls = []

    def blind_first(codes, **options):
        # The first run leaves TAKEN-1 to the unique index; the second, which looks the codes up, does not see it
        # either (written meanwhile), so its COPY meets the index too; the third sees it.
        calls.append(options)
        return {} if len(calls) <= 2 else holders(codes, **options)

    monkeypatch.setattr(upload_chunks, "_holders", blind_first)
    text = f"code,external_id\nTAKEN-1,{ann.external_id}\nNEW-1,{ann.external_id}\nNEW-2,NOPE-1\nNEW-3,\n"
    upload = run(series, text, kind="codes")
    assert calls == [{"shared_only": True}, {"shared_only": False}, {"shared_only": False}]
    assert (upload.succeeded, upload.failed) == (2, 2)
    assert list(UploadIssue.objects.filter(upload=upload).order_by("row").values_list("row", "code")) == [
        (1, "duplicate_code"),
        (3, "invalid_external_id"),
    ]
    assert sorted(Coupon.objects.filter(series=series).values_list("code", "member_id")) == [
        ("NEW-1", ann.pk),
        ("NEW-3", None),
    ]


def test_codes_are_left_to_the_code_index_until_a_chunk_meets_one_in_the_program(run, settings, monkeypatch):
    settings.UPLOAD_CHUNK_ROWS = 2
    CouponFactory(series=CouponSeriesFactory(), code="TAKEN-1")
    series = CouponSeriesFactory(uploaded=True)
    holders = upload_chunks._holders
    runs = []

    def spied(codes, **options):
        runs.append((sorted(codes), options["shared_only"]))
        return holders(codes, **options)

    monkeypatch.setattr(upload_chunks, "_holders", spied)
    upload = run(series, "code\nNEW-1\nNEW-2\nNEW-3\nTAKEN-1\nNEW-4\nNEW-5\n", kind="codes")
    assert runs == [
        (["NEW-1", "NEW-2"], True),
        (["NEW-3", "TAKEN-1"], True),  # the COPY meets TAKEN-1: the chunk runs again, looking its codes up
        (["NEW-3", "TAKEN-1"], False),
        (["NEW-4", "NEW-5"], False),  # and so does every later chunk
    ]
    assert (upload.succeeded, upload.failed) == (5, 1)
    assert list(UploadIssue.objects.filter(upload=upload).values_list("row", "code")) == [(4, "duplicate_code")]
    assert sorted(Coupon.objects.filter(series=series).values_list("code", flat=True)) == [
        "NEW-1", "NEW-2", "NEW-3", "NEW-4", "NEW-5",
    ]  # fmt: skip


@pytest.mark.parametrize("kind", ["members", "codes"])
def test_events_of_a_chunk_whose_ids_change_length_keep_the_coupons_order_and_fields(run, settings, kind):
    if connection.vendor == "postgresql":  # ids from 9,998 on: four and five digits in one chunk's outbox rows
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('coupons_coupon', 'id'), 9997)")
    members = [MemberFactory() for _ in range(4)]
    series, text = series_and_file(kind, members)
    upload = run(series, text, kind)
    assert (upload.succeeded, upload.failed) == (4, 0)
    coupons = list(Coupon.objects.filter(series=series).order_by("pk").values_list("pk", "issued_at"))
    events = list(
        CouponEvent.objects.filter(coupon_id__in=[pk for pk, _ in coupons])
        .order_by("pk")
        .values_list("coupon_id", "old_status", "new_status", "actor", "channel", "reason", "at")
    )
    assert sorted(events) == [(pk, "", "issued", upload.actor, upload.channel, "issued", at) for pk, at in coupons]
    outbox = list(Event.objects.filter(type="coupon.issued").order_by("pk").values_list(
        "object_type", "object_id", "data", "created_at"
    ))  # fmt: skip
    assert sorted(outbox, key=lambda event: int(event[1])) == [("coupon", str(pk), None, at) for pk, at in coupons]
    if connection.vendor == "postgresql":  # in the coupons' order, across the change of length
        assert [int(event[1]) for event in outbox] == [pk for pk, _ in coupons] == list(range(9998, 10002))


def test_events_skip_a_coupon_another_writer_put_among_the_chunks_ids(run, monkeypatch):
    members = [MemberFactory() for _ in range(3)]
    series, text = series_and_file("members", members)
    write = upload_chunks.issued_coupons_write
    interleaved = []

    def with_another_writer(**kwargs):
        written = write(**kwargs)
        interleaved.append(CouponFactory(series=CouponSeriesFactory()))  # its id follows the chunk's
        return written

    monkeypatch.setattr(upload_chunks, "issued_coupons_write", with_another_writer)
    upload = run(series, text)
    assert (upload.succeeded, upload.failed) == (3, 0)
    issued = sorted(Coupon.objects.filter(series=series).values_list("pk", flat=True))
    assert len(issued) == 3 and interleaved[0].pk > max(issued)
    created = CouponEvent.objects.filter(new_status="issued", old_status="", coupon_id__in=[*issued, interleaved[0].pk])
    assert sorted(created.values_list("coupon_id", flat=True)) == issued
    outbox = Event.objects.filter(type="coupon.issued").values_list("object_id", flat=True)
    assert sorted(int(pk) for pk in outbox) == issued
