"""Revoking coupons of a series (seed 003 "Revoke Coupon").

Revocation runs as set-based UPDATEs in committed batches, in the caller (`series_revoke`, the API) or as a job
a worker runs (`series_revoke_start`, the admin: the request only queues it, and the job's page shows its
progress). Each batch locks its rows in pk order and moves them through the set-based writer
(`coupons_transition`), one UPDATE per old status and one event per coupon moved. Redeemed coupons are never
revoked; a member's every active (issued) coupon of the series is.
"""

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from config.actors import Actor
from config.jobs import (
    FAILED,
    RUNNING,
    SUCCEEDED,
    UNFINISHED,
    JobStatusWriter,
    Recovered,
    job_start,
    stale_jobs_recover,
)
from config.tasks import enqueue_on_commit
from coupons.exceptions import ConfirmationRequiredError, CouponSeriesInvalidError, SeriesRevokeJobTransitionError
from coupons.lifecycle.status import coupons_transition
from coupons.lifecycle.transitions import allowed_moves
from coupons.models import Coupon, CouponSeries, SeriesRevokeJob
from members.models import Member
from webhooks import events
from webhooks.payloads import coupons_emit

logger = logging.getLogger(__name__)

Status = Coupon.Status

REVOKE_MODES = {
    "all_unredeemed": (Status.ISSUED, Status.UNISSUED),
    "unissued": (Status.UNISSUED,),
    "members": (Status.ISSUED,),
}
REVOKE_MODE_WORDS = {
    "all_unredeemed": "every unredeemed coupon",
    "unissued": "the codes not issued yet",
    "members": "the named members' issued coupons",
}
BATCH_SIZE = 5_000


def revoke_queryset(*, series: CouponSeries, mode: str, member_ids=()):
    if mode not in REVOKE_MODES:
        raise CouponSeriesInvalidError("Unknown revoke mode.", errors={"mode": [f"One of {', '.join(REVOKE_MODES)}."]})
    rows = Coupon.objects.filter(series=series, status__in=REVOKE_MODES[mode])
    if mode == "members":
        rows = rows.filter(member_id__in=list(member_ids))
    return rows


def revoke_count(*, series: CouponSeries, mode: str, member_ids=()) -> int:
    """How many coupons a revoke would touch now (the admin's confirmation page shows it)."""
    return revoke_queryset(series=series, mode=mode, member_ids=member_ids).count()


def members_by_external_id(external_ids) -> list[Member]:
    wanted = {str(value).strip() for value in external_ids if str(value).strip()}
    found = list(Member.objects.filter(external_id__in=wanted))
    unknown = sorted(wanted - {m.external_id for m in found})
    if unknown:
        raise CouponSeriesInvalidError(
            "Some members are unknown.", errors={"members": [f"Unknown member: {value}" for value in unknown[:50]]}
        )
    return found


def _revoke_check(*, mode: str, confirm: bool, members) -> None:
    if not confirm:
        raise ConfirmationRequiredError(
            "Revoking makes coupons unredeemable for good; send confirm: true.", code="confirmation_required"
        )
    if mode == "members" and not members:
        raise CouponSeriesInvalidError("Name the members whose coupons to revoke.", errors={"members": ["Required."]})


def series_revoke(
    *, series: CouponSeries, mode: str, actor: Actor, confirm: bool, members=(), batch_size: int = BATCH_SIZE
) -> int:
    """Revoke the series' coupons in `mode` now, in committed batches; returns how many were revoked."""
    _revoke_check(mode=mode, confirm=confirm, members=members)
    member_ids = [m.pk for m in members]
    revoked = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            moved = _revoke_next_batch(series=series, mode=mode, member_ids=member_ids, after=last_pk, actor=actor,
                                       batch_size=batch_size)  # fmt: skip
        if moved is None:
            break
        last_pk, count = moved
        revoked += count
    _revoke_audit(series=series, mode=mode, revoked=revoked, actor=actor)
    return revoked


def _revoke_next_batch(*, series, mode, member_ids, after: int, actor: Actor, batch_size: int):
    """Revoke the next batch after coupon id `after` in the caller's transaction: (its last id, how many moved),
    or None when no coupon is left."""
    batch = list(
        revoke_queryset(series=series, mode=mode, member_ids=member_ids)
        .filter(pk__gt=after)
        .select_for_update()
        .order_by("pk")
        .values_list("pk", "status")[:batch_size]
    )
    if not batch:
        return None
    return batch[-1][0], _revoke_batch(batch, actor=actor, reason=f"revoked ({mode})")


def _revoke_audit(*, series, mode: str, revoked: int, actor: Actor) -> None:
    audit_record(
        actor=actor,
        action=AuditEvent.Action.REVOKE,
        obj=series,
        changes={"revoked_coupons": [None, revoked]},
        summary=f"Revoked {revoked} coupons: {REVOKE_MODE_WORDS[mode]}",
    )


