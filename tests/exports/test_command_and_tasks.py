from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError

from config.tasks import MAX_RETRY_DELAY, retry_backoff
from exports import services, tasks
from exports.models import ExportRun
from tests.exports.factories import ExportDefinitionFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_run_export_command_runs_the_definition_and_prints_rows_file_and_duration():
    MemberFactory.create_batch(4)
    definition = ExportDefinitionFactory(name="Everyone")
    out = StringIO()
    call_command("run_export", str(definition.pk), stdout=out)
    run = ExportRun.objects.get()
    assert run.status == "succeeded" and run.rows == 4 and run.channel == "cli"
    assert f"Export run {run.pk} of 'Everyone': 4 rows written to {run.file.name} in " in out.getvalue()


def test_run_export_command_with_unknown_or_inactive_definition_fails():
    with pytest.raises(CommandError, match="No export definition"):
        call_command("run_export", "999999")
    with pytest.raises(CommandError, match="not active"):
        call_command("run_export", str(ExportDefinitionFactory(active=False).pk))


def test_export_task_retries_transient_database_errors(monkeypatch):
    run = services.export_run_create(definition=ExportDefinitionFactory(), actor=tasks.Actor.system())
    monkeypatch.setattr(tasks.services, "export_run_execute", lambda **kw: (_ for _ in ()).throw(OperationalError()))
    retried = []
    monkeypatch.setattr(tasks.export_run_execute_task, "retry", lambda **kw: retried.append(kw) or RuntimeError())
    with pytest.raises(RuntimeError):
        tasks.export_run_execute_task.run(run_id=run.pk)
    assert retried and retried[0]["countdown"] <= MAX_RETRY_DELAY


def test_export_task_backoff_never_exceeds_the_cap():
    assert [retry_backoff(n) for n in range(7)] == [10, 20, 40, 80, 160, 300, 300]


def test_export_task_fails_a_run_on_an_unexpected_error_and_does_not_retry(monkeypatch):
    MemberFactory()
    run = services.export_run_create(definition=ExportDefinitionFactory(), actor=tasks.Actor.system())
    monkeypatch.setattr(services.streaming, "write_csv", lambda **kw: (_ for _ in ()).throw(ValueError("disk full")))
    with pytest.raises(ValueError):
        tasks.export_run_execute_task.run(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and run.error == "ValueError: disk full"


def test_scheduled_task_starts_a_run_and_skips_inactive_or_deleted_definitions(django_capture_on_commit_callbacks):
    definition = ExportDefinitionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.export_definition_run_scheduled_task.run(definition_id=definition.pk)
    run = ExportRun.objects.get(pk=result["run_id"])
    assert run.status == "succeeded" and run.actor == "beat"
    inactive = ExportDefinitionFactory(active=False)
    assert (
        tasks.export_definition_run_scheduled_task.run(definition_id=inactive.pk)["error"]
        == "export_definition_inactive"
    )
    assert tasks.export_definition_run_scheduled_task.run(definition_id=999999)["error"] == "not_found"


def test_export_task_fails_the_run_once_retries_are_exhausted(monkeypatch):
    run = services.export_run_create(definition=ExportDefinitionFactory(), actor=tasks.Actor.system())
    monkeypatch.setattr(
        tasks.services, "export_run_execute", lambda **kw: (_ for _ in ()).throw(OperationalError("down"))
    )
    task = tasks.export_run_execute_task
    task.push_request(retries=task.max_retries)
    try:
        with pytest.raises(OperationalError):
            task.run(run_id=run.pk)
    finally:
        task.pop_request()
    run.refresh_from_db()
    assert run.status == "failed" and run.error == "Gave up after retries: down"
