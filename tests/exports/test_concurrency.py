import pytest

from config.actors import Actor
from exports import services
from exports.models import ExportRun
from tests.concurrency import run_callers
from tests.exports.factories import ExportDefinitionFactory
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_export_run_execute_racing_workers_claim_a_run_once():
    MemberFactory.create_batch(20)
    run = services.export_run_create(definition=ExportDefinitionFactory(), actor=Actor.system())

    def execute():
        services.export_run_execute(run_id=run.pk, actor=Actor.task("racer"))

    outcomes = run_callers([execute] * 4)

    assert [outcome.error for outcome in outcomes] == [None] * 4
    run.refresh_from_db()
    assert run.status == ExportRun.Status.SUCCEEDED and run.rows == 20 and run.attempts == 1
    assert run.events.filter(new_status="running").count() == 1
