"""Admin imports as background jobs: django-import-export's resources, run over the file in chunks of rows.

The admin's Import page stores the file and starts a review (a dry run: every row checked, nothing written, each
row's errors kept); a review without errors can be confirmed, which starts the import itself. Each chunk of
IMPORT_CHUNK_ROWS rows is one transaction with the job's counters and its report lines, so the progress bar
moves per chunk and a worker that dies resumes after the last committed chunk.

A file with errors never half-writes: the import runs only after a review that found none, chunk by chunk. A
single transaction over the whole file would hold its row locks and a snapshot for as long as the import runs
and could not resume after a lost worker; the review is what makes the chunks safe. Should a chunk still fail
when importing (the data changed since the review), that chunk writes nothing, the job fails saying which
rows were imported, and the rows already committed are those the review passed.
"""

import csv
import io
import itertools

import tablib
from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string
from import_export.results import RowResult

from config.actors import Actor
from config.jobs import Recovered, chunk_rows_left, stale_jobs_recover
from config.spreadsheet import spreadsheet_safe_row
from config.tasks import enqueue_on_commit
from jobs.exceptions import ImportJobError
from jobs.import_files import FileUnreadable, import_file_rows, import_file_survey
from jobs.import_status import import_job_claim, import_job_fail, import_job_finish
from jobs.models import ImportJob, ImportJobIssue

REPORT_HEADER = ["row", "field", "value", "message"]
SHOWN_ISSUES = 200
ISSUE_BATCH = 5_000
LOG_FLAGS = {RowResult.IMPORT_TYPE_NEW: ADDITION, RowResult.IMPORT_TYPE_UPDATE: CHANGE,
             RowResult.IMPORT_TYPE_DELETE: DELETION}  # fmt: skip


