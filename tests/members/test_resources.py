"""The members import names the segments it does not know instead of dropping them."""

import pytest
import tablib

from members.models import Member
from members.resources import MemberResource
from tests.members.factories import SegmentFactory

pytestmark = pytest.mark.django_db
HEADERS = ["external_id", "email", "segments"]


def import_rows(*rows, dry_run=False):
    return MemberResource().import_data(tablib.Dataset(*rows, headers=HEADERS), dry_run=dry_run)


def test_members_import_reports_an_unknown_segment_on_its_row():
    SegmentFactory(code="vip")
    result = import_rows(("M-1", "a@example.com", "vip"), ("M-2", "b@example.com", "vip|gold|silver"))
    [(number, [error])] = result.row_errors()
    assert number == 2
    assert str(error.error) == "Unknown segments: gold, silver (create it first or correct the file)."
    assert not Member.objects.exists()  # the import runs in one transaction: nothing half-imported


def test_members_import_with_known_segments_links_them():
    vip, gold = SegmentFactory(code="vip"), SegmentFactory(code="gold")
    result = import_rows(("M-1", "a@example.com", "vip|gold"), ("M-2", "b@example.com", ""))
    assert not result.has_errors() and not result.has_validation_errors()
    assert set(Member.objects.get(external_id="M-1").segments.all()) == {vip, gold}
    assert not Member.objects.get(external_id="M-2").segments.exists()


def test_members_import_names_a_single_unknown_segment_and_imports_nothing():
    SegmentFactory(code="vip")
    result = import_rows(("M-1", "a@example.com", "VIP2"))
    [(number, [error])] = result.row_errors()
    assert (number, str(error.error)) == (1, "Unknown segment: VIP2 (create it first or correct the file).")
    assert not Member.objects.exists()
