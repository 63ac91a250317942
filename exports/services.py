"""Writes: export definitions (validated against their dataset, schedules kept in step) and runs."""

import contextlib
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from audit.protection import ensure_deletable
from audit.services import audit_created, audit_deleted, audit_updated
from audit.snapshots import snapshot
from config.actors import Actor
from config.db_router import reads_may_lag
from config.jobs import Recovered, attempts_exhausted_message, max_attempts, stale_condition, stale_jobs_recover
from config.tasks import enqueue_on_commit
from exports import rules, streaming
from exports.datasets import CONTRACT_DATASETS, Dataset, dataset_get
from exports.exceptions import ExportDefinitionError, ExportRunError
from exports.lifecycle import export_run_event, export_run_transition
from exports.models import ExportDefinition, ExportRun
from exports.schedules import periodic_task_delete, periodic_task_sync
from webhooks import events
from webhooks.outbox import events_emit

Status = ExportRun.Status

DEFINITION_FIELDS = ("name", "dataset", "filters", "columns", "format", "schedule", "destination", "active")
# Kept in step by the definition's own fields (the schedule), or fixed at creation.
NOT_AUDITED = ("periodic_task", "created_by", "created_at")


# Definitions ----------------------------------------------------------------------------------


def export_definition_validate(*, dataset: str, columns: list, filters: dict, schedule: str, destination: str) -> list:
    """Check a definition against its dataset; returns the columns to store (all, when none given)."""
    found = _dataset_for(dataset)
    columns = list(columns or found.column_names)
    errors = {}
    if problems := rules.column_problems(found, columns):
        errors["columns"] = problems
    if not isinstance(filters, dict):
        errors["filters"] = ["Expected an object of filter name → value."]
        unknown_filters, bad_values = [], []
    else:
        unknown_filters, bad_values = rules.filter_problems(found, filters)
        if unknown_filters or bad_values:
            errors["filters"] = unknown_filters + bad_values
    if schedule:
        try:
            rules.parse_cron(schedule)
        except ValueError as exc:
            errors["schedule"] = [str(exc)]
    if problem := rules.destination_problem(destination):
        errors["destination"] = [problem]
    if errors:
        code = "invalid_export_definition"
        if errors.keys() == {"columns"}:
            code = "unknown_column"
        elif errors.keys() == {"filters"} and unknown_filters:
            code = "unknown_filter"
        elif errors.keys() == {"schedule"}:
            code = "invalid_schedule"
        raise ExportDefinitionError("The export definition does not fit its dataset.", code=code, errors=errors)
    return columns


def _dataset_for(name: str) -> Dataset:
    found = dataset_get(name)
    if found is not None:
        return found
    if name in CONTRACT_DATASETS:
        raise ExportDefinitionError(
            f"The {name} dataset is not available for export yet.",
            code="dataset_not_available",
            errors={"dataset": [f"{name} is not registered for export in this installation."]},
        )
    raise ExportDefinitionError(
        f"Unknown dataset {name!r}.", code="unknown_dataset", errors={"dataset": [f"Unknown dataset {name!r}."]}
    )


@transaction.atomic
def export_definition_create(
    *,
    name: str,
    dataset: str,
    actor: Actor,
    columns=(),
    filters=None,
    format: str = ExportDefinition.Format.CSV,
    schedule: str | None = "",
    destination: str = "exports",
    active: bool = True,
) -> ExportDefinition:
    schedule = (schedule or "").strip()
    filters = {} if filters is None else filters
    columns = export_definition_validate(
        dataset=dataset, columns=list(columns), filters=filters, schedule=schedule, destination=destination
    )
    definition = ExportDefinition.objects.create(
        name=name,
        dataset=dataset,
        columns=columns,
        filters=filters,
        format=format,
        schedule=schedule,
        destination=destination.strip("/"),
        active=active,
        created_by=actor.name,
    )
    periodic_task_sync(definition=definition)
    definition.save(update_fields=["periodic_task"])
    audit_created(actor=actor, obj=definition, after=snapshot(definition, exclude=NOT_AUDITED))
    return definition


