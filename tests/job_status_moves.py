"""The checks every job status writer (config.jobs.JobStatusWriter) must pass, for each job model's tests."""

import itertools

import pytest

from config.jobs import JOB_TRANSITIONS, JobStatusWriter

STATUSES = list(JOB_TRANSITIONS)
PAIRS = list(itertools.product(STATUSES, STATUSES))


def assert_statuses_are_the_table(model) -> None:
    assert set(model.Status.values) == set(JOB_TRANSITIONS)


def assert_one_row_move(writer: JobStatusWriter, row, old: str, to: str, **move) -> None:
    """`row` is in `old`: the move happens exactly when the table has it, else the model's error is raised."""
    if to in JOB_TRANSITIONS[old]:
        writer.move(pk=row.pk, old=old, to=to, **move)
        row.refresh_from_db()
        assert row.status == to
    else:
        with pytest.raises(writer.error) as refused:
            writer.move(pk=row.pk, old=old, to=to, **move)
        assert (refused.value.code, refused.value.reasons) == ("illegal_transition", [old])
        row.refresh_from_db()
        assert row.status == old


def assert_set_move(writer: JobStatusWriter, rows_by_status: dict, to: str, **move) -> None:
    """One row in each status: moving them all from the statuses the table lets go to `to` moves exactly those,
    and naming a status it does not is refused before anything moves."""
    movable = [old for old in STATUSES if to in JOB_TRANSITIONS[old]]
    refused = [old for old in STATUSES if old not in movable]
    every = writer.model.objects.filter(pk__in=[row.pk for row in rows_by_status.values()])
    if refused:
        with pytest.raises(writer.error):
            writer.move_many(rows=every, from_statuses=refused[:1], to=to, **move)
    assert writer.move_many(rows=every, from_statuses=movable, to=to, **move) == len(movable)
    after = dict(every.values_list("pk", "status"))
    assert {old: after[row.pk] for old, row in rows_by_status.items()} == {
        old: to if old in movable else old for old in STATUSES
    }


def assert_lost_swap_is_refused(writer: JobStatusWriter, row, **move) -> None:
    """A row read queued but failed meanwhile: the claim is refused, the row stays failed."""
    writer.model.objects.filter(pk=row.pk).update(status="failed")
    with pytest.raises(writer.error) as lost:
        writer.move(pk=row.pk, old="queued", to="running", **move)
    assert lost.value.code == "illegal_transition"
    row.refresh_from_db()
    assert row.status == "failed"
