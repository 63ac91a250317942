"""Long jobs that outlive their worker: attempt counts, heartbeats and the stale-job reaper's loop.

A job row (bulk issuance, coupon upload, export run) has `status`, `attempts` (times a worker started
it) and `heartbeat_at` (set when a worker starts it and after each chunk or row). A worker that dies
leaves the row `running` with a heartbeat that stops moving; the reaper (jobs.sweeps.jobs_resume_stale)
hands such a job to a new worker, or fails it once it has been started JOBS_MAX_ATTEMPTS times.

The three job models share one lifecycle, JOB_TRANSITIONS; each has one `JobStatusWriter` in its own place
(coupons/issuance/job_status.py, exports/lifecycle.py), and every change of its status goes through it. A
heartbeat or a counter is not a status change: those are plain UPDATEs of the job's own fields.
"""

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter

from django.conf import settings
from django.db import connection, models
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from config.actors import Actor
from config.errors import DomainError
from config.status import status_move_many, status_swap

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
UNFINISHED = (QUEUED, RUNNING)

# Every move a job row may make. A worker claims a queued job; a new worker claims a running one whose
# worker died (running → running, the attempt counted); a job that cannot go on fails, queued or running.
# Succeeded and failed are final.
JOB_TRANSITIONS: dict[str, frozenset[str]] = {
    QUEUED: frozenset({RUNNING, FAILED}),
    RUNNING: frozenset({RUNNING, SUCCEEDED, FAILED}),
    SUCCEEDED: frozenset(),
    FAILED: frozenset(),
}


@dataclass(frozen=True)
class JobStatusWriter:
    """The one writer of a job model's status, under JOB_TRANSITIONS.

    `error` is the model's transition error; `event(pk, old, new, actor, reason)` builds its event row, for a
    model that keeps one.
    """

    model: type[models.Model]
    error: type[DomainError]
    event: Callable[..., models.Model] | None = None

    def check(self, old: str, to: str) -> None:
        if to not in JOB_TRANSITIONS.get(old, ()):
            name = self.model._meta.verbose_name
            raise self.error(f"A {old} {name} cannot become {to}.", code="illegal_transition", reasons=[old])

    def move(
        self, *, pk: int, old: str, to: str, actor: Actor | None = None, reason: str = "", guard=None, **fields
    ) -> None:
        """One row from `old` to `to` (compare-and-swap on the status, and on `guard`'s fields when given);
        raises the model's error when the table forbids the move or the swap is lost."""
        self.check(old, to)
        rows = self.model.objects.filter(pk=pk, **(guard or {}))
        event = None if self.event is None else (lambda: self.event(pk, old, to, actor, reason))
        if not status_swap(rows=rows, old=old, to=to, changes=fields, event=event):
            name = self.model._meta.verbose_name
            raise self.error(f"The {name} changed meanwhile.", code="illegal_transition", reasons=["changed"])

    def move_many(
        self, *, rows: QuerySet, from_statuses, to: str, actor: Actor | None = None, reason: str = "", **fields
    ) -> int:
        """Every row of `rows` in one of `from_statuses` to `to`; returns how many moved. Without an event
        table, one UPDATE; with one, the rows are locked and each moved row gets its event."""
        for old in from_statuses:
            self.check(old, to)
        rows = rows.filter(status__in=from_statuses)
        if self.event is None:
            return rows.update(status=to, **fields)
        return status_move_many(
            rows=rows,
            to=to,
            allowed=lambda old: True,
            changes=lambda old: fields,
            event=lambda pk, old: self.event(pk, old, to, actor, reason),
        )


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
    return Q(status=RUNNING) & (Q(heartbeat_at__lt=stale_before(now)) | Q(heartbeat_at__isnull=True))


def chunk_rows_left(model, pk: int, rows: list, *, number: Callable = itemgetter(0)) -> list | None:
    """Inside a chunk's transaction: lock the job's row and keep the chunk's rows it has not counted yet.

    `rows` are in file order, `number(row)` their row number (by default a row is (row number, …)), and the job
    counts them in `processed_rows`. None when the job is no longer running; an empty list when the chunk was done
    already. The row lock makes a second worker on the same job (a reaper's resume while the first still lives)
    wait, then see the chunk done and skip it, so no row is
    handled twice.
    """
    status, processed = model.objects.select_for_update().values_list("status", "processed_rows").get(pk=pk)
    if status != model.Status.RUNNING:
        return None
    return [row for row in rows if number(row) > processed]


def job_start(job: QuerySet, *, writer: JobStatusWriter, fail: Callable[[str], None], **changes) -> bool:
    """Claim the job in `job` (one row) for a worker: unless it is finished, it moves to running, counting the
    start, with `changes`; False when it is finished, or when its attempts are spent (then `fail` is called with
    the reason).

    Counting on the row is what bounds redelivery: a job whose worker is killed every time (it runs out of
    memory, say) is failed at its next start instead of being handed back to the broker forever.
    """
    changes = {"attempts": F("attempts") + 1, "heartbeat_at": timezone.now(), **changes}
    fresh = job.filter(attempts__lt=max_attempts())
    if writer.move_many(rows=fresh, from_statuses=UNFINISHED, to=RUNNING, **changes):
        return True
    attempts = job.filter(status__in=UNFINISHED).values_list("attempts", flat=True).first()
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


_READ_AHEAD_END = object()


@contextmanager
def read_ahead(items: Iterator, *, in_thread: bool, depth: int = 1):
    """`items` (a job's prepared chunks), produced on a thread `depth` items ahead of the caller's loop.

    The thread has its own database connection (closed when it ends), so it may read while the caller's
    connection writes; `depth` bounds the items held in memory besides the one in hand and the one being
    made. An error in the thread is raised in the caller's loop; leaving the loop early stops the thread.
    Without `in_thread` the items are produced in the caller's loop, one at a time.
    """
    if not in_thread:
        yield items
        return
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(entry) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand_over((item, None)):
                    return
            hand_over((_READ_AHEAD_END, None))
        except BaseException as exc:  # raised again in the caller's loop
            hand_over((_READ_AHEAD_END, exc))
        finally:
            connection.close()

    def consume():
        while True:
            item, error = ready.get()
            if item is _READ_AHEAD_END:
                if error is not None:
                    raise error
                return
            yield item

    producer = threading.Thread(target=produce, name="read-ahead", daemon=True)
    producer.start()
    try:
        yield consume()
    finally:
        stop.set()
        producer.join()
