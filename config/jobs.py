"""Long jobs that outlive their worker: attempt counts, heartbeats and the stale-job reaper's loop.

A job row (bulk issuance, coupon upload, export run) has `status`, `attempts` (times a worker started
it) and `heartbeat_at` (set when a worker starts it and after each chunk or row). A worker that dies
leaves the row `running` with a heartbeat that stops moving; the reaper (jobs.sweeps.jobs_resume_stale)
hands such a job to a new worker, or fails it once it has been started JOBS_MAX_ATTEMPTS times.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone


def max_attempts() -> int:
    return max(1, settings.JOBS_MAX_ATTEMPTS)


def stale_before(now: datetime) -> datetime:
    """A running job whose last heartbeat is older than this has no live worker."""
    return now - timedelta(seconds=settings.JOBS_STALE_AFTER_SECONDS)


def attempts_exhausted_message(attempts: int) -> str:
    return (
        f"Stopped after {attempts} attempts: each time its worker was lost before it finished "
        "(killed, out of memory or over its time limit)."
    )


def stale_condition(now: datetime) -> Q:
    # No heartbeat at all: a row left running by a version that did not record one.
    return Q(status="running") & (Q(heartbeat_at__lt=stale_before(now)) | Q(heartbeat_at__isnull=True))


def job_start(unfinished: QuerySet, *, fail: Callable[[str], None], **changes) -> bool:
    """Count a worker's start of the job in `unfinished` (its row, if not finished) and apply `changes`;
    False when it is finished, or when its attempts are spent (then `fail` is called with the reason).

    Counting on the row is what bounds redelivery: a job whose worker is killed every time (it runs out of
    memory, say) is failed at its next start instead of being handed back to the broker forever.
    """
    changes = {"attempts": F("attempts") + 1, "heartbeat_at": timezone.now(), **changes}
    if unfinished.filter(attempts__lt=max_attempts()).update(**changes):
        return True
    attempts = unfinished.values_list("attempts", flat=True).first()
    if attempts is not None:
        fail(attempts_exhausted_message(attempts))
    return False


@dataclass
class Recovered:
    resumed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"resumed": len(self.resumed), "failed": len(self.failed)}


def stale_jobs_recover(
    *,
    model,
    now: datetime,
    resume: Callable[[int], None],
    fail: Callable[[int, str], None],
    alive: Callable[[int], bool] = lambda pk: False,
    limit: int = 100,
) -> Recovered:
    """Resume (or, attempts spent, fail) each running `model` row whose heartbeat is stale.

    Stale jobs are few (one per dead worker), so this goes row by row. Resuming first moves the heartbeat
    to `now` with a conditional UPDATE, so two reapers never queue the same job twice, and a job whose new
    worker has not started yet is queued again only after another stale period. The attempt count moves
    when a worker starts the job, not here.
    """
    recovered = Recovered()
    stale = model.objects.filter(stale_condition(now)).order_by("pk").values_list("pk", "attempts")[:limit]
    for pk, attempts in stale:
        if alive(pk):
            continue
        if attempts >= max_attempts():
            fail(pk, attempts_exhausted_message(attempts))
            recovered.failed.append(pk)
        elif model.objects.filter(stale_condition(now), pk=pk).update(heartbeat_at=now):
            resume(pk)
            recovered.resumed.append(pk)
    return recovered
