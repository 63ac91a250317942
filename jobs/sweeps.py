"""Scheduled sweeps across apps: one service that beat, the task and `manage.py expire_due` all call."""

from datetime import datetime

from django.utils import timezone

from config.actors import Actor
from coupons.issuance.bulk import bulk_issue_jobs_recover_stale
from coupons.issuance.uploads import uploads_recover_stale
from coupons.lifecycle.expiry_sweep import coupons_expire_due
from coupons.lifecycle.revoke import series_revoke_jobs_recover_stale
from exports.services import export_runs_recover_stale
from jobs.imports import admin_import_jobs_recover_stale
from offers.responses.services import offer_responses_expire_due


def expire_due(*, actor: Actor, now: datetime | None = None) -> dict[str, int]:
    """Expire offer responses and coupons whose expiry has passed; returns how many of each moved.

    Each sweep commits in its own short batches, so an interrupted run keeps what it did and the next
    run (or a retry) picks up the rest without expiring anything twice.
    """
    now = now or timezone.now()
    return {
        "offer_responses": offer_responses_expire_due(actor=actor, at=now, batch_size=10_000),
        "coupons": coupons_expire_due(actor=actor, now=now),
    }


def jobs_resume_stale(*, actor: Actor, now: datetime | None = None) -> dict[str, dict[str, int]]:
    """Find bulk issuance jobs, coupon uploads, admin imports and export runs left running by a worker that died (their
    heartbeat is older than JOBS_STALE_AFTER_SECONDS) and queue each again, or fail it with the reason once
    it has been started JOBS_MAX_ATTEMPTS times; returns how many of each were resumed and failed.

    Each job resumes exactly: bulk issuance and admin imports after their last committed chunk, an upload
    after its last committed row, an export from scratch into a fresh file.
    """
    now = now or timezone.now()
    return {
        "bulk_issue_jobs": bulk_issue_jobs_recover_stale(now=now).as_dict(),
        "uploads": uploads_recover_stale(now=now).as_dict(),
        "revoke_jobs": series_revoke_jobs_recover_stale(now=now).as_dict(),
        "export_runs": export_runs_recover_stale(now=now, actor=actor).as_dict(),
        "import_jobs": admin_import_jobs_recover_stale(now=now).as_dict(),
    }
