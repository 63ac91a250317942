"""Coupon uploads: a CSV of members to issue to, or of existing codes (with or without members).

The file is streamed twice and never held whole: a first pass checks that it is UTF-8 CSV with the columns
it needs and counts its rows (for the progress bar), so a file that cannot be read fails before anything is
issued; the second pass reads it in chunks of UPLOAD_CHUNK_ROWS rows. Each chunk is one transaction with
the upload's progress counters and its report lines (`coupons.issuance.upload_chunks` judges and writes its
rows set-wise), so a worker that dies mid-file resumes after the last committed chunk and never issues a row
twice, and the progress bar moves per chunk. On PostgreSQL the next chunk is read, checked and its members
resolved on a second connection (`config.jobs.read_ahead`, one chunk ahead) while the current one is judged and
written: members are only read by an upload, and everything that depends on earlier chunks (the members'
standing, the codes' holders) is read inside the chunk's own transaction.
"""

import contextlib
import csv
import gc
import io
import itertools
import logging
import queue
import tempfile
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from config.actors import Actor
from config.jobs import Recovered, chunk_rows_left, read_ahead, stale_jobs_recover
from config.spreadsheet import spreadsheet_safe_row
from config.tasks import enqueue_on_commit
from coupons.exceptions import UploadError
from coupons.issuance.job_status import upload_claim, upload_fail, upload_finish
from coupons.issuance.locks import series_issuance_lock
from coupons.issuance.upload_chunks import (
    Layout,
    upload_chunk_apply,
    upload_chunk_prepare,
    upload_events_pending_write,
)
from coupons.models import CouponSeries, Upload, UploadIssue
from webhooks import events
from webhooks.outbox import events_emit

IDENTIFIERS = ("external_id", "mobile", "email", "user_id")
MESSAGES = {
    "invalid_external_id": "User does not exist with provided external id",
    "invalid_mobile": "User does not exist with provided mobile",
    "invalid_email": "User does not exist with provided email",
    "invalid_user_id": "User ID is not valid or is inactive",
    "duplicate_code": "The code exists already in the program or earlier in this file",
    "malformed_row": "The row cannot be read",
    "member_limit_reached": "Maximum issual limit per customer exceeded",
    "min_gap_not_met": "Minimum gap between two issuals not met",
    "series_limit_reached": "Maximum issual limit for the series reached",
    "generic_code_already_issued": "Generic coupon code has already been issued to this customer",
    "member_not_allowed": "The customer is not on the series' list",
    "member_inactive": "The customer is inactive",
    "excluded_by_past_issual": "The customer received an excluded series recently",
    "series_exhausted": "The series has no codes left",
}
REPORT_HEADER = ["row", "identifier", "code", "message"]
logger = logging.getLogger(__name__)
ISSUE_BATCH = 5_000


class FileUnreadable(Exception):
    pass


def upload_create(*, series: CouponSeries, kind: str, file, actor: Actor) -> Upload:
    if kind == Upload.Kind.MEMBERS and series.code_mode == CouponSeries.CodeMode.RANDOMIZED_COMMON:
        raise UploadError("A randomized common series does not take member uploads.")
    if kind == Upload.Kind.CODES and series.code_mode != CouponSeries.CodeMode.UPLOAD:
        raise UploadError("Existing codes upload only into a series whose codes are uploaded.")
    if kind == Upload.Kind.MEMBERS and series.is_third_party:
        raise UploadError("A third-party series issues its coupons elsewhere.")
    from coupons.tasks import upload_process_task

    with transaction.atomic():
        upload = Upload.objects.create(series=series, kind=kind, file=file, actor=actor.name, channel=actor.channel)
        audit_record(actor=actor, action=AuditEvent.Action.UPLOAD, obj=series, changes={"upload": [None, upload.pk]},
                     summary=f"{upload.get_kind_display()} upload {upload.pk}: {upload.file.name}")  # fmt: skip
        enqueue_on_commit(upload_process_task, upload_id=upload.pk)
    return upload


