import threading

import pytest
from django.db import connection

from config.actors import Actor
from exports import services
from exports.models import ExportRun
from tests.exports.factories import ExportDefinitionFactory
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_export_run_execute_racing_workers_claim_a_run_once():
    MemberFactory.create_batch(20)
    run = services.export_run_create(definition=ExportDefinitionFactory(), actor=Actor.system())
    barrier = threading.Barrier(4)
    errors = []

    def execute():
        try:
            barrier.wait()
            services.export_run_execute(run_id=run.pk, actor=Actor.task("racer"))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=execute) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    run.refresh_from_db()
    assert run.status == ExportRun.Status.SUCCEEDED and run.rows == 20 and run.attempts == 1
    assert run.events.filter(new_status="running").count() == 1
