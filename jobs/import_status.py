"""The one writer of an import job's status: claim, finish and fail (config.jobs.JOB_TRANSITIONS).

Like uploads, an import job keeps no event table: the row says who started it, when it finished and why it
failed. Progress counters and heartbeats are not status changes and stay with the code that counts.
"""

from django.utils import timezone

from config.jobs import FAILED, RUNNING, SUCCEEDED, UNFINISHED, JobStatusWriter, job_start
from jobs.exceptions import ImportJobError
from jobs.models import ImportJob

import_job_status = JobStatusWriter(model=ImportJob, error=ImportJobError)

ERROR_LENGTH = 2000


def import_job_claim(*, job_id: int) -> bool:
    """Start (or restart) the job, counting the attempt; False when it is finished or its attempts are spent."""
    return job_start(
        ImportJob.objects.filter(pk=job_id),
        writer=import_job_status,
        fail=lambda error: import_job_fail(job_id=job_id, error=error),
    )


def import_job_finish(*, job_id: int) -> int:
    """The running job went through every row; a job failed meanwhile stays failed."""
    return import_job_status.move_many(
        rows=ImportJob.objects.filter(pk=job_id), from_statuses=[RUNNING], to=SUCCEEDED, finished_at=timezone.now()
    )


def import_job_fail(*, job_id: int, error: str) -> int:
    """Mark an unfinished job failed with its reason; the chunks an import committed stay written."""
    return import_job_status.move_many(
        rows=ImportJob.objects.filter(pk=job_id), from_statuses=UNFINISHED, to=FAILED,
        error=error[:ERROR_LENGTH], finished_at=timezone.now(),
    )  # fmt: skip
