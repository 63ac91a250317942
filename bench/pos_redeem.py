"""POS throughput: validate and redeem distinct coupon codes over HTTP, under granian, on PostgreSQL.

    .venv/bin/python bench/pos_redeem.py [--codes 30000] [--seconds 10] [--connections 16] [--workers 2]
        [--threads 4] [--server granian|gunicorn] [--no-key] [--pg postgres://postgres@127.0.0.1:5432]

Needs wrk (Debian: `apt-get install wrk`), the load generator: a C event loop that costs the two cores far
less than Python client threads would. Creates a throwaway database, migrates it, loads one store, one POS
client, members and one issued coupon per member, then starts the app with `config.settings.production`
on loopback under granian, the server the README recommends (`--server gunicorn` for gunicorn's gthread
workers), and runs, each for `--seconds`:

1. bare: a bare DRF view (token auth, one conditional UPDATE; bench/pos_bare_wsgi.py) redeeming its own
   distinct codes: the ceiling of the stack on this machine at this moment;
2. validate: distinct codes validated;
3. redeem: distinct codes redeemed, each by exactly one request (bench/pos_wrk.lua hands each wrk thread
   its own stride of codes), each with its own Idempotency-Key as tills send them (`--no-key`: none);
4. replay: the same requests again with the same keys, for a quarter of the time (only with keys): every
   one answers the first 201 again, replayed, and redeems nothing (a re-run would be a 409);
5. contended: a few codes each raced by `--racers` Python threads at once (exactly one 201 per code;
   each racer is another till, with its own key).

Prints requests/s and p50/p90/p99 latency per phase (wrk's), the ratios to the bare view, and the double
redemptions found afterwards in SQL (must be 0). The database is dropped at the end.
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--codes", type=int, default=30_000, help="distinct codes per phase")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--racers", type=int, default=16, help="threads racing for each contended code")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (granian: blocking threads)")
    parser.add_argument("--server", choices=["granian", "gunicorn"], default="granian")
    parser.add_argument("--contended-codes", type=int, default=50)
    parser.add_argument("--no-key", action="store_true", help="redeem without Idempotency-Keys")
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", help="the throwaway database's name (default: one named after this process)")
    return parser.parse_args()


def admin_sql(pg_url, sql):
    import psycopg

    with psycopg.connect(f"{pg_url}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def till_setup(db_url):
    """Migrate the database and make the till's store S-BENCH, its POS client and a coupon series;
    returns (store, token, series)."""
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from config.actors import Actor
    from config.api.services import api_client_create
    from coupons.models import CouponSeries
    from members.models import OrgEntity
    from offers.models import Offer

    call_command("migrate", verbosity=0)
    store = OrgEntity.objects.create(code="S-BENCH", type="store", name="Bench store", currency="USD")
    _, token = api_client_create(name="bench-pos", role="pos", store_codes=[store.code], actor=Actor.system("bench"))
    offer = Offer.objects.create(
        external_id="BENCH", name="Bench", expire_at=timezone.now() + timezone.timedelta(days=30)
    )
    series = CouponSeries.objects.create(
        offer=offer, name="Bench", code_mode="upload", discount_type="percentage", discount_value=10,
        min_bill=1, max_bill=10_000,
    )  # fmt: skip
    return store, token, series


def setup_database(db_url, codes, contended):
    store, token, series = till_setup(db_url)
    import django
    from django.utils import timezone

    from coupons.models import Coupon
    from members.models import Member

    total = 2 * codes + contended
    Member.objects.bulk_create(Member(external_id=f"B{n:07d}", email=f"b{n}@example.com") for n in range(total))
    members = dict(Member.objects.filter(external_id__startswith="B").values_list("external_id", "pk"))
    now = timezone.now()
    Coupon.objects.bulk_create(
        Coupon(series=series, code=f"BENCH{n:08d}", member_id=members[f"B{n:07d}"], status="issued", issued_at=now,
               redeemable_from=now, last_status_change_on=now)
        for n in range(total)
    )  # fmt: skip
    with django.db.connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    bodies = [
        {"code": f"BENCH{n:08d}", "member": f"B{n:07d}", "store": store.code, "bill_amount": "42.00"}
        for n in range(total)
    ]
    # Codes 0 … codes-1 are validated and redeemed, codes … 2·codes-1 go to the bare view, the rest are raced.
    return token, bodies[:codes], bodies[2 * codes :]


def server_command(server, port, workers, threads):
    app = "bench.pos_bare_wsgi:application"
    if server == "granian":
        return [
            os.environ.get("BENCH_GRANIAN", str(ROOT / ".venv/bin/granian")), "--interface", "wsgi",
            "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--blocking-threads", str(threads), "--log-level", "warning", app,
        ]  # fmt: skip
    return [
        str(ROOT / ".venv/bin/gunicorn"), app, "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
        "--keep-alive", "30", "--log-level", "warning",
    ]  # fmt: skip


def start_server(db_url, port, workers, threads, server="granian"):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": f"{db_url}?conn_max_age=600",
        "SECRET_KEY": "bench-only-secret-key-not-for-production-use-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback: no TLS proxy in front of the bench
        "LOG_LEVEL": "ERROR",
        "API_CLIENT_CACHE_SECONDS": os.environ.get("API_CLIENT_CACHE_SECONDS", "30"),
        # A broker, as production has: the outbox wakes its dispatcher with at most one message a second per
        # process. Without one, tasks run eagerly and every redemption would run the dispatcher in the request.
        "CELERY_BROKER_URL": os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/8"),
    }
    command = server_command(server, port, workers, threads)
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/coupon-series")
            conn.getresponse().read()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"{command[0]} did not start")


def run_clients(port, token, jobs, clients, send):
    """`clients` threads, each on its own keep-alive connection, take jobs from a shared list in turn and call
    `send(conn, headers, index, job)`, which makes the job's requests and returns a status to count; returns
    (seconds, latencies, status counts), the clock started once every client is connected."""
    lock = threading.Lock()
    queue = list(reversed(jobs))
    latencies, statuses = [], {}
    barrier = threading.Barrier(clients + 1)

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json", "Connection": "keep-alive"}
        mine, seen = [], {}
        barrier.wait()
        while True:
            with lock:
                if not queue:
                    break
                index, job = len(queue), queue.pop()
            started = time.perf_counter()
            status = send(conn, headers, index, job)
            mine.append(time.perf_counter() - started)
            seen[status] = seen.get(status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for status, count in seen.items():
                statuses[status] = statuses.get(status, 0) + count

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, statuses


def run_phase(port, token, path, jobs, clients, keys=False):
    """Each client thread posts jobs from a shared list to `path`; returns (seconds, latencies, status counts)."""

    def send(conn, headers, index, body):
        sent = {**headers, "Idempotency-Key": f"racer-{index}"} if keys else headers
        conn.request("POST", path, body=json.dumps(body), headers=sent)
        response = conn.getresponse()
        response.read()
        return response.status

    return run_clients(port, token, jobs, clients, send)


def _cpu_seconds(pid):
    """User + system CPU seconds of one process so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _processes():
    """(pid, parent pid, command line) of every process this user can see."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        yield int(entry), ppid, command


class CpuMeter:
    """CPU time of the app (the server's processes) and of the database (this database's backends)."""

    def __init__(self, server_pid, database):
        self.server_pid, self.database = server_pid, database

    def sample(self):
        app = db = 0.0
        for pid, ppid, command in _processes():
            if pid == self.server_pid or ppid == self.server_pid:
                app += _cpu_seconds(pid)
            elif command.startswith("postgres:") and f" {self.database} " in command:
                db += _cpu_seconds(pid)
        return app, db


def wrk_run(script, url, script_args, *, threads, connections, seconds, meter=None):
    """Run wrk with bench/`script` on `url` for `seconds`: the figures of its RESULT line, with the app's and the
    database's CPU per request (`cpu_ms`) when a `meter` is given."""
    command = [
        "wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
        "-s", str(ROOT / "bench" / script), url, "--", *(str(arg) for arg in script_args),
    ]  # fmt: skip
    before = meter.sample() if meter else None
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result = json.loads(output.split("RESULT ", 1)[1])
    if meter:
        after = meter.sample()
        result["cpu_ms"] = [1000 * (b - a) / max(result["requests"], 1) for a, b in zip(before, after, strict=True)]
    return result