def upload_process(*, upload_id: int) -> Upload:
    if not upload_claim(upload_id=upload_id):
        # Finished already (or attempts spent): a redelivery does nothing but write the events its chunks left.
        _pending_events_write(upload_id)
        return Upload.objects.get(pk=upload_id)
    upload = Upload.objects.select_related("series").get(pk=upload_id)
    actor = Actor(name=upload.actor, channel=upload.channel)
    if upload.attempts > 1:
        _discard_partial_report(upload)
        upload_events_pending_write(upload_id=upload.pk, actor=actor)  # what a lost worker's chunks left
    try:
        layout, total = _survey(upload)
    except FileUnreadable as exc:
        upload_fail(upload_id=upload.pk, error=str(exc))
        upload.refresh_from_db()
        return upload
    Upload.objects.filter(pk=upload.pk).update(total_rows=total)
    size = settings.UPLOAD_CHUNK_ROWS
    with _FileRows(upload) as file:
        numbered = enumerate(file.rows, start=1)
        for _ in range(upload.processed_rows):  # committed by an earlier attempt
            next(numbered, None)
        chunks = iter(lambda: list(itertools.islice(numbered, size)), [])
        prepared = (upload_chunk_prepare(layout=layout, rows=chunk) for chunk in chunks)
        # The next chunk is read and its members resolved on a second connection while this one is written,
        # and the last chunk's events are written on a third: the worker's Python, the member lookups and the
        # events run beside the chunk's inserts, on the other core.
        codes = _CodeChecks()
        beside = _may_read_ahead()
        with (
            read_ahead(prepared, in_thread=beside) as ready,
            _events_beside(upload, actor, in_thread=beside) as events_to,
        ):
            for rows in ready:
                with _cycles_collected_after():
                    committed = _chunk_commit(upload=upload, layout=layout, rows=rows, actor=actor, codes=codes,
                                              events_to=events_to)  # fmt: skip
                if not committed:
                    return Upload.objects.get(pk=upload.pk)  # failed meanwhile (attempts spent): stop here
                if settings.UPLOAD_PAUSE_PER_CHUNK:
                    time.sleep(settings.UPLOAD_PAUSE_PER_CHUNK)
    _write_report(upload)
    with transaction.atomic():
        if upload_finish(upload_id=upload.pk):
            upload.refresh_from_db()
            events_emit(type=events.UPLOAD_FINISHED, object_type="upload", object_id=upload.pk,
                        data={"upload_id": upload.pk, "series_id": upload.series_id, "kind": upload.kind,
                              "status": upload.status, "rows": upload.processed_rows,
                              "succeeded": upload.succeeded, "failed": upload.failed})  # fmt: skip
    upload.refresh_from_db()
    return upload


def _may_read_ahead() -> bool:
    # Inside an open transaction (a test's), another connection would not see its rows.
    return connection.vendor == "postgresql" and not connection.in_atomic_block


@dataclass
class _CodeChecks:
    """How a codes upload's chunks find codes already in the program (`upload_chunk_apply`'s `code_index_first`):
    through the unique code index as they are written, until a chunk meets one; then every later chunk looks
    its codes up first, so a file of known codes costs one chunk's rerun, not one a chunk."""

    index_first: bool = True


def _chunk_commit(*, upload, layout, rows, actor, codes: _CodeChecks, events_to=None) -> bool:
    """Judge, write and count one chunk (prepared by `upload_chunk_prepare`) in one transaction; False when the
    upload is no longer running."""
    last = rows[-1].number
    # What reading and resolving found: judging only sets a row's problems, so a second run starts from these.
    found = [tuple(row.problems) for row in rows]
    # A run trusting the code index, then two that look the codes up (the second after a code another upload
    # wrote meanwhile).
    index_first = codes.index_first and layout.kind == Upload.Kind.CODES
    runs = (True, False, False) if index_first else (False, False)
    for attempt, code_index_first in enumerate(runs):
        if attempt:
            for row, problems in zip(rows, found, strict=True):
                row.problems = list(problems)
        try:
            with transaction.atomic():
                left = chunk_rows_left(Upload, upload.pk, rows, number=_row_number)
                if left is None:
                    return False
                if not left:
                    return True
                series_issuance_lock(upload.series_id)
                series = CouponSeries.objects.select_for_update().select_related("offer").get(pk=upload.series_id)
                outcome = upload_chunk_apply(upload=upload, series=series, layout=layout, rows=left, actor=actor,
                                             now=timezone.now(), code_index_first=code_index_first,
                                             events_later=events_to is not None)  # fmt: skip
                _issues_write(upload=upload, issues=outcome.issues)
                Upload.objects.filter(pk=upload.pk).update(
                    processed_rows=last,
                    succeeded=F("succeeded") + outcome.succeeded,
                    failed=F("failed") + outcome.failed,
                    heartbeat_at=timezone.now(),
                )
            if events_to is not None:
                events_to(outcome.events_pending)
            return True
        except IntegrityError:
            # A code in the program already (the index found it), or an uploaded code another upload wrote
            # since this chunk read the holders: the chunk rolled back whole, and its next run, which looks
            # the codes up, reports that code as a duplicate.
            if code_index_first:
                codes.index_first = False
            elif attempt == len(runs) - 1:
                raise
    return True


