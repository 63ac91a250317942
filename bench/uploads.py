"""Coupon uploads of a million rows: the upload engine against django-import-export and a plain COPY.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/offerdesk .venv/bin/python bench/uploads.py \
        [--rows 1000000] [--import-export-sample 5000] [--chunk 20000]

Creates a throwaway database (test_<name>), loads the members with COPY and writes the three files (not timed),
then times, each in a fresh worker process so its peak memory (ru_maxrss) is its own:
1. a members upload (external_id, one row a member) into a generated-code series with the usual issual rules
   (max 3 a member, a series limit above the file);
2. a codes upload without members (the codes kept unissued) into an uploaded-code series;
3. a codes upload with members (each code issued to its member) into another uploaded-code series;
4. django-import-export importing the codes-with-members rows through a coupon resource (member by external id,
   the way the admin's import screens work), on `--import-export-sample` rows, extrapolated to `--rows`; it runs
   first, on an empty coupon table (its best case: each row's lookup by code scans the table);
5. a plain text COPY of the same coupon rows (code, member, status, dates) straight into the coupon table: the
   ceiling of writing them, with no reading, checking or rules.
Each figure is rows per second; the ratios compare each upload with 4 and 5 in the same run. DEBUG is off, as in
production (development's DEBUG keeps a log of every query). Besides the worker's CPU, the CPU of every database
backend the worker used (its own connection and the one preparing chunks ahead) is read from /proc: the figures
the machine's load moves least. BENCH_READ_AHEAD=0 prepares each chunk in the upload's own loop, for comparison.
"""

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")

import django

django.setup()

from django.conf import settings  # noqa: E402

settings.DEBUG = False  # as in production: no query log kept in memory

from django.core.files import File  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

COLUMNS = (
    "series_id, code, is_common, member_id, status, issued_at, expires_at, redeemable_from, is_reversed, "
    "last_status_change_on, created_at"
)


def load_members(count: int) -> None:
    now = timezone.now().isoformat()
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            "COPY members_member (external_id, email, mobile, user_id, first_name, last_name, registered_at, "
            "status, transaction_count, points_balance) FROM STDIN"
        ) as copy:
            for start in range(0, count, 50_000):
                copy.write(
                    "".join(
                        f"B{n:08d}\tb{n}@example.com\t\tu{n}\tKim\tLee\t{now}\tactive\t0\t0\n"
                        for n in range(start, min(count, start + 50_000))
                    )
                )
        cursor.execute("ANALYZE")
        cursor.execute("CHECKPOINT")


def write_files(directory: Path, count: int) -> dict[str, Path]:
    paths = {"members": directory / "members.csv", "codes": directory / "codes.csv",
             "codes_members": directory / "codes_members.csv"}  # fmt: skip
    with open(paths["members"], "w") as members, open(paths["codes"], "w") as codes:
        members.write("external_id\n")
        codes.write("code\n")
        for n in range(count):
            members.write(f"B{n:08d}\n")
            codes.write(f"KEEP-{n:08d}\n")
    with open(paths["codes_members"], "w") as both:
        both.write("code,external_id\n")
        for n in range(count):
            both.write(f"MOVE-{n:08d},B{n:08d}\n")
    return paths


PHASES = {
    "coupons.issuance.uploads": ["_survey", "_chunk_commit", "upload_chunk_prepare", "upload_chunk_apply",
                                 "upload_events_pending_write", "_write_report"],
    "coupons.issuance.upload_chunks": ["_resolve", "_standings", "_judge", "_holders", "_seen_before",
                                       "_copy_codes", "issued_coupons_write", "_issued_events_write",
                                       "series_note_issued", "_claim_uploaded_codes"],
}  # fmt: skip


def time_phases() -> dict:
    """Wrap the engine's steps to add up their seconds (BENCH_PHASES=1): where a chunk's time goes."""
    import importlib

    totals = {}
    for module_name, names in PHASES.items():
        module = importlib.import_module(module_name)
        for name in names:
            setattr(module, name, _timed(getattr(module, name), name, totals))
    return totals