def wrk_phase(args, token, path, first, meter=None, keys=False, repeats=False):
    """Run wrk on `path` for args.seconds with codes first … first + args.codes - 1; returns its figures.
    `repeats`: requests past the last code send the last code again (replays), instead of failing the run."""
    result = wrk_run(
        "pos_wrk.lua", f"http://127.0.0.1:{args.port}{path}",
        [path, token, "S-BENCH", first, args.codes, args.wrk_threads, "key" if keys else ""],
        threads=args.wrk_threads, connections=args.connections, seconds=args.seconds, meter=meter,
    )  # fmt: skip
    if result["requests"] > args.codes and not repeats:
        raise SystemExit(f"{path}: {result['requests']} requests for {args.codes} codes; raise --codes")
    return result


def wrk_report(name, result):
    rate = result["requests"] / result["seconds"]
    print(f"{name:<10} {result['requests']:>6} requests in {result['seconds']:6.2f} s = {rate:7.0f}/s   "
          f"p50 {result['p50_ms']:6.1f} ms   p90 {result['p90_ms']:6.1f} ms   p99 {result['p99_ms']:6.1f} ms   "
          f"statuses {result['statuses']}   socket errors {result['errors']}")  # fmt: skip
    if "cpu_ms" in result:
        print(f"{'':<10} CPU per request: app {result['cpu_ms'][0]:.2f} ms, database {result['cpu_ms'][1]:.2f} ms")
    return rate