@contextlib.contextmanager
def _events_beside(upload, actor, *, in_thread: bool):
    """A function taking the UploadEventsPending rows each committed chunk left, whose events a thread writes on
    its own connection while the next chunk is written; None (the events written in the chunk) without
    `in_thread`. Leaving waits for the thread, then writes on this connection whatever it did not (it failed, or
    the loop stopped early), so the upload ends with every event written; leaving on an error leaves them to the
    upload's next attempt, or to its failure (`_pending_events_write`)."""
    if not in_thread:
        yield None
        return
    handed: queue.Queue = queue.Queue()

    def write() -> None:
        try:
            for pks in iter(handed.get, None):
                for pk in pks:
                    upload_events_pending_write(upload_id=upload.pk, actor=actor, pk=pk)
        except Exception:
            logger.exception("Upload %s: events left to the upload's own connection", upload.pk)
        finally:
            connection.close()

    writer = threading.Thread(target=write, name="upload-events", daemon=True)
    writer.start()
    try:
        yield handed.put
    finally:
        handed.put(None)
        writer.join()
    upload_events_pending_write(upload_id=upload.pk, actor=actor)


def _pending_events_write(upload_id: int) -> None:
    """The events an upload's committed chunks left pending (its worker was lost), before it stops for good."""
    upload = Upload.objects.get(pk=upload_id)
    upload_events_pending_write(upload_id=upload_id, actor=Actor(name=upload.actor, channel=upload.channel))


def _row_number(row) -> int:
    return row.number


@contextlib.contextmanager
def _cycles_collected_after():
    """Hold the cyclic garbage collector back while a chunk runs, then collect what the chunk left.

    A chunk makes tens of thousands of row objects, and the collector, triggered every 700 allocations,
    traversed them (and the application's own objects) again and again: two thirds of the time spent
    building a chunk's rows. Reference counting frees them as before; the young collection after the
    chunk finds any cycle it made.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)


def _issues_write(*, upload, issues) -> None:
    """The chunk's report lines: one COPY on PostgreSQL (a file of failing rows has one a row)."""
    if not issues:
        return
    if connection.vendor != "postgresql":
        UploadIssue.objects.bulk_create(
            (UploadIssue(upload=upload, row=number, identifier=label, code=code, message=MESSAGES.get(code, code))
             for number, label, code in issues),
            batch_size=ISSUE_BATCH,
        )  # fmt: skip
        return
    statement = f"COPY {UploadIssue._meta.db_table} (upload_id, row, identifier, code, message) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for number, label, code in issues:
            copy.write_row((upload.pk, number, label, code, MESSAGES.get(code, code)))


def _discard_partial_report(upload: Upload) -> None:
    """Delete a report an interrupted attempt may have left half-written, so the rerun's takes its name."""
    storage = upload.error_report.storage
    fresh_name = upload.error_report.field.generate_filename(upload, upload_report_filename(upload))
    for name in {upload.error_report.name, fresh_name}:
        if name:
            storage.delete(name)
    Upload.objects.filter(pk=upload.pk).update(error_report="")
    upload.error_report.name = ""


def uploads_recover_stale(*, now) -> Recovered:
    """Hand each running upload whose worker died (stale heartbeat) to a new worker, or fail it, attempts spent.

    A resumed upload goes on after its last committed chunk of rows, so no row is issued twice.
    """
    from coupons.tasks import upload_process_task

    return stale_jobs_recover(
        model=Upload,
        now=now,
        resume=lambda pk: enqueue_on_commit(upload_process_task, upload_id=pk),
        fail=_fail_with_its_events,
    )


