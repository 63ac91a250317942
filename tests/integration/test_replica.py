"""Exports read a real streaming standby; writes go to the primary only.

The test makes its own primary (initdb, on a port of its own: the CI server refuses replication connections) and
a hot standby of it (pg_basebackup -R, a second `postgres` process), migrates the primary, and runs the product
against both in a child process (DATABASE_URL = primary, REPLICA_DATABASE_URL = standby). With WAL replay paused
on the standby, rows written to the primary afterwards are missing from the standby only: an export that leaves
them out read the standby, and an export run recorded as succeeded was written to the primary (the standby
refuses every write, and does not even have the run's row until replay resumes).
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.servers import PostgresCluster, binaries_missing

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "offerdesk"

# Run in the child: members added on the primary, an export run executed in-process, and what each side holds.
EXPORT_SCRIPT = """
import json, django
django.setup()
from django.db import connections
from config.actors import Actor
from config.db_router import reads_may_lag
from exports import services
from exports.models import ExportDefinition, ExportRun
from members.models import Member

actor = Actor.cli("replica-test")
first = Member.objects.count()
Member.objects.bulk_create(Member(external_id=f"LATE{n:03d}") for n in range(first, first + ADDED))
with reads_may_lag():
    Member.objects.create(external_id=f"LATE-IN-BLOCK-{first}")  # a write in a lagging-reads block: the primary
definition, _ = ExportDefinition.objects.get_or_create(
    name="Everyone", dataset="members", defaults={"columns": ["external_id"], "created_by": "test"}
)
run = services.export_run_execute(run_id=services.export_run_create(definition=definition, actor=actor).pk,
                                  actor=actor)
refused = None
if "replica" in connections:
    try:
        with connections["replica"].cursor() as cursor:
            cursor.execute("INSERT INTO members_member (external_id) VALUES ('NEVER')")
    except Exception as exc:
        refused = type(exc).__name__ + ": " + str(exc).splitlines()[0]
print(json.dumps({
    "run": run.pk, "status": run.status, "error": run.error, "rows": run.rows,
    "on_primary": Member.objects.count(), "runs_on_primary": ExportRun.objects.filter(pk=run.pk).count(),
    "replica_write": refused,
}))
"""


@pytest.fixture(scope="module")
def primary_and_standby():
    if reason := binaries_missing():
        pytest.skip(reason)
    primary = PostgresCluster.primary()
    standby = None
    try:
        primary.psql(f"CREATE DATABASE {DATABASE}")
        standby = PostgresCluster.standby_of(primary)
        migrated = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT,
                                  env=child_environment(primary), capture_output=True, text=True)  # fmt: skip
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        yield primary, standby
    finally:
        if standby:
            standby.stop()
        primary.stop()


def child_environment(primary, standby=None, media_root: Path | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "REPLICA_DATABASE_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.development", DATABASE_URL=primary.url(DATABASE),
               LOG_LEVEL="WARNING")  # fmt: skip
    if standby:
        env["REPLICA_DATABASE_URL"] = standby.url(DATABASE)
    if media_root:
        env["MEDIA_ROOT"] = str(media_root)
    return env


def run_export(env: dict, *, added: int) -> dict:
    done = subprocess.run([sys.executable, "-c", EXPORT_SCRIPT.replace("ADDED", str(added))], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def on_standby(standby, sql: str) -> str:
    return standby.psql(sql, database=DATABASE)


def wait_for_standby(standby, sql: str, expected: str, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while (value := on_standby(standby, sql)) != expected:
        assert time.monotonic() < deadline, f"the standby answers {value!r} to {sql!r}, not {expected!r}"
        time.sleep(0.2)


def test_replica_an_export_reads_the_standby_and_its_run_is_written_to_the_primary(primary_and_standby, tmp_path):
    primary, standby = primary_and_standby
    with_replica = child_environment(primary, standby, media_root=tmp_path)
    assert on_standby(standby, "SELECT pg_is_in_recovery()") == "t"

    # Given 30 members on both sides (the first run adds them and exports them once replayed) ...
    run_export(with_replica, added=30)
    wait_for_standby(standby, "SELECT count(*) FROM members_member", "31")
    # ... and replay paused on the standby, so what the primary writes next stays off it.
    on_standby(standby, "SELECT pg_wal_replay_pause()")
    try:
        # When 20 more members are added and an export runs with the replica configured
        outcome = run_export(with_replica, added=20)

        # Then the export holds the standby's 31 members, not the primary's 52
        assert outcome["status"] == "succeeded", outcome["error"]
        assert outcome["on_primary"] == 52
        assert outcome["rows"] == 31
        # and the run, its progress and its outcome are on the primary: the standby has not seen the run at all
        assert outcome["runs_on_primary"] == 1
        assert on_standby(standby, f"SELECT count(*) FROM exports_exportrun WHERE id = {outcome['run']}") == "0"
        # and the standby refuses writes, so nothing the export did could have gone there.
        assert "read-only transaction" in outcome["replica_write"]
    finally:
        on_standby(standby, "SELECT pg_wal_replay_resume()")

    # Once replay resumes, the run and the new members reach the standby by streaming from the primary.
    wait_for_standby(standby, f"SELECT count(*) FROM exports_exportrun WHERE id = {outcome['run']}", "1")
    wait_for_standby(standby, "SELECT count(*) FROM members_member", "52")


def test_replica_without_one_the_export_reads_the_primary(primary_and_standby, tmp_path):
    primary, standby = primary_and_standby
    on_standby(standby, "SELECT pg_wal_replay_pause()")
    try:
        before = int(primary.psql("SELECT count(*) FROM members_member", database=DATABASE))
        outcome = run_export(child_environment(primary, media_root=tmp_path), added=5)
    finally:
        on_standby(standby, "SELECT pg_wal_replay_resume()")
    assert outcome["status"] == "succeeded", outcome["error"]
    assert outcome["rows"] == outcome["on_primary"] == before + 6
    assert outcome["replica_write"] is None  # no replica alias at all


# Run in the child: coupons written on the primary, then the admin's coupon list rendered for a superuser.
CHANGELIST_SCRIPT = """
import json, django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from coupons.models import Coupon, CouponSeries
from tests.coupons.factories import CouponFactory, CouponSeriesFactory

