"""A members file through the admin's Import: the request that queues it, and the background job's review and
import, against django-import-export's own in-request dry run of the same rows, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/offerdesk .venv/bin/python bench/admin_imports.py \
        [--rows 20000] [--existing 20000] [--chunk 1000]

Creates a throwaway database (test_<name>) and loads `--existing` members with COPY (not timed); the file has
`--rows` rows, half of them members that exist (updated), half new. Then, in one process, each with its wall
time, its CPU time (this process's, which the other load on the machine barely moves) and its statements:
1. the baseline: django-import-export's Import POST as it ran before, its dry run inside the request;
2. the Import POST today: the file stored and the review queued (the broker is in memory, so nothing runs it);
3. the review job (dry run in chunks), run here as the worker runs it;
4. the import job confirmed from that review, run likewise.
Ratios compare 2, 3 and 4 with 1. DEBUG is off, as in production.
"""

import argparse
import os
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

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.uploads import load_members  # noqa: E402  (the same member rows as the uploads bench)

HEADER = "external_id,email,mobile,user_id,first_name,last_name,birth_date,registered_at,status,transaction_count\n"


class Statements:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def measured(name, work, results):
    counter = Statements()
    wall, cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(counter):
        outcome = work()
    results[name] = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "statements": counter.count}
    return outcome


def members_file(rows: int, existing: int) -> bytes:
    updated = min(existing, rows // 2)
    lines = [f"B{n:08d},b{n}@example.com,,u{n},Kim,Park,,{timezone.now().isoformat()},active,1\n"
             for n in range(updated)]  # fmt: skip
    lines += [f"N{n:08d},n{n}@example.com,,v{n},Ana,Ng,1990-01-01,2024-01-01T00:00:00Z,active,0\n"
              for n in range(rows - updated)]  # fmt: skip
    return (HEADER + "".join(lines)).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--existing", type=int, default=20_000)
    parser.add_argument("--chunk", type=int, default=1_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL=postgres://... : this benchmark measures the PostgreSQL path.")
    original = connection.settings_dict["NAME"]
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        with tempfile.TemporaryDirectory() as directory:
            settings.MEDIA_ROOT = directory
            settings.IMPORT_CHUNK_ROWS = args.chunk
            run(args)
    finally:
        connection.close()
        connection.creation.destroy_test_db(original, verbosity=0)
    print(f"(database {test_name} dropped)")


def run(args) -> None:
    from django.contrib import admin
    from django.contrib.auth.models import User
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client, RequestFactory
    from django.urls import reverse
    from import_export.admin import ImportMixin

    from config.actors import Actor
    from config.celery import app
    from jobs.imports import admin_import_confirm, admin_import_run
    from jobs.models import ImportJob
    from members.models import Member

    app.conf.task_always_eager = False  # the request queues on the in-memory broker; nothing runs it there
    load_members(args.existing)
    content = members_file(args.rows, args.existing)
    user = User.objects.create_superuser("bench", password="bench")
    url = reverse("admin:members_member_import")
    member_admin = admin.site._registry[Member]
    csv_index = next(str(i) for i, fmt in enumerate(member_admin.get_import_formats()) if fmt().get_title() == "csv")
    results = {}

    def in_request_dry_run():
        upload = SimpleUploadedFile("m.csv", content, "text/csv")
        request = RequestFactory().post(url, {"format": csv_index, "import_file": upload})
        request.user, request.session = user, {}
        request._messages = FallbackStorage(request)
        response = ImportMixin.import_action(member_admin, request)  # django-import-export's own, before ours
        response.render()
        assert response.context_data["result"].totals["new"] == args.rows - min(args.existing, args.rows // 2)
        return response

    measured("baseline: in-request dry run", in_request_dry_run, results)

    client = Client()
    client.force_login(user)

    def background_post():
        response = client.post(url, {"format": csv_index, "import_file": SimpleUploadedFile("m.csv", content)})
        assert response.status_code == 302, response.status_code
        return ImportJob.objects.latest("pk")

    review = measured("Import POST (queues the review)", background_post, results)
    assert review.status == "queued"
    review = measured("review job (dry run)", lambda: admin_import_run(job_id=review.pk), results)
    assert (review.status, review.errors, review.total_rows) == ("succeeded", 0, args.rows), review.error
    imported = admin_import_confirm(review_id=review.pk, user=user, actor=Actor.from_admin_user(user))
    imported = measured("import job", lambda: admin_import_run(job_id=imported.pk), results)
    assert (imported.status, imported.processed_rows) == ("succeeded", args.rows), imported.error
    assert Member.objects.count() == args.existing + args.rows - min(args.existing, args.rows // 2)

    load = os.getloadavg()
    print(f"{args.rows:,} rows ({min(args.existing, args.rows // 2):,} updates), {args.existing:,} members stored, "
          f"chunks of {args.chunk:,}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")  # fmt: skip
    base = results["baseline: in-request dry run"]
    print(f"{'':34} {'wall s':>9} {'CPU s':>9} {'statements':>11} {'wall ratio':>11} {'CPU ratio':>10}")
    for name, figures in results.items():
        print(f"{name:34} {figures['wall']:9.3f} {figures['cpu']:9.3f} {figures['statements']:11,} "
              f"{figures['wall'] / base['wall']:11.4f} {figures['cpu'] / base['cpu']:10.4f}")  # fmt: skip


if __name__ == "__main__":
    main()