def series_revoke_start(*, series: CouponSeries, mode: str, actor: Actor, confirm: bool, members=()) -> SeriesRevokeJob:
    """Queue the revoke as a job a worker runs in committed batches (the admin's way: the request returns at once)."""
    from coupons.tasks import series_revoke_run_task

    _revoke_check(mode=mode, confirm=confirm, members=members)
    member_ids = [m.pk for m in members]
    total = revoke_count(series=series, mode=mode, member_ids=member_ids)
    with transaction.atomic():
        job = SeriesRevokeJob.objects.create(series=series, mode=mode, member_ids=member_ids, total_coupons=total,
                                             actor=actor.name, channel=actor.channel)  # fmt: skip
        enqueue_on_commit(series_revoke_run_task, job_id=job.pk)
    return job


def series_revoke_run(*, job_id: int, batch_size: int = BATCH_SIZE, max_batches: int | None = None) -> SeriesRevokeJob:
    """Run (or resume) a revoke job; each batch commits with the job's counters, so a rerun goes on after it."""
    if not series_revoke_job_claim(job_id=job_id):
        return SeriesRevokeJob.objects.get(pk=job_id)
    job = SeriesRevokeJob.objects.select_related("series").get(pk=job_id)
    actor = Actor(name=job.actor, channel=job.channel)
    batches = 0
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            status, after = (
                SeriesRevokeJob.objects.select_for_update().values_list("status", "after_coupon_id").get(pk=job_id)
            )
            if status != SeriesRevokeJob.Status.RUNNING:
                return SeriesRevokeJob.objects.get(pk=job_id)
            moved = _revoke_next_batch(series=job.series, mode=job.mode, member_ids=job.member_ids, after=after,
                                       actor=actor, batch_size=batch_size)  # fmt: skip
            if moved is None:
                job.refresh_from_db()
                _revoke_audit(series=job.series, mode=job.mode, revoked=job.revoked, actor=actor)
                series_revoke_job_finish(job_id=job_id)
                break
            last, count = moved
            SeriesRevokeJob.objects.filter(pk=job_id).update(
                after_coupon_id=last, revoked=F("revoked") + count, heartbeat_at=timezone.now()
            )
        batches += 1
    return SeriesRevokeJob.objects.get(pk=job_id)


def series_revoke_jobs_recover_stale(*, now) -> Recovered:
    """Hand each running revoke job whose worker died to a new worker (it goes on after its last batch), or fail it."""
    from coupons.tasks import series_revoke_run_task

    return stale_jobs_recover(
        model=SeriesRevokeJob,
        now=now,
        resume=lambda pk: enqueue_on_commit(series_revoke_run_task, job_id=pk),
        fail=lambda pk, error: series_revoke_job_fail(job_id=pk, error=error),
    )


# The one writer of a revoke job's status (config.jobs.JOB_TRANSITIONS, like every job row).
series_revoke_job_status = JobStatusWriter(model=SeriesRevokeJob, error=SeriesRevokeJobTransitionError)


def series_revoke_job_claim(*, job_id: int) -> bool:
    return job_start(SeriesRevokeJob.objects.filter(pk=job_id), writer=series_revoke_job_status,
                     fail=lambda error: series_revoke_job_fail(job_id=job_id, error=error))  # fmt: skip


def series_revoke_job_finish(*, job_id: int) -> int:
    return series_revoke_job_status.move_many(rows=SeriesRevokeJob.objects.filter(pk=job_id), from_statuses=[RUNNING],
                                              to=SUCCEEDED, finished_at=timezone.now())  # fmt: skip


def series_revoke_job_fail(*, job_id: int, error: str) -> int:
    return series_revoke_job_status.move_many(rows=SeriesRevokeJob.objects.filter(pk=job_id), from_statuses=UNFINISHED,
                                              to=FAILED, error=error[:2000], finished_at=timezone.now())  # fmt: skip


def _revoke_batch(batch, *, actor: Actor, reason: str) -> int:
    now = timezone.now()
    by_status: dict[str, list[int]] = {}
    for pk, status in batch:
        if Status.REVOKED in allowed_moves(status):
            by_status.setdefault(status, []).append(pk)
    revoked = sum(
        coupons_transition(ids=pks, from_status=old, to=Status.REVOKED, actor=actor, reason=reason, at=now)
        for old, pks in by_status.items()
    )
    moved = Coupon.objects.filter(pk__in=[pk for pk, _ in batch], status=Status.REVOKED, last_status_change_on=now)
    coupons_emit(type=events.COUPON_REVOKED, queryset=moved, at=now)
    return revoked
