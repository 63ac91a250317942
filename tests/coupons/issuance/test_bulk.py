import pytest
from celery.exceptions import Retry
from django.core import mail
from django.db import OperationalError

from config.actors import Actor
from coupons.exceptions import CouponSeriesError
from coupons.issuance.bulk import bulk_issue_chunk, bulk_issue_run, bulk_issue_start
from coupons.issuance.services import coupon_issue, coupon_times
from coupons.models import Coupon
from coupons.series.codes import series_generator
from coupons.series.services import series_allow_members
from tests.coupons.factories import BulkIssueJobFactory, CouponSeriesFactory
from tests.members.factories import MemberFactory, SegmentFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system()


def segment_of(n, **member_kw):
    segment = SegmentFactory()
    members = [MemberFactory(segments=[segment], **member_kw) for _ in range(n)]
    return segment, members


def make_job(series, segment, chunk_size=4, **kw):
    return BulkIssueJobFactory(series=series, segment=segment, chunk_size=chunk_size, running=True, **kw)


def test_bulk_issue_whole_segment_in_chunks_with_permutation_codes():
    segment, members = segment_of(10)
    series = CouponSeriesFactory()
    job = bulk_issue_run(job_id=make_job(series, segment).pk, actor=ACTOR)
    assert (job.status, job.issued, job.skipped, job.chunks_done) == ("succeeded", 10, 0, 3)
    series.refresh_from_db()
    assert (series.issued_count, series.next_code_index) == (10, 10)
    generator = series_generator(series)
    codes = dict(Coupon.objects.filter(series=series).values_list("member_id", "code"))
    assert [codes[m.pk] for m in members] == [generator.code(n) for n in range(10)]


def test_bulk_issue_resumes_after_the_last_committed_chunk_and_never_issues_twice():
    segment, _ = segment_of(10)
    series = CouponSeriesFactory(max_per_member=5)
    job = make_job(series, segment)
    bulk_issue_run(job_id=job.pk, actor=ACTOR, max_chunks=1)
    job.refresh_from_db()
    assert (job.issued, job.status) == (4, "running")
    done = bulk_issue_run(job_id=job.pk, actor=ACTOR)
    assert done.issued == 10
    assert Coupon.objects.filter(series=series).count() == 10
    assert bulk_issue_chunk(job_id=job.pk) is False  # a redelivered task finds nothing left


def test_bulk_issue_applies_the_issual_rules():
    segment, members = segment_of(6)
    members[0].status = "inactive"
    members[0].save(update_fields=["status"])
    series = CouponSeriesFactory(specific_members_only=True, series_limit=3)
    series_allow_members(series=series, member_ids=[m.pk for m in members[:5]])
    coupon_issue(series=series, member=members[1], actor=ACTOR)  # holds one already; max 1 per member
    series.max_per_member = 1
    series.save(update_fields=["max_per_member"])
    job = bulk_issue_run(job_id=make_job(series, segment, chunk_size=100).pk, actor=ACTOR)
    issued_to = set(Coupon.objects.filter(series=series).values_list("member_id", flat=True))
    assert issued_to == {members[1].pk, members[2].pk, members[3].pk}  # series limit 3 reached
    assert job.issued == 2


def test_bulk_issue_common_code_skips_holders():
    segment, members = segment_of(3)
    series = CouponSeriesFactory(common=True)
    coupon_issue(series=series, member=members[0], actor=ACTOR)
    job = bulk_issue_run(job_id=make_job(series, segment).pk, actor=ACTOR)
    assert (job.issued, job.skipped) == (2, 1)
    assert set(Coupon.objects.filter(series=series).values_list("code", flat=True)) == {"SAVE10"}