def report(name, seconds, latencies, statuses):
    quantiles = statistics.quantiles(latencies, n=100)
    rate = len(latencies) / seconds
    print(f"{name:<10} {len(latencies):>6} requests in {seconds:6.2f} s = {rate:7.0f}/s   "
          f"p50 {quantiles[49] * 1000:6.1f} ms   p99 {quantiles[98] * 1000:6.1f} ms   statuses {statuses}")  # fmt: skip
    return rate


def teardown(server, pg, name):
    """Stop the server (when it started), close this process's connections and drop the bench's database."""
    if server is not None:
        server.terminate()
        server.wait(timeout=20)
    from django.db import connections

    connections.close_all()
    admin_sql(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def double_redemptions(db_url):
    import psycopg

    with psycopg.connect(db_url) as conn:
        doubles = conn.execute(
            "SELECT count(*) FROM (SELECT coupon_id FROM coupons_couponredemption WHERE NOT is_reversed "
            "GROUP BY coupon_id HAVING count(*) > 1) d"
        ).fetchone()[0]
        redeemed = conn.execute("SELECT count(*) FROM coupons_coupon WHERE status = 'redeemed'").fetchone()[0]
        rows = conn.execute("SELECT count(*) FROM coupons_couponredemption").fetchone()[0]
        counter = conn.execute("SELECT redeemed_count FROM coupons_couponseries").fetchone()[0]
    return doubles, redeemed, rows, counter


def main():
    args = parse_args()
    pg = args.pg.rstrip("/")
    name = args.db or f"od_bench_pos_{os.getpid()}"
    db_url = f"{pg}/{name}"
    admin_sql(pg, f'CREATE DATABASE "{name}"')
    server = None
    try:
        token, bodies, contended = setup_database(db_url, args.codes, args.contended_codes)
        from django.db import connections

        connections.close_all()
        server = start_server(db_url, args.port, args.workers, args.threads, args.server)
        load = os.getloadavg()[0]
        print(f"{args.server} {args.workers} workers x {args.threads} threads; wrk {args.wrk_threads} threads, "
              f"{args.connections} connections, {args.seconds} s a phase; load average before {load:.2f}, "
              f"{os.cpu_count()} CPUs")  # fmt: skip
        run_phase(args.port, token, "/api/v1/coupons/validate", bodies[:200], args.racers)  # warm up
        meter = CpuMeter(server.pid, name)
        bare = wrk_phase(args, token, "/api/v1/bench/bare-redeem", first=args.codes, meter=meter)
        bare_rate = wrk_report("bare", bare)
        validate_rate = wrk_report("validate", wrk_phase(args, token, "/api/v1/coupons/validate", first=0, meter=meter))
        keys = not args.no_key
        redeemed = wrk_phase(args, token, "/api/v1/coupons/redeem", first=0, meter=meter, keys=keys)
        redeem_rate = wrk_report("redeem" + (" key" if keys else ""), redeemed)
        replayed = None
        if keys:
            # A quarter of the time over codes every wrk thread has surely redeemed (their strides end unevenly).
            # Past the last of them wrk sends the last again (`pos_wrk.lua` sends its limit), still a replay.
            covered = redeemed["requests"] - 4 * args.connections - 1
            replay_args = argparse.Namespace(**{**vars(args), "codes": covered, "seconds": max(1, args.seconds // 4)})
            replayed = wrk_phase(replay_args, token, "/api/v1/coupons/redeem", first=0, meter=meter, keys=True,
                                 repeats=True)  # fmt: skip
            wrk_report("replay", replayed)
        raced = [body for body in contended for _ in range(args.racers)]
        seconds, latencies, statuses = run_phase(args.port, token, "/api/v1/coupons/redeem", raced, args.racers, keys)
        report("contended", seconds, latencies, statuses)
        print(f"throughput ratios: redeem/bare {redeem_rate / bare_rate:.2f}, validate/bare "
              f"{validate_rate / bare_rate:.2f}, redeem/validate {redeem_rate / validate_rate:.2f}")  # fmt: skip
        doubles, redeemed_rows, rows, counter = double_redemptions(db_url)
        created = redeemed["statuses"].get("201", 0) + statuses.get(201, 0)
        print(f"coupons redeemed {redeemed_rows} (bare view included), 201s from the redeem API {created}, "
              f"redemption rows {rows}, series counter {counter}, double redemptions {doubles}")  # fmt: skip
        # wrk stops on the clock: a request in flight then is finished by the server but not counted by wrk.
        if (
            doubles
            or counter != rows
            or not created <= rows <= created + args.connections
            or statuses.get(201) != args.contended_codes
            or redeemed["statuses"].get("201", 0) != redeemed["requests"]
            or (replayed is not None and replayed["statuses"].get("201", 0) != replayed["requests"])
        ):
            print("FAILED: a code was redeemed more than once or the counts disagree")
            return 1
        return 0
    finally:
        teardown(server, pg, name)


if __name__ == "__main__":
    sys.exit(main())