def _timed(step, name, totals):
    """Adds up each step's wall seconds and the CPU seconds of the thread that ran it (the figure the machine's
    load moves least)."""

    def timed(*args, **kwargs):
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return step(*args, **kwargs)
        finally:
            seconds, spent = totals.get(name, (0.0, 0.0))
            totals[name] = (seconds + time.perf_counter() - started, spent + time.thread_time() - cpu)

    return timed


def time_statements(totals: dict, plans: list):
    """A connection wrapper adding up each statement's seconds by its opening words (BENCH_PHASES=1); with
    BENCH_EXPLAIN=1 it also keeps the first EXPLAIN ANALYZE of each heavy statement, run in a savepoint
    that is rolled back (so the upload's own run of the statement is the one that counts)."""

    from django.db import transaction

    explain = bool(os.environ.get("BENCH_EXPLAIN"))

    class RolledBack(Exception):
        pass

    def timed(execute, sql, params, many, context):
        name = "sql " + re.sub(r"\s+", " ", sql)[:90]
        if explain and name not in totals and not many and re.match(r"\s*(SELECT|INSERT INTO \S+ \(.*\) SELECT)", sql):
            try:
                with transaction.atomic():
                    context["cursor"].cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                    plans.append((name, [line for (line,) in context["cursor"].cursor.fetchall()]))
                    raise RolledBack
            except RolledBack:
                pass
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seconds, count = totals.get(name, (0.0, 0))
            totals[name] = (seconds + time.perf_counter() - started, count + 1)

    return connection.execute_wrapper(timed)