series = CouponSeries.objects.filter(name="Lagging list").first() or CouponSeriesFactory(name="Lagging list")
for n in range(ADDED):
    CouponFactory(series=series, code=f"PREFIX{n:03d}")
user = get_user_model().objects.filter(username="lag-admin").first()
if user is None:
    user = get_user_model().objects.create_superuser("lag-admin", "lag@example.com", "unused-Pa55word!")
client = Client()
client.force_login(user)
page = client.get("/admin/coupons/coupon/?series__id__exact=%d" % series.pk).content.decode()
codes = sorted(Coupon.objects.filter(series=series).values_list("code", flat=True))
print(json.dumps({"on_primary": codes, "listed": [code for code in codes if code in page]}))
"""


def render_coupon_list(env: dict, *, prefix: str, added: int) -> dict:
    script = CHANGELIST_SCRIPT.replace("PREFIX", prefix).replace("ADDED", str(added))
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_replica_the_admin_coupon_list_reads_the_standby(primary_and_standby, tmp_path):
    primary, standby = primary_and_standby
    with_replica = child_environment(primary, standby, media_root=tmp_path)
    # Given three coupons replayed on the standby ...
    first = render_coupon_list(with_replica, prefix="LAGA", added=3)
    wait_for_standby(standby, "SELECT count(*) FROM coupons_coupon WHERE code LIKE 'LAGA%'", "3")
    assert first["on_primary"] == ["LAGA000", "LAGA001", "LAGA002"]
    on_standby(standby, "SELECT pg_wal_replay_pause()")
    try:
        # When two more are written on the primary and the list is rendered with the replica configured
        outcome = render_coupon_list(with_replica, prefix="LAGB", added=2)
    finally:
        on_standby(standby, "SELECT pg_wal_replay_resume()")
    # Then the list shows the standby's three coupons, not the primary's five: its rows came from the standby
    assert outcome["on_primary"] == ["LAGA000", "LAGA001", "LAGA002", "LAGB000", "LAGB001"]
    assert outcome["listed"] == ["LAGA000", "LAGA001", "LAGA002"]
    # and without a replica the same list reads the primary and shows all five.
    on_primary = render_coupon_list(child_environment(primary, media_root=tmp_path), prefix="LAGC", added=0)
    assert on_primary["listed"] == on_primary["on_primary"] == outcome["on_primary"]
