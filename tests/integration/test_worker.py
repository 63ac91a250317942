import pytest
from django.db import transaction

from config.actors import Actor
from config.tasks import enqueue_on_commit
from members.models import PointsEntry
from members.tasks import points_adjust_task
from tests.integration.conftest import wait_for
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_runs_a_task_queued_on_commit(celery_worker):
    member = MemberFactory(external_id="M-W1")

    with transaction.atomic():
        enqueue_on_commit(points_adjust_task, member_external_id="M-W1", points=15, reason="worker check",
                          actor_name=Actor.system().name)  # fmt: skip
        assert not PointsEntry.objects.filter(member=member).exists()

    wait_for(lambda: PointsEntry.objects.filter(member=member).exists(), message="the worker's ledger entry")
    member.refresh_from_db()
    assert member.points_balance == 15
    assert "succeeded" in celery_worker.output()
