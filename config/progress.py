"""The state a long job's progress bar polls for (templates/admin/includes/job_progress.html)."""


def job_progress(job, *, done: int, total: int | None, finished: bool, **extra) -> dict:
    """`job` is a row with `status` choices and an `error` text; `total` None draws an indeterminate bar."""
    return {
        "status": job.status,
        "status_label": job.get_status_display(),
        "done": done,
        "total": total,
        "finished": finished,
        "error": job.error,
        **extra,
    }
