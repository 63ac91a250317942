"""Webhooks: what the outbox adds to bulk issuance, and how fast deliveries reach a receiver.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/offerdesk .venv/bin/python bench/webhooks.py \
        [--members 1000000] [--chunk 50000] [--rounds 2] [--deliveries 20000]

Creates a throwaway database (test_<name>), loads the members with COPY (not timed), then times:
1. the bulk issuance job for every member of one segment, without events (the outbox call switched off in this
   process only), with them as the product writes them (one thin coupon.issued event per coupon, each chunk's
   INSERT … SELECT), and with full payloads written with the change (as before thin events, for reference),
   in turn, `--rounds` times each, into an emptied coupon table and a fresh series each time;
2. delivery: `--deliveries` of the last run's thin events fanned out to one endpoint, their payloads built at
   send, and sent to a receiver on loopback (a threaded http.server in a child process, answering 200), through
   the dispatcher and the sender, against the bare ceiling of the same HTTP client POSTing the same signed bodies
   to the same receiver with no database.
Wake-ups go to an in-memory broker, as a message send costs in production.
"""

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")

import django

django.setup()

from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from config.actors import Actor  # noqa: E402
from config.celery import app as celery_app  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from coupons_bulk_issue import load_members  # noqa: E402


def serve(port_queue) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--deliveries", type=int, default=20_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL=postgres://... : this benchmark measures the PostgreSQL paths.")
    celery_app.conf.task_always_eager = False  # wake-ups are messages to the in-memory broker

    original = connection.settings_dict["NAME"]
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        bulk(args)
        delivery(args)
    finally:
        connection.close()
        connection.creation.destroy_test_db(original, verbosity=0)
    print(f"(database {test_name} dropped)")


def bulk(args) -> None:
    from coupons.issuance import bulk as bulk_module
    from coupons.models import BulkIssueJob, CouponSeries
    from members.models import Segment
    from offers.models import Offer
    from webhooks.models import Event

    count = args.members
    segment = Segment.objects.create(code="bench", name="Bench")
    t0 = time.perf_counter()
    load_members(count, segment.pk)
    print(f"setup: {count:,} members loaded in {time.perf_counter() - t0:.1f} s (not timed below)")
    offer = Offer.objects.create(
        external_id="BENCH", name="Bench", expire_at=timezone.now() + timezone.timedelta(days=90)
    )
    from webhooks.payloads import coupons_emit

    thin_events = bulk_module.coupons_emit_thin
    writers = {
        "none": lambda **kwargs: 0,
        "thin": thin_events,
        "full": lambda *, type, queryset, at: coupons_emit(type=type, queryset=queryset, at=at),
    }

    def run_job(n: int, mode: str) -> float:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE webhooks_deliveryattempt, webhooks_delivery, webhooks_event, "
                           "coupons_couponevent, coupons_coupon CASCADE")  # fmt: skip
            cursor.execute("CHECKPOINT")
        series = CouponSeries.objects.create(
            offer=offer, name=f"Bench {n}", code_mode="unique", code_length=10, code_charset="alphanumeric",
            expiry_mode="days_from_issue", expiry_days=30,
        )  # fmt: skip
        job = BulkIssueJob.objects.create(series=series, source="segment", segment=segment, chunk_size=args.chunk,
                                          actor="bench", channel="cli")  # fmt: skip
        bulk_module.coupons_emit_thin = writers[mode]
        started = time.perf_counter()
        job = bulk_module.bulk_issue_run(job_id=job.pk, actor=Actor.cli("bench"))
        seconds = time.perf_counter() - started
        bulk_module.coupons_emit_thin = thin_events
        assert job.issued == count, (job.issued, count)
        written = Event.objects.filter(type="coupon.issued").count()
        assert written == (0 if mode == "none" else count), written
        return seconds

    times = {"none": [], "full": [], "thin": []}  # thin last: its coupons and events stay for the delivery
    for n in range(args.rounds):
        for i, mode in enumerate(times):
            times[mode].append(run_job(3 * n + i, mode))
        base = times["none"][-1]
        print(f"round {n + 1}: job without events {base:6.2f} s, with {count:,} thin events "
              f"{times['thin'][-1]:6.2f} s (+{(times['thin'][-1] / base - 1) * 100:.1f}%), with full payloads "
              f"{times['full'][-1]:6.2f} s (+{(times['full'][-1] / base - 1) * 100:.1f}%)")  # fmt: skip
    best = {mode: min(seconds) for mode, seconds in times.items()}
    print(f"bulk issuance of {count:,} coupons on {settings.BULK_ISSUE_WORKERS} connections: best without events "
          f"{best['none']:.2f} s, with thin events {best['thin']:.2f} s: {best['thin'] / best['none']:.2f}x "
          f"(+{(best['thin'] / best['none'] - 1) * 100:.1f}% job time; goal <= 25%); with full payloads "
          f"{best['full']:.2f} s (+{(best['full'] / best['none'] - 1) * 100:.1f}%)")  # fmt: skip


def delivery(args) -> None:
    from standardwebhooks.webhooks import Webhook

    from webhooks.models import Delivery, Event
    from webhooks.sending import event_post
    from webhooks.services import SEND_BUDGET_SECONDS, endpoint_create, endpoint_deliver, events_dispatch

    ports = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=serve, args=(ports,), daemon=True)
    receiver.start()
    url = f"http://127.0.0.1:{ports.get(timeout=10)}/hooks"
    try:
        endpoint, secret = endpoint_create(url=url, events=["coupon.issued"], actor=Actor.cli("bench"))
        n = args.deliveries
        first = Event.objects.order_by("pk").values_list("pk", flat=True).first()
        with connection.cursor() as cursor:  # the last issuance's thin events: keep the first n (none has deliveries)
            cursor.execute("DELETE FROM webhooks_event WHERE id >= %s", [first + n])
        assert Event.objects.filter(data__isnull=True).count() == n

        started = time.perf_counter()
        while events_dispatch()[0]:
            pass
        fan_out = time.perf_counter() - started
        sent = 0
        while sent < n:
            sent += endpoint_deliver(endpoint_id=endpoint.pk, budget_seconds=SEND_BUDGET_SECONDS)
        seconds = time.perf_counter() - started
        delivered = Delivery.objects.filter(status="succeeded").count()
        assert delivered == n, delivered
        rate = n / seconds

        # The ceiling: the same client, bodies and concurrency, no database.
        events = list(Event.objects.order_by("pk")[:n])
        signer = Webhook(secret)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=settings.WEBHOOK_DELIVERY_CONCURRENCY) as pool:
            answers = list(pool.map(lambda e: event_post(url=url, signer=signer, event=e, timeout=5), events))
        bare_seconds = time.perf_counter() - started
        assert all(answer.succeeded for answer in answers)
        bare_rate = n / bare_seconds
        print(f"delivery of {n:,} events to a receiver on loopback: {seconds:.2f} s = {rate:,.0f} events/s "
              f"(fan-out {fan_out:.2f} s), {settings.WEBHOOK_DELIVERY_CONCURRENCY} side by side; "
              f"goal >= 500/s")  # fmt: skip
        print(f"bare signed POSTs, no database: {bare_seconds:.2f} s = {bare_rate:,.0f}/s "
              f"(delivery {rate / bare_rate:.2f}x of it)")  # fmt: skip
    finally:
        receiver.terminate()
        receiver.join(5)
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE webhooks_deliveryattempt, webhooks_delivery, webhooks_event, "
                           "coupons_couponevent, coupons_coupon CASCADE")  # fmt: skip


if __name__ == "__main__":
    main()
