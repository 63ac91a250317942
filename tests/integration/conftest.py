"""A real Celery worker on Redis, against the test database, for tests marked `integration`.

The worker is a separate process started with `celery -A config worker`, so tasks cross the broker,
are serialised as JSON and run outside the test's transaction: tests that use it need
`@pytest.mark.django_db(transaction=True)` so the worker sees committed rows.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    """`pool="solo"` runs tasks in the worker process itself; `pool="prefork"` in one pool child, which a
    test can kill on its own (`kill_pool_child`) as the OOM killer or a hard time limit would."""

    def __init__(self, *, queue: str, log_path: Path, visibility_timeout: int, pool: str = "solo"):
        self.queue = queue
        self.log_path = log_path
        self.visibility_timeout = visibility_timeout
        self.pool = pool
        self.process = None

    def _environment(self):
        db = connection.settings_dict
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.development",
            DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
            CELERY_VISIBILITY_TIMEOUT=str(self.visibility_timeout),
            CELERY_TASK_DEFAULT_QUEUE=self.queue,  # tasks the worker queues itself stay on this test's queue
            CELERY_QUEUES_BY_KIND="false",  # ... whatever their kind
            MEDIA_ROOT=str(settings.MEDIA_ROOT),
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            # Mail and SMS the worker sends land next to its log, in the test's tmp_path.
            EMAIL_FILE_PATH=str(self.log_path.parent / "mail"),
            SMS_BACKEND="config.sms.FileBackend",
            SMS_FILE_PATH=str(self.log_path.parent / "sms"),
            LOG_LEVEL="INFO",
        )
        return env

    def start(self):
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={self.pool}", "--concurrency=1",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", self.queue,
            "-n", f"{self.queue}@%h", "--loglevel=INFO",
        ]  # fmt: skip
        self.log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(command, cwd=ROOT, env=self._environment(), stdout=self.log,
                                        stderr=subprocess.STDOUT)  # fmt: skip
        self._wait_until_ready()
        return self

    def _wait_until_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Celery worker exited early; log:\n{self.log_path.read_text()[-3000:]}")
            if b"ready." in self.log_path.read_bytes():
                return
            time.sleep(0.2)
        raise RuntimeError(f"Celery worker not ready in {timeout}s; log:\n{self.log_path.read_text()[-3000:]}")

    def kill(self):
        """SIGKILL, as when a machine dies: no chance to acknowledge or requeue anything."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.log.close()

    def pool_children(self) -> list[int]:
        """Pids of the worker's pool processes (none with the solo pool), read from /proc."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                state_and_parent = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (command)"
            except (OSError, IndexError):
                continue  # the process ended meanwhile
            if int(state_and_parent[1]) == self.process.pid:
                children.append(int(stat.parent.name))
        return children

    def kill_pool_child(self) -> int:
        """SIGKILL the pool child, as the OOM killer does; the worker itself lives on and starts another."""
        (child,) = self.pool_children()
        os.kill(child, signal.SIGKILL)
        return child

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if not self.log.closed:
            self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def celery_worker_factory(transactional_db, tmp_path):
    """Start real workers on a queue of this test's own; tasks sent during the test go there."""
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs CELERY_BROKER_URL=redis://...")
    queue = f"test-{uuid.uuid4().hex[:10]}"
    overrides = {"task_always_eager": False, "task_default_queue": queue, "task_routes": {},
                 "broker_transport_options": {"visibility_timeout": 3}}  # fmt: skip
    saved = {name: celery_app.conf.get(name) for name in overrides}
    celery_app_reconfigure(overrides)
    workers = []

    def start(visibility_timeout=3, pool="solo"):
        worker = WorkerProcess(queue=queue, log_path=tmp_path / f"worker-{len(workers)}.log",
                               visibility_timeout=visibility_timeout, pool=pool)  # fmt: skip
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.stop()
    celery_app_reconfigure(saved)


def celery_app_reconfigure(changes: dict) -> None:
    """Change the app's configuration, routes included (the app builds its router once, on first use)."""
    celery_app.conf.update(changes)
    celery_app.amqp.flush_routes()
    celery_app.amqp.__dict__.pop("router", None)


@pytest.fixture
def celery_worker(celery_worker_factory):
    return celery_worker_factory()


def wait_for(predicate, *, timeout=30.0, interval=0.2, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
