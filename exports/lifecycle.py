"""The one writer of an export run's status, and its event.

A run follows the job lifecycle (config.jobs.JOB_TRANSITIONS): queued → running when a worker claims it,
running → running when a new worker takes over from one that died (the file is rewritten from scratch),
running → succeeded or failed, queued → failed. Every change writes one ExportRunEvent, built here.
"""

from config.actors import Actor
from config.jobs import JOB_TRANSITIONS, JobStatusWriter
from exports.exceptions import ExportRunError
from exports.models import ExportRun, ExportRunEvent

RUN_TRANSITIONS = JOB_TRANSITIONS
REASON_LENGTH = ExportRunEvent._meta.get_field("reason").max_length


def export_run_event(run_id: int, old: str, new: str, actor: Actor, reason: str = "") -> ExportRunEvent:
    """One status change of a run (`old` empty when it is created), not yet saved."""
    return ExportRunEvent(
        run_id=run_id, old_status=old, new_status=new, actor=actor.name, channel=actor.channel,
        reason=reason[:REASON_LENGTH],
    )  # fmt: skip


export_run_status = JobStatusWriter(model=ExportRun, error=ExportRunError, event=export_run_event)


def export_run_transition(
    *, run_id: int, to: str, actor: Actor, reason: str = "", expected_attempts: int | None = None, **fields
) -> bool:
    """Move a run from its current status to `to` if the table allows it; False if it did not move.

    A compare-and-swap on the status read (and on the attempt count, when claiming), so two workers racing
    for one run cannot both win.
    """
    current = ExportRun.objects.filter(pk=run_id).values_list("status", flat=True).first()
    if current is None:
        raise ExportRunError(f"No export run {run_id}.", code="not_found", http_status=404)
    guard = {} if expected_attempts is None else {"attempts": expected_attempts}
    try:
        export_run_status.move(pk=run_id, old=current, to=to, actor=actor, reason=reason, guard=guard, **fields)
    except ExportRunError as exc:
        if exc.code != "illegal_transition":
            raise
        return False
    return True
