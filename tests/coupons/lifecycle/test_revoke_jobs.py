"""Revoking a whole series from the admin: a job a worker runs in committed batches, never work in the request."""

import pytest
from django.urls import reverse

from config.actors import Actor
from coupons.lifecycle.revoke import (
    series_revoke_job_status,
    series_revoke_jobs_recover_stale,
    series_revoke_run,
    series_revoke_start,
)
from coupons.models import Coupon, CouponEvent, SeriesRevokeJob
from tests import job_status_moves as moves
from tests.coupons.factories import CouponFactory, CouponSeriesFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


def test_admin_confirmation_returns_before_anything_is_revoked_and_the_job_then_revokes_all(
    admin_client, django_capture_on_commit_callbacks
):
    series = CouponSeriesFactory()
    coupons = [CouponFactory(series=series) for _ in range(5)]
    CouponFactory(series=series, redeemed=True)
    url = reverse("admin:coupons_couponseries_revoke", args=[series.pk])

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = admin_client.post(url, {"mode": "all_unredeemed", "step": "confirm", "confirm": "on"})

    job = SeriesRevokeJob.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "admin:coupons_seriesrevokejob_change", args=[job.pk]
    )
    assert (job.status, job.total_coupons, job.revoked) == ("queued", 5, 0)
    assert not Coupon.objects.filter(status="revoked").exists()  # the request revoked nothing
    assert len(queued) == 1
    queued[0]()
    job.refresh_from_db()
    assert (job.status, job.revoked, job.progress_percent) == ("succeeded", 5, 100)
    assert set(Coupon.objects.filter(pk__in=[c.pk for c in coupons]).values_list("status", flat=True)) == {"revoked"}
    assert CouponEvent.objects.filter(new_status="revoked", channel="admin").count() == 5
    page = admin_client.get(response.url).content.decode()
    assert "Succeeded" in page
    progress = admin_client.get(reverse("admin:coupons_seriesrevokejob_progress", args=[job.pk])).json()
    assert (progress["done"], progress["total"], progress["finished"]) == (5, 5, True)


def test_revoke_job_resumes_after_its_last_committed_batch(django_capture_on_commit_callbacks):
    series = CouponSeriesFactory()
    coupons = [CouponFactory(series=series) for _ in range(7)]
    job = series_revoke_start(series=series, mode="all_unredeemed", actor=ACTOR, confirm=True)

    first = series_revoke_run(job_id=job.pk, batch_size=3, max_batches=1)  # then the worker dies
    assert (first.status, first.revoked, first.after_coupon_id) == ("running", 3, coupons[2].pk)
    SeriesRevokeJob.objects.filter(pk=job.pk).update(heartbeat_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert series_revoke_jobs_recover_stale(now=first.heartbeat_at).resumed == [job.pk]

    job.refresh_from_db()
    assert (job.status, job.revoked, job.attempts) == ("succeeded", 7, 2)
    assert CouponEvent.objects.filter(new_status="revoked").count() == 7  # none revoked twice


@pytest.mark.parametrize(("old", "to"), moves.PAIRS)
def test_revoke_job_status_writer_moves_exactly_what_the_table_allows(old, to):
    moves.assert_statuses_are_the_table(SeriesRevokeJob)
    job = SeriesRevokeJob.objects.create(series=CouponSeriesFactory(), mode="unissued", status=old, actor="t",
                                         channel="system")  # fmt: skip
    moves.assert_one_row_move(series_revoke_job_status, job, old, to)
