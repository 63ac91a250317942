"""Queues per kind of work on a real broker: an exports worker never takes a bulk job, a bulk worker does."""

import pytest
import redis
from django.conf import settings

from config.actors import Actor
from config.celery import app as celery_app
from coupons.issuance.bulk import bulk_issue_start
from coupons.models import BulkIssueJob, Coupon
from exports import services as exports
from exports.models import ExportRun
from members.models import Member
from tests.coupons.factories import CouponSeriesFactory
from tests.integration.conftest import WorkerProcess, celery_app_reconfigure, wait_for
from tests.members.factories import SegmentFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Emptied before and after: the tasks this test sends to queues nobody here consumes (webhook dispatch) included.
QUEUES = ("celery", *settings.CELERY_WORK_QUEUES)


@pytest.fixture
def routed_workers(transactional_db, tmp_path):
    """Tasks sent to the queues of their kind (the settings' routes), and workers each consuming one queue."""
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs CELERY_BROKER_URL=redis://...")
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete(*QUEUES)
    overrides = {"task_always_eager": False, "task_routes": settings.CELERY_TASK_ROUTES}
    saved = {name: celery_app.conf.get(name) for name in overrides}
    celery_app_reconfigure(overrides)
    workers = []

    def start(queue: str) -> WorkerProcess:
        worker = WorkerProcess(queue=queue, log_path=tmp_path / f"{queue}.log", visibility_timeout=60)
        workers.append(worker)
        return worker.start()

    yield start, broker
    for worker in workers:
        worker.stop()
    celery_app_reconfigure(saved)
    broker.delete(*QUEUES)


def test_queues_a_bulk_job_waits_for_a_bulk_worker_while_the_exports_worker_runs_exports(routed_workers):
    start, broker = routed_workers
    segment = SegmentFactory(code="queued")
    members = Member.objects.bulk_create(Member(external_id=f"Q{n:04d}") for n in range(300))
    Member.segments.through.objects.bulk_create(
        Member.segments.through(member_id=member.pk, segment_id=segment.pk) for member in members
    )
    exports_worker = start("exports")

    # An export and a bulk job are queued; only the export has a worker.
    definition = exports.export_definition_create(name="Everyone", dataset="members", columns=["external_id"],
                                                  actor=Actor.system())  # fmt: skip
    run = exports.export_run_start(definition=definition, actor=Actor.system())
    job = bulk_issue_start(series=CouponSeriesFactory(), source="segment", segment=segment, actor=Actor.system())

    wait_for(lambda: ExportRun.objects.get(pk=run.pk).status == "succeeded", timeout=60,
             message=f"the export on the exports worker; log:\n{exports_worker.output()[-2000:]}")  # fmt: skip
    # The export is done and the bulk job still waits on its own queue, untouched.
    assert broker.llen("bulk") == 1
    assert BulkIssueJob.objects.get(pk=job.pk).status == "queued"
    assert "bulk_issue_run_task[" not in exports_worker.output()  # never received (the banner lists every task)

    bulk_worker = start("bulk")
    wait_for(lambda: BulkIssueJob.objects.get(pk=job.pk).status == "succeeded", timeout=60,
             message=f"the bulk job on the bulk worker; log:\n{bulk_worker.output()[-2000:]}")  # fmt: skip
    assert Coupon.objects.filter(member__in=members).count() == 300
    assert broker.llen("bulk") == 0
