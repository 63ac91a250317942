"""Export runs change status only through exports/lifecycle.py, under the job table, each change with its event."""

import pytest

from config.actors import Actor
from config.jobs import JOB_TRANSITIONS
from exports.lifecycle import export_run_status
from exports.models import ExportRun, ExportRunEvent
from tests import job_status_moves as moves
from tests.exports.factories import ExportDefinitionFactory
from tests.status_writes import python_files, status_writes

ACTOR = Actor(name="ops", channel="admin")


def _run(status: str = "queued") -> ExportRun:
    return ExportRun.objects.create(definition=ExportDefinitionFactory(), status=status, actor="t", channel="test")


def test_export_run_statuses_change_only_in_the_lifecycle_module():
    paths = python_files("exports", "jobs", "config/jobs.py")
    assert status_writes(paths, writers={"exports/lifecycle.py"}) == []


def test_export_run_statuses_are_the_job_table():
    moves.assert_statuses_are_the_table(ExportRun)


@pytest.mark.django_db
@pytest.mark.parametrize("old, to", moves.PAIRS)
def test_export_run_one_row_writer_moves_what_the_table_allows_with_one_event(old, to):
    run = _run(old)

    moves.assert_one_row_move(export_run_status, run, old, to, actor=ACTOR, reason="why")

    events = list(ExportRunEvent.objects.filter(run=run).values_list("old_status", "new_status", "actor", "reason"))
    assert events == ([(old, to, "ops", "why")] if to in JOB_TRANSITIONS[old] else [])


@pytest.mark.django_db
@pytest.mark.parametrize("to", moves.STATUSES)
def test_export_run_set_writer_moves_what_the_table_allows_with_an_event_each(to):
    runs = {status: _run(status) for status in moves.STATUSES}

    moves.assert_set_move(export_run_status, runs, to, actor=ACTOR, reason="sweep")

    events = set(ExportRunEvent.objects.values_list("run_id", "old_status", "new_status", "reason"))
    assert events == {(runs[old].pk, old, to, "sweep") for old in moves.STATUSES if to in JOB_TRANSITIONS[old]}


@pytest.mark.django_db
def test_export_run_one_row_writer_refuses_a_lost_swap_and_writes_no_event():
    run = _run()

    moves.assert_lost_swap_is_refused(export_run_status, run, actor=ACTOR)

    assert not ExportRunEvent.objects.filter(run=run).exists()