def _fail_with_its_events(pk: int, error: str) -> None:
    _pending_events_write(pk)  # the chunks it committed stay done, with their events
    upload_fail(upload_id=pk, error=error)


class _FileRows:
    """The file's header and data rows (lists of cells), streamed from storage and decoded as UTF-8, with or
    without a byte order mark. Blank lines are skipped, as csv.DictReader does, so every pass numbers the
    rows alike."""

    def __init__(self, upload):
        self.upload = upload

    def __enter__(self):
        self.handle = self.upload.file.storage.open(self.upload.file.name, "rb")
        binary = getattr(self.handle, "file", self.handle)  # the storage's own file object, for io to buffer
        reader = csv.reader(io.TextIOWrapper(binary, encoding="utf-8-sig", errors="strict", newline=""))
        self.header = [name.strip().lower() for name in next(reader, [])]
        self.rows = (row for row in reader if row)
        return self

    def __exit__(self, *exc):
        self.handle.close()


def _survey(upload) -> tuple[Layout, int]:
    """Read the file through once: where its columns are and how many rows it has, or why it cannot be read."""
    try:
        with _FileRows(upload) as file:
            header = file.header
            total = sum(1 for _ in file.rows)
    except UnicodeDecodeError as exc:
        bad = exc.object[exc.start : exc.start + 4]
        raise FileUnreadable(
            f"The file is not UTF-8 text (it holds the bytes {bad.hex(' ')}, which UTF-8 does not allow). "
            "Save it as CSV UTF-8, with or without a byte order mark, and upload it again."
        ) from exc
    except (csv.Error, OSError, ValueError) as exc:
        raise FileUnreadable(f"The file is not a readable CSV: {exc}") from exc
    if any("\x00" in name for name in header):
        raise FileUnreadable(
            "The file is not UTF-8 text (its first line holds NUL bytes, as UTF-16 files do). "
            "Save it as CSV UTF-8, with or without a byte order mark, and upload it again."
        )
    identifiers = [name for name in IDENTIFIERS if name in header]
    if len(identifiers) > 1:
        raise FileUnreadable(f"Name one identifier column, not {', '.join(identifiers)}.")
    identifier = identifiers[0] if identifiers else None
    if upload.kind == Upload.Kind.MEMBERS and identifier is None:
        raise FileUnreadable(f"A members file needs one identifier column: {', '.join(IDENTIFIERS)}.")
    if upload.kind == Upload.Kind.CODES and "code" not in header:
        raise FileUnreadable("A codes file needs a 'code' column.")
    layout = Layout(
        kind=upload.kind,
        width=len(header),
        identifier=identifier,
        identifier_at=_last_index(header, identifier),
        code_at=_last_index(header, "code") if upload.kind == Upload.Kind.CODES else None,
    )
    return layout, total


def _last_index(header: list[str], name: str | None) -> int | None:
    # csv.DictReader, which these files were read with before, kept the last of two columns of one name.
    if name is None or name not in header:
        return None
    return len(header) - 1 - header[::-1].index(name)


def _write_report(upload) -> None:
    """Write the "Download issues" file from the report lines the chunks committed, streamed to storage."""
    if not upload.issues.exists():
        return
    with tempfile.TemporaryFile("w+b") as spool:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        csv.writer(text).writerows(upload_report_rows(upload))
        text.flush()
        spool.seek(0)
        upload.error_report.save(upload_report_filename(upload), File(spool), save=False)
        text.detach()
    Upload.objects.filter(pk=upload.pk).update(error_report=upload.error_report.name)


def upload_report_rows(upload: Upload):
    """The report's header and rows; identifiers come from the uploaded file, so cells are spreadsheet-safe."""
    yield REPORT_HEADER
    for issue in upload.issues.order_by("row", "id").iterator():
        yield spreadsheet_safe_row([issue.row, issue.identifier, issue.code, issue.message])


def upload_report_csv(upload: Upload) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(upload_report_rows(upload))
    return buffer.getvalue().encode()


def upload_report_filename(upload: Upload) -> str:
    return f"upload-{upload.pk}-issues.csv"