@transaction.atomic
def export_definition_update(*, definition: ExportDefinition, actor: Actor, **changes) -> ExportDefinition:
    definition = ExportDefinition.objects.select_for_update().get(pk=definition.pk)
    before = snapshot(definition, exclude=NOT_AUDITED)
    unknown = set(changes) - set(DEFINITION_FIELDS)
    if unknown:
        raise ExportDefinitionError(f"Cannot change {', '.join(sorted(unknown))}.", code="invalid_export_definition")
    if "schedule" in changes:
        changes["schedule"] = (changes["schedule"] or "").strip()
    if "filters" in changes and changes["filters"] is None:
        changes["filters"] = {}
    for field, value in changes.items():
        setattr(definition, field, value)
    if "dataset" in changes and "columns" not in changes:
        definition.columns = []  # a new dataset: all of its columns, unless chosen
    definition.columns = export_definition_validate(
        dataset=definition.dataset,
        columns=definition.columns,
        filters=definition.filters,
        schedule=definition.schedule,
        destination=definition.destination,
    )
    definition.destination = definition.destination.strip("/")
    definition.updated_at = timezone.now()
    periodic_task_sync(definition=definition)
    definition.save()
    audit_updated(actor=actor, obj=definition, before=before, after=snapshot(definition, exclude=NOT_AUDITED))
    return definition


@transaction.atomic
def export_definition_delete(*, definition: ExportDefinition, actor: Actor) -> None:
    """Delete a definition and its schedule; one that has run is refused (409): its runs' history is kept."""
    ensure_deletable(definition)
    definition = ExportDefinition.objects.select_for_update().get(pk=definition.pk)
    before, pk = snapshot(definition, exclude=NOT_AUDITED), definition.pk
    periodic_task_delete(definition=definition)
    definition.delete()
    audit_deleted(actor=actor, obj=definition, before=before, object_id=pk)


# Runs -----------------------------------------------------------------------------------------


def export_run_create(*, definition: ExportDefinition, actor: Actor) -> ExportRun:
    """A queued run of the definition, not yet handed to a worker (see export_run_start)."""
    if not definition.active:
        raise ExportRunError(
            "The export definition is not active.", code="export_definition_inactive", reasons=["inactive"]
        )
    _dataset_for(definition.dataset)
    with transaction.atomic():
        run = ExportRun.objects.create(definition=definition, actor=actor.name, channel=actor.channel)
        export_run_event(run.pk, "", Status.QUEUED, actor).save(force_insert=True)
    return run


@transaction.atomic
def export_run_start(*, definition: ExportDefinition, actor: Actor) -> ExportRun:
    """Create a run and queue its execution once this transaction commits."""
    from exports.tasks import export_run_execute_task

    run = export_run_create(definition=definition, actor=actor)
    enqueue_on_commit(export_run_execute_task, run_id=run.pk)
    return run


def export_run_execute(*, run_id: int, actor: Actor) -> ExportRun:
    """Write the run's file and record the outcome; the body of the export task and of run_export.

    Safe to call again for the same run (a redelivered task): a finished run is left as it is, and an
    interrupted one starts over, writing a fresh temporary file that replaces the stored one whole.
    Transient database errors propagate (the task retries); anything else fails the run.
    """
    with _run_lock(run_id) as acquired:
        if not acquired:  # another live worker is executing this run (a duplicate delivery); leave it to it
            return ExportRun.objects.get(pk=run_id)
        return _execute(run_id=run_id, actor=actor)


# Locks are namespaced so that run ids cannot collide with other apps' advisory locks.
_LOCK_NAMESPACE = 0x0E5 << 40


def _run_lock_key(run_id: int) -> int:
    return _LOCK_NAMESPACE | run_id


