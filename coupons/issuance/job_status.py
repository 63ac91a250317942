"""The one writer of upload and bulk issuance job statuses: claim, finish and fail.

Both follow the job lifecycle in config.jobs.JOB_TRANSITIONS (their statuses are the same four); neither keeps
an event table, the job row itself says who started it, when it finished and why it failed. Progress counters
and heartbeats are not status changes and stay with the code that counts.
"""

from django.db.models import Exists, OuterRef
from django.db.models.functions import Coalesce
from django.utils import timezone

from config.jobs import FAILED, RUNNING, SUCCEEDED, UNFINISHED, JobStatusWriter, job_start
from coupons.exceptions import BulkIssueJobTransitionError, UploadTransitionError
from coupons.models import BulkIssueChunk, BulkIssueJob, Upload

upload_status = JobStatusWriter(model=Upload, error=UploadTransitionError)
bulk_issue_job_status = JobStatusWriter(model=BulkIssueJob, error=BulkIssueJobTransitionError)

ERROR_LENGTH = 2000


def upload_claim(*, upload_id: int) -> bool:
    """Start (or restart) the upload, counting the attempt; False when it is finished or its attempts are spent."""
    return job_start(
        Upload.objects.filter(pk=upload_id),
        writer=upload_status,
        fail=lambda error: upload_fail(upload_id=upload_id, error=error),
    )


def upload_finish(*, upload_id: int) -> int:
    """The running upload succeeded (every row handled); a job failed meanwhile stays failed."""
    return upload_status.move_many(
        rows=Upload.objects.filter(pk=upload_id), from_statuses=[RUNNING], to=SUCCEEDED, finished_at=timezone.now()
    )


def upload_fail(*, upload_id: int, error: str) -> int:
    """Mark an unfinished upload failed with its error; the rows it committed stay done."""
    return upload_status.move_many(
        rows=Upload.objects.filter(pk=upload_id), from_statuses=UNFINISHED, to=FAILED,
        error=error[:ERROR_LENGTH], finished_at=timezone.now(),
    )  # fmt: skip


def bulk_issue_job_claim(*, job_id: int) -> bool:
    """Start (or restart) the job, counting the attempt; False when it is finished or its attempts are spent."""
    return job_start(
        BulkIssueJob.objects.filter(pk=job_id), writer=bulk_issue_job_status,
        fail=lambda error: bulk_issue_job_fail(job_id=job_id, error=error),
        started_at=Coalesce("started_at", timezone.now()),
    )  # fmt: skip


def bulk_issue_job_finish(*, job_id: int) -> int:
    """The running job succeeded once none of its chunks is left undone."""
    undone = BulkIssueChunk.objects.filter(job=OuterRef("pk"), done=False)
    return bulk_issue_job_status.move_many(
        rows=BulkIssueJob.objects.filter(pk=job_id).exclude(Exists(undone)), from_statuses=[RUNNING], to=SUCCEEDED,
        finished_at=timezone.now(),
    )  # fmt: skip


def bulk_issue_job_fail(*, job_id: int, error: str) -> int:
    """Mark an unfinished job failed with its error; the chunks it committed stay issued."""
    return bulk_issue_job_status.move_many(
        rows=BulkIssueJob.objects.filter(pk=job_id), from_statuses=UNFINISHED, to=FAILED,
        error=error[:ERROR_LENGTH], finished_at=timezone.now(),
    )  # fmt: skip
