"""Bulk certificate-code generation against a naive per-code loop.

    DATABASE_URL=postgres://... .venv/bin/python bench/rewards_generate.py [--count 100000] [--baseline 5000]

Times `certificate_codes_generate` (COPY into a staging table + one INSERT … ON CONFLICT DO NOTHING on
PostgreSQL), the same service on its portable executemany path, and a naive loop that draws a code,
checks it exists and creates it, one row at a time. Every run happens inside a transaction that is
rolled back, so the database is left as it was. Prints rows/s and the ratios to the naive loop.
"""

import argparse
import os
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402

from config.actors import Actor  # noqa: E402
from rewards import rules, services  # noqa: E402
from rewards.models import CertificateCode  # noqa: E402

ACTOR = Actor.cli("bench")


class Rollback(Exception):
    pass


def timed(work) -> tuple[int, float]:
    result = {}
    started = time.perf_counter()
    try:
        with transaction.atomic():
            result["rows"] = work()
            result["seconds"] = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    return result["rows"], result["seconds"]


def service(count, length, charset):
    return lambda: services.certificate_codes_generate(
        count=count, reward=None, length=length, charset=charset, actor=ACTOR
    )


def service_executemany(count, length, charset):
    def work():
        original = services._insert_codes_copy
        services._insert_codes_copy = services._insert_codes_many
        try:
            return services.certificate_codes_generate(
                count=count, reward=None, length=length, charset=charset, actor=ACTOR
            )
        finally:
            services._insert_codes_copy = original

    return work


def naive(count, length, charset):
    alphabet = rules.CHARSETS[charset]

    def work():
        created = 0
        while created < count:
            code = "".join(secrets.choice(alphabet) for _ in range(length))
            if not CertificateCode.objects.filter(code=code).exists():
                CertificateCode.objects.create(code=code, reward=None)
                created += 1
        return created

    return work


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=5_000, help="codes for the naive loop")
    parser.add_argument("--length", type=int, default=12)
    parser.add_argument("--charset", default="alphanumeric", choices=sorted(rules.CHARSETS))
    parser.add_argument(
        "--existing", type=int, default=0, help="codes to load first (untimed, rolled back) so uniqueness is checked"
    )
    args = parser.parse_args()

    with transaction.atomic():
        if args.existing:
            services.certificate_codes_generate(
                count=args.existing, reward=None, length=args.length, charset=args.charset, actor=ACTOR
            )
        run_all(args)
        transaction.set_rollback(True)


def run_all(args):
    existing = CertificateCode.objects.count()
    print(f"database: {connection.vendor}, existing codes: {existing:,}, length {args.length} {args.charset}")
    runs = [("naive per-code loop", args.baseline, naive(args.baseline, args.length, args.charset))]
    runs.append(("service", args.count, service(args.count, args.length, args.charset)))
    if connection.vendor == "postgresql":
        runs.append(
            ("service, executemany path", args.count, service_executemany(args.count, args.length, args.charset))
        )

    baseline_rate = None
    for label, count, work in runs:
        rows, seconds = timed(work)
        assert rows == count, (label, rows, count)
        rate = rows / seconds
        baseline_rate = baseline_rate or rate
        print(f"{label:<28} {rows:>9,} rows {seconds:>8.2f} s {rate:>11,.0f} rows/s  x{rate / baseline_rate:,.1f}")


if __name__ == "__main__":
    main()