@contextlib.contextmanager
def _run_lock(run_id: int):
    """A PostgreSQL advisory lock on the run for as long as this worker executes it.

    Unlike a status or a heartbeat, it tells a live executor from a dead one exactly: the server drops it with the
    connection of a worker that died. It is a transaction-level lock, held by a transaction of its own on a
    connection of its own, so that it also holds behind a transaction-mode pooler (which keeps an open transaction
    on one server connection, and hands out any between the run's own statements). That transaction writes nothing
    and, in read committed, keeps no snapshot between statements, so leaving it open does not hold back vacuum.
    Elsewhere (SQLite, one process) the lock always succeeds.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    import psycopg

    holder = connection.get_new_connection(connection.get_connection_params())
    try:
        holder.autocommit = False  # the first statement opens the transaction that holds the lock
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_run_lock_key(run_id)])
            acquired = cursor.fetchone()[0]
        yield acquired
    finally:
        # Closing ends the transaction and its lock; a connection lost on the way has taken the lock with it.
        with contextlib.suppress(psycopg.Error):
            holder.close()


def _execute(*, run_id: int, actor: Actor) -> ExportRun:
    from django.db.models import F

    run = ExportRun.objects.select_related("definition").get(pk=run_id)
    if run.is_finished:
        return run
    if run.attempts >= max_attempts():
        # Started that many times and never finished: its worker dies under it, so stop handing it out.
        _discard_temporary_files(run_id)
        return _fail(run_id=run_id, started=run.started_at or timezone.now(), actor=actor,
                     error=attempts_exhausted_message(run.attempts))  # fmt: skip
    resumed = run.status == Status.RUNNING
    started = timezone.now()
    reason = "restarted after an interrupted attempt" if resumed else ""
    claimed = export_run_transition(
        run_id=run_id, to=Status.RUNNING, actor=actor, reason=reason, expected_attempts=run.attempts,
        started_at=started, attempts=F("attempts") + 1, progress_done=0, progress_total=None, error="",
        heartbeat_at=started,
    )  # fmt: skip
    if not claimed:
        return ExportRun.objects.get(pk=run_id)
    if resumed:
        _discard_temporary_files(run_id)  # the partial file of the attempt that died (on this host)
    definition = run.definition
    try:
        dataset = _dataset_for(definition.dataset)
        # The rows come from the replica when there is one (as of its replay point, seconds behind at worst);
        # the run's own row, its progress and its outcome are written to the primary.
        with reads_may_lag() as reads:
            total = streaming.count_rows(dataset, definition.filters, using=reads)
            ExportRun.objects.filter(pk=run_id).update(progress_total=total)
            name, rows = _write_file(run=run, dataset=dataset, using=reads)
    except ExportDefinitionError as exc:
        return _fail(run_id=run_id, started=started, actor=actor, error=str(exc))
    except Exception as exc:
        if _is_transient(exc):
            raise
        _fail(run_id=run_id, started=started, actor=actor, error=f"{type(exc).__name__}: {exc}")
        raise
    finished = timezone.now()
    with transaction.atomic():
        if export_run_transition(
            run_id=run_id, to=Status.SUCCEEDED, actor=actor, file=name, rows=rows, progress_done=rows,
            progress_total=rows, finished_at=finished, duration=finished - started,
        ):  # fmt: skip
            _finished_emit(run_id=run_id, status=Status.SUCCEEDED, rows=rows)
    return ExportRun.objects.get(pk=run_id)


def export_run_fail(*, run_id: int, actor: Actor, error: str) -> ExportRun:
    """Give up on a run that has not finished (retries exhausted); a finished run is left as it is."""
    started = ExportRun.objects.values_list("started_at", flat=True).get(pk=run_id) or timezone.now()
    return _fail(run_id=run_id, started=started, actor=actor, error=error)


def _fail(*, run_id: int, started, actor: Actor, error: str) -> ExportRun:
    finished = timezone.now()
    with transaction.atomic():
        if export_run_transition(
            run_id=run_id, to=Status.FAILED, actor=actor, reason=error, error=error, finished_at=finished,
            duration=finished - started,
        ):  # fmt: skip
            _finished_emit(run_id=run_id, status=Status.FAILED, error=error)
    return ExportRun.objects.get(pk=run_id)


def _finished_emit(*, run_id: int, status: str, rows: int | None = None, error: str = "") -> None:
    events_emit(type=events.EXPORT_RUN_FINISHED, object_type="export_run", object_id=run_id,
                data={"run_id": run_id, "status": status, "rows": rows, "error": error})  # fmt: skip


def export_run_file_name(run: ExportRun) -> str:
    definition = run.definition
    return f"{definition.destination}/export-{definition.pk}-run-{run.pk}.{definition.format}"


class _LocalTemporaryFile(File):
    """A finished local file: FileSystemStorage moves it into place instead of copying it."""

    def temporary_file_path(self):
        return self.file.name


def _write_file(*, run: ExportRun, dataset: Dataset, using: str) -> tuple[str, int]:
    definition = run.definition

    def on_progress(done: int) -> None:
        ExportRun.objects.filter(pk=run.pk).update(progress_done=done, heartbeat_at=timezone.now())

    # FILE_UPLOAD_TEMP_DIR on the storage's filesystem makes the final move a rename.
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, unlinked in finally)
        prefix=_temporary_prefix(run.pk), suffix=".csv", delete=False, dir=settings.FILE_UPLOAD_TEMP_DIR
    )
    try:
        with handle:
            rows = streaming.write_csv(
                dataset=dataset, columns=definition.columns, filters=definition.filters, out=handle,
                on_progress=on_progress, using=using,
            )  # fmt: skip
        name = export_run_file_name(run)
        # Replace whatever an interrupted attempt stored: the new file is complete before it is moved in.
        default_storage.delete(name)
        with open(handle.name, "rb") as finished:
            stored = default_storage.save(name, _LocalTemporaryFile(finished, name=os.path.basename(name)))
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(handle.name)
    return stored, rows


def _temporary_prefix(run_id: int) -> str:
    return f"export-{run_id}-"


def _temporary_files(run_id: int | None = None) -> list[Path]:
    """Partial files of export runs in this host's temporary directory (of one run, or of all)."""
    folder = Path(settings.FILE_UPLOAD_TEMP_DIR or tempfile.gettempdir())
    pattern = f"{_temporary_prefix(run_id)}*.csv" if run_id is not None else "export-*-*.csv"
    return list(folder.glob(pattern))


