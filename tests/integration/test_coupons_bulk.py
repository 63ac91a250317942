import pytest

from config.actors import Actor
from coupons.issuance.bulk import bulk_issue_start
from coupons.models import BulkIssueJob, Coupon
from members.models import Member
from tests.coupons.factories import CouponSeriesFactory
from tests.integration.conftest import wait_for
from tests.members.factories import SegmentFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def segment_of(size):
    segment = SegmentFactory(code="bulk-it")
    members = Member.objects.bulk_create(Member(external_id=f"BULK{n:05d}") for n in range(size))
    Member.segments.through.objects.bulk_create(
        Member.segments.through(member_id=m.pk, segment_id=segment.pk) for m in members
    )
    return segment


def test_bulk_issue_runs_on_a_real_worker_with_exact_counts(celery_worker):
    segment = segment_of(2_500)
    outsider = Member.objects.create(external_id="OUTSIDER")
    series = CouponSeriesFactory(series_limit=2_400)

    job = bulk_issue_start(series=series, source="segment", segment=segment, actor=Actor.system(), chunk_size=1_000)

    wait_for(lambda: BulkIssueJob.objects.get(pk=job.pk).status == "succeeded", timeout=60, message="the job")
    job.refresh_from_db()
    assert (job.issued, job.chunks_done) == (2_400, 3)
    coupons = Coupon.objects.filter(series=series)
    assert coupons.count() == 2_400
    assert coupons.values("member").distinct().count() == 2_400
    assert coupons.values("code").distinct().count() == 2_400
    assert not coupons.filter(member=outsider).exists()
    series.refresh_from_db()
    assert (series.issued_count, series.next_code_index) == (2_400, 2_400)


def test_bulk_issue_runs_its_chunks_side_by_side_on_a_real_worker(celery_worker):
    segment = segment_of(2_500)
    series = CouponSeriesFactory()

    job = bulk_issue_start(series=series, source="segment", segment=segment, actor=Actor.system(), chunk_size=500)

    wait_for(lambda: BulkIssueJob.objects.get(pk=job.pk).status == "succeeded", timeout=60, message="the job")
    job.refresh_from_db()
    assert (job.chunks_in_parallel, job.issued, job.skipped, job.chunks_done) == (True, 2_500, 0, 5)
    coupons = Coupon.objects.filter(series=series)
    assert coupons.values("member").distinct().count() == coupons.values("code").distinct().count() == 2_500
    series.refresh_from_db()
    assert (series.issued_count, series.next_code_index) == (2_500, 2_500)