def dotted_path(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def admin_import_start(*, model, resource_class, input_format_class, file, user, actor: Actor) -> ImportJob:
    """Store the uploaded `file` privately and queue its review; returns the queued job at once."""
    from jobs.tasks import admin_import_run_task

    with transaction.atomic():
        job = ImportJob.objects.create(
            model=ContentType.objects.get_for_model(model), resource=dotted_path(resource_class),
            input_format=dotted_path(input_format_class), file=file, file_name=file.name[:255], dry_run=True,
            user=user, actor=actor.name, channel=actor.channel,
        )  # fmt: skip
        enqueue_on_commit(admin_import_run_task, job_id=job.pk)
    return job


def admin_import_confirm(*, review_id: int, user, actor: Actor) -> ImportJob:
    """Queue the import of a review's file; only a finished review without errors, and only once."""
    from jobs.tasks import admin_import_run_task

    review = ImportJob.objects.filter(pk=review_id).first()
    if review is None or not review.dry_run:
        raise ImportJobError("Only a review can be confirmed.", code="not_a_review")
    if review.status != ImportJob.Status.SUCCEEDED:
        raise ImportJobError("The review has not finished; confirm once it has.", code="review_unfinished")
    if review.errors:
        raise ImportJobError("The review found errors: correct the file and import it again.",
                             code="review_has_errors")  # fmt: skip
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(
                model_id=review.model_id, resource=review.resource, input_format=review.input_format,
                file=review.file.name, file_name=review.file_name, dry_run=False, review=review,
                total_rows=review.total_rows, user=user, actor=actor.name, channel=actor.channel,
            )  # fmt: skip
            enqueue_on_commit(admin_import_run_task, job_id=job.pk)
    except IntegrityError as exc:
        raise ImportJobError("This review was confirmed already.", code="already_confirmed") from exc
    return job


def admin_import_run(*, job_id: int) -> ImportJob:
    """Run (or resume) a review or an import, chunk by chunk; a file that cannot be read fails the job."""
    if not import_job_claim(job_id=job_id):
        return ImportJob.objects.get(pk=job_id)  # finished already (or attempts spent): a redelivery does nothing
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    try:
        total = import_file_survey(job)
        ImportJob.objects.filter(pk=job.pk).update(total_rows=total)
        resource = import_string(job.resource)()
        rows = import_file_rows(job)
        try:
            numbered = iter(rows.rows)
            for _ in range(job.processed_rows):  # committed by an earlier attempt
                next(numbered, None)
            while chunk := list(itertools.islice(numbered, settings.IMPORT_CHUNK_ROWS)):
                if not _chunk_commit(job=job, header=rows.header, rows=chunk, resource=resource):
                    break
        finally:
            rows.close()
    except (FileUnreadable, ImportJobError) as exc:
        import_job_fail(job_id=job.pk, error=str(exc))
    else:
        import_job_finish(job_id=job.pk)
    job.refresh_from_db()
    return job


class _ChunkRefused(Exception):
    def __init__(self, issues):
        self.issues = issues


def _chunk_commit(*, job, header, rows, resource) -> bool:
    """Check (or import) one chunk and count it in one transaction; False when the job is no longer running."""
    last = rows[-1][0]
    try:
        with transaction.atomic():
            rows = chunk_rows_left(ImportJob, job.pk, rows)
            if rows is None:
                return False
            if not rows:
                return True
            issues, counts = _chunk_apply(job=job, header=header, rows=rows, resource=resource)
            if issues and not job.dry_run:
                raise _ChunkRefused(issues)
            _issues_save(job, issues)
            ImportJob.objects.filter(pk=job.pk).update(
                processed_rows=last, new=F("new") + counts[RowResult.IMPORT_TYPE_NEW],
                updated=F("updated") + counts[RowResult.IMPORT_TYPE_UPDATE],
                skipped=F("skipped") + counts[RowResult.IMPORT_TYPE_SKIP],
                errors=F("errors") + len({issue[0] for issue in issues}), heartbeat_at=timezone.now(),
            )  # fmt: skip
    except _ChunkRefused as refused:
        _issues_save(job, refused.issues)
        first = min(issue[0] for issue in refused.issues)
        raise ImportJobError(
            f"Row {first} was refused while importing, although the review had passed it (the data changed "
            f"meanwhile): rows 1 to {rows[0][0] - 1} are imported, the rest are not. Correct the rows below, "
            "then import the file's remaining rows again."
        ) from None
    return True


def _chunk_apply(*, job, header, rows, resource):
    """The chunk through the resource: its report lines (row, field, message) and its import type counts."""
    issues, numbers, cells = [], [], []
    cells_by_number = dict(rows)
    for number, row in rows:
        problems = _row_problems(header, row)
        if problems:
            issues.extend((number, name, "", message) for name, message in problems)
        else:
            numbers.append(number)
            cells.append(row)
    counts = dict.fromkeys((RowResult.IMPORT_TYPE_NEW, RowResult.IMPORT_TYPE_UPDATE, RowResult.IMPORT_TYPE_SKIP), 0)
    if not cells:
        return issues, counts
    dataset = tablib.Dataset(*cells, headers=header)
    result = resource.import_data(
        dataset, dry_run=job.dry_run, raise_errors=False, use_transactions=True, rollback_on_validation_errors=True,
        retain_instance_in_row_result=not job.dry_run, file_name=job.file_name, user=job.user,
    )  # fmt: skip
    if result.base_errors:
        raise ImportJobError(f"The import stopped on the file as a whole: {result.base_errors[0].error}")
    for index, errors in result.row_errors():
        issues.extend((numbers[index - 1], "", "", f"The row could not be saved: {error.error}") for error in errors)
    columns = {name: at for at, name in enumerate(header)}
    for invalid in result.invalid_rows:
        cells = cells_by_number[numbers[invalid.number - 1]]
        for name, messages in invalid.error_dict.items():
            field = "" if name == NON_FIELD_ERRORS else name
            value = str(cells[columns[field]]) if field in columns else ""
            issues.extend((numbers[invalid.number - 1], field, value, message) for message in messages)
    for kind in counts:
        counts[kind] = result.totals[kind]
    if not job.dry_run and not issues and job.user_id:
        _admin_log(job, result)
    issues.sort(key=lambda issue: issue[0])
    return issues, counts


def _row_problems(header, row) -> list[tuple[str, str]]:
    if len(row) > len(header):
        return [("", f"This row has {len(row)} cells; the header names {len(header)} columns.")]
    return [(name, "This cell holds a NUL byte, which text cannot hold; the file may not be CSV text.")
            for name, cell in zip(header, row, strict=False) if isinstance(cell, str) and "\x00" in cell]  # fmt: skip


def _admin_log(job, result) -> None:
    """The admin's history of each written row, as django-import-export's in-request import keeps it."""
    by_kind = {}
    for row in result.rows:
        if row.import_type in LOG_FLAGS and row.instance is not None:
            by_kind.setdefault(row.import_type, []).append(row.instance)
    for kind, instances in by_kind.items():
        LogEntry.objects.log_actions(job.user_id, instances, LOG_FLAGS[kind],
                                     change_message=f"{kind.capitalize()} through import {job.pk}",
                                     single_object=False)  # fmt: skip


def _issues_save(job, issues) -> None:
    ImportJobIssue.objects.bulk_create(
        (
            ImportJobIssue(job_id=job.pk, row=row, field=field[:200], value=value[:200], message=message)
            for row, field, value, message in issues
        ),
        batch_size=ISSUE_BATCH,
    )


def admin_import_jobs_recover_stale(*, now) -> Recovered:
    """Hand each running import job whose worker died to a new worker (it goes on after its last committed
    chunk), or fail it once its attempts are spent."""
    from jobs.tasks import admin_import_run_task

    return stale_jobs_recover(
        model=ImportJob,
        now=now,
        resume=lambda pk: enqueue_on_commit(admin_import_run_task, job_id=pk),
        fail=lambda pk, error: import_job_fail(job_id=pk, error=error),
    )


def import_job_report_rows(job: ImportJob):
    """The error report's header and rows; cells come from the file, so they are made spreadsheet-safe."""
    yield REPORT_HEADER
    lines = job.issues.order_by("row", "id").values_list("row", "field", "value", "message")
    for row, field, value, message in lines.iterator():
        yield spreadsheet_safe_row(["" if row is None else row, field, value, message])


def import_job_report_csv_lines(job: ImportJob):
    """The error report as CSV text, one line at a time, for a streamed download."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in import_job_report_rows(job):
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