def _discard_temporary_files(run_id: int) -> None:
    for path in _temporary_files(run_id):
        path.unlink(missing_ok=True)


def export_run_has_live_executor(run_id: int) -> bool:
    """True while a worker executes the run (it holds the run's advisory lock; PostgreSQL only).

    Read from pg_locks rather than by trying the lock, so the check takes nothing a live executor could miss.
    A lock on one bigint key shows as its high and low 32 bits (classid, objid) with objsubid 1.
    """
    if connection.vendor != "postgresql":
        return False
    key = _run_lock_key(run_id)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid::bigint = %s AND objid::bigint = %s)",
            [key >> 32, key & 0xFFFFFFFF],
        )
        return cursor.fetchone()[0]


def export_runs_recover_stale(*, now, actor: Actor) -> Recovered:
    """Hand each running export whose worker died (stale heartbeat, no live executor) to a new worker, or fail
    it, attempts spent; then delete the partial files on this host that no live run is writing.

    A resumed run rewrites its file from scratch (see export_run_execute), so its rows stay exact.
    """
    from exports.tasks import export_run_execute_task

    def fail(run_id: int, error: str) -> None:
        export_run_fail(run_id=run_id, actor=actor, error=error)

    recovered = stale_jobs_recover(
        model=ExportRun,
        now=now,
        resume=lambda run_id: enqueue_on_commit(export_run_execute_task, run_id=run_id),
        fail=fail,
        alive=export_run_has_live_executor,
    )
    _discard_abandoned_temporary_files(now=now)
    return recovered


def _discard_abandoned_temporary_files(*, now) -> None:
    """Partial files of runs that finished, or that are stale and have no live executor (a killed worker's)."""
    files: dict[int, list[Path]] = {}
    for path in _temporary_files():
        run_id = path.name.split("-")[1]
        if run_id.isdigit():
            files.setdefault(int(run_id), []).append(path)
    if not files:
        return
    live = set(
        ExportRun.objects.filter(pk__in=files, status__in=[Status.QUEUED, Status.RUNNING])
        .exclude(stale_condition(now))
        .values_list("pk", flat=True)
    )
    for run_id, paths in files.items():
        if run_id not in live and not export_run_has_live_executor(run_id):
            for path in paths:
                path.unlink(missing_ok=True)


def _is_transient(exc: Exception) -> bool:
    from django.db import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError)


def admin_export_start(*, dataset: str, actor: Actor, filters=None) -> ExportRun:
    """An admin list's "Export" button: a run of the dataset's every column (with the list's filters), written by
    a worker.

    The definition is made once per dataset and set of filters and kept (its runs are the list's export history);
    the request only queues the run, whatever the number of rows.
    """
    found = _dataset_for(dataset)
    filters = dict(sorted((filters or {}).items()))
    words = ", ".join(f"{name}: {value}" for name, value in filters.items())
    name = f"Admin export: {found.label or found.name}" + (f" ({words})" if words else "")
    with transaction.atomic():
        definition = (
            ExportDefinition.objects.filter(name=name[:200], dataset=dataset, filters=filters, schedule="", active=True)
            .order_by("pk")
            .first()
        )
        if definition is None:
            definition = export_definition_create(name=name[:200], dataset=dataset, actor=actor, filters=filters,
                                                  columns=[column.name for column in found.columns])  # fmt: skip
        return export_run_start(definition=definition, actor=actor)