def backend_cpu_seconds() -> dict:
    """CPU seconds of each database backend this process uses (the upload's connection and any reading ahead on
    another), read from /proc just before each connection closes and at the end: {"total": …}."""
    from django.db import connections
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.backends.signals import connection_created

    ticks = os.sysconf("SC_CLK_TCK")
    seen, spent = {}, {"total": 0.0}

    def cpu(pid: int) -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    def opened(sender, connection, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        seen[id(connection)] = (pid, cpu(pid))

    def settle(connection) -> None:
        pid, start = seen.pop(id(connection), (None, 0.0))
        if pid is not None:
            spent["total"] += cpu(pid) - start

    close = BaseDatabaseWrapper.close

    def closing(self):
        settle(self)
        return close(self)

    BaseDatabaseWrapper.close = closing
    connection_created.connect(opened, weak=False)
    spent["settle"] = lambda: settle(connections["default"])
    return spent


def child(upload_id: int) -> None:
    """Run one upload in this (fresh) process; print its seconds and this process's peak memory."""
    from bench.pos_inprocess import tasks_to_memory_broker
    from coupons.issuance import uploads
    from coupons.issuance.uploads import upload_process

    if os.environ.get("BENCH_READ_AHEAD") == "0":  # the chunks prepared in the upload's own loop, for comparison
        uploads._may_read_ahead = lambda: False
    connection.close()
    backends = backend_cpu_seconds()

    # As on a worker host: the upload's wake-ups of the webhook dispatcher go to the broker, and the dispatcher
    # runs on the webhooks queue's workers; with no broker Celery would run it inside the upload.
    tasks_to_memory_broker()
    timing = bool(os.environ.get("BENCH_PHASES"))
    phases, statements, plans = time_phases() if timing else {}, {}, []
    wrapper = time_statements(statements, plans)  # kept: the wrapper leaves the connection when collected
    if timing:
        wrapper.__enter__()

    usage = resource.getrusage(resource.RUSAGE_SELF)
    before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profile = cProfile.Profile()
        upload = profile.runcall(upload_process, upload_id=upload_id)
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    else:
        upload = upload_process(upload_id=upload_id)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu_before
    backends["settle"]()
    if phases:
        print("  " + ", ".join(f"{name} {seconds:.2f} s (CPU {cpu:.2f})" for name, (seconds, cpu) in phases.items()),
              file=sys.stderr)  # fmt: skip
        for name, (spent, count) in sorted(statements.items(), key=lambda item: -item[1][0])[:12]:
            print(f"    {spent:6.2f} s {count:5d}x {name}", file=sys.stderr)
        for name, plan in plans:
            if any(
                "actual time" in line and float(re.search(r"actual time=[\d.]+\.\.([\d.]+)", line).group(1)) > 20
                for line in plan[:1]
            ):
                print(f"    EXPLAIN ANALYZE {name}", file=sys.stderr)
                print("\n".join(f"      {line[:150]}" for line in plan), file=sys.stderr)
    print(json.dumps({"seconds": seconds, "status": upload.status, "succeeded": upload.succeeded,
                      "failed": upload.failed, "peak_mb": peak / 1024, "idle_mb": before / 1024, "cpu_seconds": cpu,
                      "db_cpu_seconds": backends["total"],
                      "error": upload.error}))  # fmt: skip


def run_in_worker(upload_id: int, chunk: int) -> dict:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = dict(os.environ, UPLOAD_CHUNK_ROWS=str(chunk), DATABASE_URL=url)
    out = subprocess.run([sys.executable, __file__, "--child", str(upload_id)], env=env, capture_output=True,
                         text=True)  # fmt: skip
    if out.returncode:
        sys.exit(f"the upload's worker failed:\n{out.stderr[-3000:]}")
    phases = [line for line in out.stderr.splitlines() if line.startswith("  ")]
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "phases": "\n".join(phases)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--import-export-sample", type=int, default=5_000)
    parser.add_argument("--chunk", type=int, default=20_000)
    parser.add_argument(
        "--only",
        choices=["members", "codes", "codes_members"],
        action="append",
        help="run only these uploads (repeatable); the COPY baseline needs codes_members",
    )
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL=postgres://... : this benchmark measures the PostgreSQL path.")
    original = connection.settings_dict["NAME"]
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        with tempfile.TemporaryDirectory() as directory:
            run(args, Path(directory))
    finally:
        connection.close()
        connection.creation.destroy_test_db(original, verbosity=0)
    print(f"(database {test_name} dropped)")


def run(args, directory: Path) -> None:
    from coupons.models import Coupon, CouponSeries, Upload
    from offers.models import Offer

    count = args.rows
    started = time.perf_counter()
    load_members(count)
    paths = write_files(directory, count)
    sizes = ", ".join(f"{name} {path.stat().st_size / 1e6:.1f} MB" for name, path in paths.items())
    print(f"setup: {count:,} members loaded and three files written ({sizes}) in "
          f"{time.perf_counter() - started:.1f} s (not timed below)")  # fmt: skip
    offer = Offer.objects.create(external_id="BENCH", name="Bench", expire_at=timezone.now() + timezone.timedelta(90))

    def series(name, **options):
        fields = dict(offer=offer, name=name, expiry_mode="days_from_issue", expiry_days=30, max_per_member=3,
                      series_limit=count * 2)  # fmt: skip
        return CouponSeries.objects.create(**{**fields, **options})

    generated = series("Members", code_mode="unique", code_length=10, code_charset="alphanumeric")
    kept = series("Codes kept", code_mode="upload")
    moved = series("Codes with members", code_mode="upload")
    sample = min(args.import_export_sample, count)
    ie_rate = import_export_rate(sample, offer)
    print(f"{'django-import-export':30s} {sample:,} rows at {ie_rate:,.0f} rows/s: {count / ie_rate:,.0f} s "
          f"for {count:,} rows (extrapolated from the sample)")  # fmt: skip

    figures = {}
    for label, target, kind, path in (
        ("members upload", generated, "members", paths["members"]),
        ("codes upload, no members", kept, "codes", paths["codes"]),
        ("codes upload, with members", moved, "codes", paths["codes_members"]),
    ):
        if args.only and path.stem not in args.only:
            continue
        with open(path, "rb") as handle:
            upload = Upload.objects.create(series=target, kind=kind, file=File(handle, name=path.name), actor="bench",
                                           channel="cli")  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
        result = run_in_worker(upload.pk, args.chunk)
        assert result["status"] == "succeeded" and result["succeeded"] == count, result
        figures[label] = result
        print(f"{label:30s} {result['seconds']:7.2f} s  {count / result['seconds']:10,.0f} rows/s  "
              f"peak worker memory {result['peak_mb']:.0f} MB (idle process {result['idle_mb']:.0f} MB), "
              f"worker CPU {result['cpu_seconds']:.2f} s ({1e6 * result['cpu_seconds'] / count:.1f} µs a row), "
              f"database CPU {result['db_cpu_seconds']:.2f} s ({1e6 * result['db_cpu_seconds'] / count:.1f} µs a row)"
              )  # fmt: skip
        if result["phases"]:
            print(result["phases"])
    if args.only and "codes_members" not in args.only:
        return
    assert Coupon.objects.filter(series=moved, status="issued").count() == count

    copy_seconds = plain_copy(moved, count)
    print(f"{'plain COPY of the coupon rows':30s} {copy_seconds:7.2f} s  {count / copy_seconds:10,.0f} rows/s")
    print()
    for label, result in figures.items():
        rate = count / result["seconds"]
        print(f"{label:30s} {rate / ie_rate:6.1f}x django-import-export, {copy_seconds / result['seconds']:.2f}x "
              f"a plain COPY")  # fmt: skip


def import_export_rate(sample: int, offer) -> float:
    """django-import-export importing `sample` codes with members through a coupon resource, the admin's way."""
    import tablib
    from import_export import fields, resources, widgets

    from coupons.models import Coupon, CouponSeries
    from members.models import Member

    target = CouponSeries.objects.create(offer=offer, name="import-export", code_mode="upload",
                                         expiry_mode="days_from_issue", expiry_days=30)  # fmt: skip

    class CouponResource(resources.ModelResource):
        member = fields.Field(attribute="member", column_name="external_id",
                              widget=widgets.ForeignKeyWidget(Member, field="external_id"))  # fmt: skip

        class Meta:
            model = Coupon
            import_id_fields = ["code"]
            fields = ["code", "member"]
            clean_model_instances = True
            use_transactions = True

        def init_instance(self, row=None):
            instance = super().init_instance(row)
            instance.series = target
            instance.status = Coupon.Status.ISSUED
            instance.issued_at = instance.last_status_change_on = timezone.now()
            return instance

    data = tablib.Dataset(headers=["code", "external_id"])
    for n in range(sample):
        data.append([f"IE-{n:08d}", f"B{n:08d}"])
    started = time.perf_counter()
    result = CouponResource().import_data(data, dry_run=False, raise_errors=True)
    seconds = time.perf_counter() - started
    assert not result.has_errors() and Coupon.objects.filter(series=target).count() == sample
    return sample / seconds


def plain_copy(series, count: int) -> float:
    """The upload's own coupon rows, prepared in memory, copied straight into the coupon table as new codes."""
    from coupons.models import Coupon

    rows = list(Coupon.objects.filter(series=series).values_list("code", "member_id").iterator(chunk_size=100_000))
    now = timezone.now().isoformat()
    lines = [
        f"{series.pk}\tC{code}\tf\t{member}\tissued\t{now}\t{now}\t{now}\tf\t{now}\t{now}\n" for code, member in rows
    ]
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    started = time.perf_counter()
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY coupons_coupon ({COLUMNS}) FROM STDIN") as copy:
        for start in range(0, len(lines), 50_000):
            copy.write("".join(lines[start : start + 50_000]))
    seconds = time.perf_counter() - started
    assert len(lines) == count
    return seconds


if __name__ == "__main__":
    main()
