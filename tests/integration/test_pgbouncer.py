"""The till, a bulk issuance job and an export run through a real PgBouncer in transaction pool mode.

PgBouncer (Debian's) is started by the test on a loopback port in front of the test database, with fewer server
connections than the clients the bulk job opens, and Django's connection settings are pointed at it as
DB_TRANSACTION_POOLER sets them (nothing prepared, no named cursors).
"""

import pytest
from django.db import connection, connections
from django.test import override_settings

from config.actors import Actor
from coupons.issuance.bulk import bulk_issue_start
from coupons.models import BulkIssueJob, Coupon, CouponRedemption
from exports import services as exports
from members.models import Member
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.integration.servers import PgBouncer, binaries_missing
from tests.members.factories import SegmentFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SERVER_CONNECTIONS = 2


@pytest.fixture
def pgbouncer(transactional_db, monkeypatch):
    if reason := binaries_missing():
        pytest.skip(reason)
    direct = connection.settings_dict
    bouncer = PgBouncer(server_host=direct["HOST"] or "127.0.0.1", server_port=int(direct["PORT"] or 5432),
                        pool_size=SERVER_CONNECTIONS).start()  # fmt: skip
    pooled = {"HOST": "127.0.0.1", "PORT": str(bouncer.port), "DISABLE_SERVER_SIDE_CURSORS": True,
              "OPTIONS": {**direct["OPTIONS"], "prepare_threshold": None}}  # fmt: skip
    # The connection of this thread and the settings new threads' connections are made from.
    for settings_dict in {id(d): d for d in (direct, connections.settings["default"])}.values():
        for key, value in pooled.items():
            monkeypatch.setitem(settings_dict, key, value)
    connection.close()
    yield bouncer
    connection.close()  # the next connection (the test's flush) goes to the server directly again
    bouncer.stop()


def pooled_transactions(bouncer: PgBouncer) -> int:
    database = connection.settings_dict["NAME"]
    return sum(int(row["total_xact_count"]) for row in bouncer.show("STATS") if row["database"] == database)


def test_pgbouncer_the_till_validates_and_redeems_with_an_idempotency_key(pgbouncer, pos, store):
    assert connection.cursor().connection.info.port == pgbouncer.port  # the pooler, not the server
    coupon = CouponFactory()
    body = {"code": coupon.code, "member": coupon.member.external_id, "store": store.code, "bill_amount": "50.00"}

    validated = pos.post("/api/v1/coupons/validate", body, format="json")
    assert validated.status_code == 200 and validated.json()["valid"] is True, validated.content
    # Enough redeems on one client connection for psycopg to prepare statements, were preparing on.
    replies = [pos.post("/api/v1/coupons/redeem", body, format="json", HTTP_IDEMPOTENCY_KEY="till-7-1")
               for _ in range(8)]  # fmt: skip

    assert {reply.status_code for reply in replies} == {201}
    assert all(reply.json() == replies[0].json() for reply in replies)  # the first answer, replayed
    assert CouponRedemption.objects.filter(coupon=coupon).count() == 1
    assert Coupon.objects.get(pk=coupon.pk).status == "redeemed"
    assert [row["pool_mode"] for row in pgbouncer.show("POOLS") if row["database"] == connection.settings_dict["NAME"]
            ] == ["transaction"]  # fmt: skip
    assert pooled_transactions(pgbouncer) > 10


@override_settings(BULK_ISSUE_WORKERS=3)
def test_pgbouncer_a_bulk_issuance_job_runs_its_chunks_side_by_side(pgbouncer):
    segment = SegmentFactory(code="pooled")
    members = Member.objects.bulk_create(Member(external_id=f"POOL{n:05d}") for n in range(3_000))
    Member.segments.through.objects.bulk_create(
        Member.segments.through(member_id=member.pk, segment_id=segment.pk) for member in members
    )
    series = CouponSeriesFactory()

    job = bulk_issue_start(series=series, source="segment", segment=segment, actor=Actor.system(), chunk_size=500)

    job.refresh_from_db()  # the task ran in this process on commit, three connections sharing two servers
    assert (job.status, job.chunks_in_parallel, job.issued, job.chunks_done) == ("succeeded", True, 3_000, 6)
    coupons = Coupon.objects.filter(series=series)
    assert coupons.values("member").distinct().count() == coupons.values("code").distinct().count() == 3_000
    series.refresh_from_db()
    assert (series.issued_count, series.next_code_index) == (3_000, 3_000)
    assert BulkIssueJob.objects.filter(pk=job.pk, status="succeeded").exists()


def test_pgbouncer_an_export_run_holds_its_lock_across_pooled_transactions(pgbouncer):
    Member.objects.bulk_create(Member(external_id=f"EXP{n:04d}") for n in range(120))
    definition = exports.export_definition_create(name="Everyone", dataset="members", columns=["external_id"],
                                                  actor=Actor.system())  # fmt: skip
    run = exports.export_run_create(definition=definition, actor=Actor.system())

    # The lock's transaction keeps one of the two server connections for as long as it is held.
    with exports._run_lock(run.pk) as first:
        # Other statements of this client run meanwhile, on whichever server connection the pooler hands out.
        assert Member.objects.count() == 120
        alive = exports.export_run_has_live_executor(run.pk)
        with exports._run_lock(run.pk) as second:
            pass
    assert (first, alive, second) == (True, True, False)
    assert exports.export_run_has_live_executor(run.pk) is False  # released with its transaction

    finished = exports.export_run_execute(run_id=run.pk, actor=Actor.system())
    assert (finished.status, finished.rows) == ("succeeded", 120), finished.error
