"""Uploads and bulk issuance jobs change status only through coupons/issuance/job_status.py, under the job table."""

import pytest
from django.core.files.base import ContentFile

from coupons.issuance.job_status import bulk_issue_job_status, upload_status
from coupons.models import BulkIssueJob, Upload
from tests.coupons.factories import CouponSeriesFactory
from tests.job_status_moves import (
    PAIRS,
    STATUSES,
    assert_lost_swap_is_refused,
    assert_one_row_move,
    assert_set_move,
    assert_statuses_are_the_table,
)
from tests.status_writes import python_files, status_writes

WRITERS = {"upload": upload_status, "bulk_issue_job": bulk_issue_job_status}


def _job(kind: str, status: str = "queued"):
    series = CouponSeriesFactory()
    if kind == "upload":
        return Upload.objects.create(
            series=series, kind=Upload.Kind.MEMBERS, file=ContentFile(b"external_id\n", name="m.csv"), status=status
        )
    return BulkIssueJob.objects.create(series=series, source=BulkIssueJob.Source.ALLOWED_LIST, status=status)


def test_upload_and_bulk_job_statuses_change_only_in_job_status():
    paths = python_files("coupons/issuance", "coupons/tasks.py", "coupons/admin.py", "jobs", "config/jobs.py")
    assert status_writes(paths, writers={"coupons/issuance/job_status.py"}) == []


def test_upload_and_bulk_job_statuses_are_the_job_table():
    assert_statuses_are_the_table(Upload)
    assert_statuses_are_the_table(BulkIssueJob)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(WRITERS))
@pytest.mark.parametrize("old, to", PAIRS)
def test_job_status_one_row_writer_moves_exactly_what_the_table_allows(kind, old, to):
    assert_one_row_move(WRITERS[kind], _job(kind, old), old, to)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(WRITERS))
@pytest.mark.parametrize("to", STATUSES)
def test_job_status_set_writer_moves_exactly_what_the_table_allows(kind, to):
    assert_set_move(WRITERS[kind], {status: _job(kind, status) for status in STATUSES}, to)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(WRITERS))
def test_job_status_one_row_writer_refuses_a_lost_swap(kind):
    assert_lost_swap_is_refused(WRITERS[kind], _job(kind))