def test_bulk_issue_start_queues_and_notifies_once(django_capture_on_commit_callbacks):
    segment, _ = segment_of(5)
    series = CouponSeriesFactory(series_limit=6, limit_notify_remaining=3, limit_notify_emails=["a@example.com"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = bulk_issue_start(series=series, source="segment", segment=segment, actor=ACTOR, chunk_size=2)
    assert callbacks
    job.refresh_from_db()
    assert (job.status, job.issued) == ("succeeded", 5)
    assert len(mail.outbox) == 1


def test_bulk_issue_from_the_series_list_and_refused_for_uploaded_codes():
    series = CouponSeriesFactory(specific_members_only=True)
    members = [MemberFactory() for _ in range(3)]
    series_allow_members(series=series, member_ids=[m.pk for m in members])
    job = BulkIssueJobFactory(series=series, allowed_list=True, running=True)
    assert bulk_issue_run(job_id=job.pk, actor=ACTOR).issued == 3
    with pytest.raises(CouponSeriesError):
        bulk_issue_start(series=CouponSeriesFactory(uploaded=True), source="allowed_list", actor=ACTOR)


def test_bulk_issue_chunk_that_fails_midway_commits_nothing_and_the_retry_issues_once(monkeypatch):
    from coupons.issuance import bulk as bulk

    segment, _ = segment_of(6)
    series = CouponSeriesFactory()
    job = make_job(series, segment, chunk_size=3)
    real = bulk.series_note_issued
    calls = {"n": 0}

    def flaky(**kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("database went away")
        return real(**kw)

    monkeypatch.setattr(bulk, "series_note_issued", flaky)
    with pytest.raises(ConnectionError):
        bulk_issue_run(job_id=job.pk, actor=ACTOR)
    job.refresh_from_db()
    assert (job.issued, job.chunks.filter(done=True).count()) == (3, 1)
    assert Coupon.objects.filter(series=series).count() == 3

    done = bulk_issue_run(job_id=job.pk, actor=ACTOR)
    assert (done.status, done.issued) == ("succeeded", 6)
    assert Coupon.objects.filter(series=series).values("member").distinct().count() == 6
    series.refresh_from_db()
    assert (series.issued_count, series.next_code_index) == (6, 6)


def test_bulk_issue_randomized_common_codes_carry_the_fixed_part():
    from coupons.series.services import series_create
    from tests.offers.factories import OfferFactory

    segment, _ = segment_of(4)
    series = series_create(actor=ACTOR, offer=OfferFactory(expiring=True), name="R", code_mode="randomized_common",
                           sample_code="12345678")  # fmt: skip
    bulk_issue_run(job_id=make_job(series, segment).pk, actor=ACTOR)
    codes = list(Coupon.objects.filter(series=series).values_list("code", flat=True))
    assert len(set(codes)) == 4
    assert all(code.startswith("1234") and len(code) == 8 and code.isdigit() for code in codes)


def test_bulk_issue_skips_positions_whose_code_another_series_holds():
    """Two series sharing a code key make the same codes: the second skips every clashing position."""
    first_segment, _ = segment_of(3)
    first = CouponSeriesFactory()
    bulk_issue_run(job_id=make_job(first, first_segment).pk, actor=ACTOR)
    second_segment, _ = segment_of(5)
    second = CouponSeriesFactory(code_key=first.code_key, code_length=first.code_length,
                                 code_charset=first.code_charset)  # fmt: skip

    job = bulk_issue_run(job_id=make_job(second, second_segment, chunk_size=10).pk, actor=ACTOR)

    assert job.issued == 5
    generator = series_generator(second)
    codes = set(Coupon.objects.filter(series=second).values_list("code", flat=True))
    assert codes == {generator.code(n) for n in range(3, 8)}
    assert not codes & set(Coupon.objects.filter(series=first).values_list("code", flat=True))


def test_bulk_issue_run_counts_the_segment_once_and_a_resumed_job_keeps_the_count():
    segment, _ = segment_of(10)
    MemberFactory(segments=[SegmentFactory()])  # outside the segment: not counted
    job = make_job(CouponSeriesFactory(), segment)
    assert job.total_members is None
    bulk_issue_run(job_id=job.pk, actor=ACTOR, max_chunks=1)
    job.refresh_from_db()
    assert (job.status, job.total_members, job.members_done, job.progress_percent) == ("running", 10, 4, 40)
    late = MemberFactory(segments=[segment])  # newer than every member the job started with: not in this job
    job = bulk_issue_run(job_id=job.pk, actor=ACTOR)
    assert (job.status, job.total_members, job.members_done, job.progress_percent) == ("succeeded", 10, 10, 100)
    assert not Coupon.objects.filter(member=late).exists()


def test_bulk_issue_member_joining_inside_a_pending_chunk_gets_a_code_of_its_own():
    """A chunk with more members than planned gives the extra ones the series' next positions."""
    segment, first = segment_of(4)
    outsider = MemberFactory()  # its id falls inside the second chunk's range
    rest = [MemberFactory(segments=[segment]) for _ in range(6)]
    series = CouponSeriesFactory()
    job = make_job(series, segment)
    bulk_issue_run(job_id=job.pk, actor=ACTOR, max_chunks=1)
    assert list(job.chunks.values_list("members", "code_start")) == [(4, 0), (4, 4), (2, 8)]
    outsider.segments.add(segment)

    job = bulk_issue_run(job_id=job.pk, actor=ACTOR)

    assert (job.status, job.issued, job.skipped) == ("succeeded", 11, 0)
    codes = dict(Coupon.objects.filter(series=series).values_list("member_id", "code"))
    generator = series_generator(series)
    assert set(codes.values()) == {generator.code(n) for n in range(11)}
    assert codes[rest[-1].pk] == generator.code(9)  # the last chunk kept its reserved positions
    series.refresh_from_db()
    assert series.next_code_index == 11
    assert {m.pk for m in first + rest + [outsider]} == set(codes)


def test_bulk_issue_run_counts_the_series_list_for_a_list_job():
    series = CouponSeriesFactory(specific_members_only=True)
    series_allow_members(series=series, member_ids=[MemberFactory().pk for _ in range(3)])
    MemberFactory()
    job = BulkIssueJobFactory(series=series, allowed_list=True)
    job = bulk_issue_run(job_id=job.pk, actor=ACTOR)
    assert (job.status, job.total_members, job.issued, job.is_finished) == ("succeeded", 3, 3, True)


def test_bulk_issued_rows_carry_the_series_times_and_states_exactly():
    segment, members = segment_of(5)
    series = CouponSeriesFactory(
        expiry_mode="days_from_issue", expiry_days=30, redemption_start_mode="days_after_issue", redemption_start_days=2
    )
    bulk_issue_run(job_id=make_job(series, segment, chunk_size=3).pk, actor=ACTOR)
    rows = list(Coupon.objects.filter(series=series).order_by("member_id"))
    assert [row.member_id for row in rows] == [m.pk for m in members]
    for row in rows:
        expires_at, redeemable_from = coupon_times(series, row.issued_at)
        assert (row.status, row.is_common, row.is_reversed) == ("issued", False, False)
        assert (row.expires_at, row.redeemable_from) == (expires_at, redeemable_from)
        assert row.last_status_change_on == row.created_at == row.issued_at


def test_bulk_issue_max_per_member_above_one_counts_held_coupons():
    segment, members = segment_of(3)
    series = CouponSeriesFactory(max_per_member=2)
    coupon_issue(series=series, member=members[0], actor=ACTOR)
    coupon_issue(series=series, member=members[0], actor=ACTOR)  # at the maximum
    coupon_issue(series=series, member=members[1], actor=ACTOR)  # one below it
    job = bulk_issue_run(job_id=make_job(series, segment, chunk_size=100).pk, actor=ACTOR)
    held = {m.pk: Coupon.objects.filter(series=series, member=m).count() for m in members}
    assert held == {members[0].pk: 2, members[1].pk: 2, members[2].pk: 1}
    assert (job.issued, job.skipped) == (2, 1)


def test_bulk_issue_task_marks_the_job_failed_when_it_cannot_go_on(monkeypatch):
    import coupons.issuance.bulk
    from coupons.tasks import bulk_issue_run_task

    segment, _ = segment_of(2)
    job = make_job(CouponSeriesFactory(), segment)

    def broken(**kwargs):
        raise ValueError("a bug, not a passing failure")

    monkeypatch.setattr(coupons.issuance.bulk, "bulk_issue_run", broken)
    with pytest.raises(ValueError):
        bulk_issue_run_task.apply(kwargs={"job_id": job.pk})
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "ValueError: a bug, not a passing failure")
    assert job.finished_at is not None


def test_bulk_issue_task_retries_a_lost_database_and_gives_up_into_failed(monkeypatch):
    import coupons.issuance.bulk
    from coupons.tasks import bulk_issue_run_task

    segment, _ = segment_of(2)
    job = make_job(CouponSeriesFactory(), segment)

    def unreachable(**kwargs):
        raise OperationalError("server closed the connection")

    monkeypatch.setattr(coupons.issuance.bulk, "bulk_issue_run", unreachable)
    with pytest.raises(Retry, match="Retry in 10s"):
        bulk_issue_run_task.apply(kwargs={"job_id": job.pk})
    job.refresh_from_db()
    assert job.status == "running"  # a retry is coming: the job keeps its chunks and its state
    with pytest.raises(OperationalError):
        bulk_issue_run_task.apply(kwargs={"job_id": job.pk}, retries=bulk_issue_run_task.max_retries)
    job.refresh_from_db()
    assert job.status == "failed" and job.error.startswith("Gave up after 5 retries")
