"""A web process loads the broker's transport at start-up (`config.celery.broker_transport_load`), connecting to
nothing: the first redemption that wakes the webhook dispatcher no longer imports it."""

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from config.celery import app, broker_transport_load


@contextmanager
def celery_conf(**values):
    saved = {name: app.conf[name] for name in values}
    app.conf.update(values)
    try:
        yield
    finally:
        app.conf.update(saved)


# A process of its own: kombu keeps a transport class once resolved, so in a process where an earlier test sent a
# task the module would not be imported again whatever the start-up did.
LOAD_IN_A_FRESH_PROCESS = """
import sys
import django
django.setup()
from config.celery import app, broker_transport_load
app.conf.update(task_always_eager=False, broker_url="redis://127.0.0.1:9/0")  # nothing listens there
loaded_before = "kombu.transport.redis" in sys.modules
broker_transport_load()
print(loaded_before, "kombu.transport.redis" in sys.modules)
"""


def test_the_transport_is_loaded_without_connecting():
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run([sys.executable, "-c", LOAD_IN_A_FRESH_PROCESS], env=environment, capture_output=True,
                            text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


def test_nothing_is_loaded_when_tasks_run_eagerly(monkeypatch):
    def refuse():
        raise AssertionError("the transport was loaded")

    monkeypatch.setattr(app, "connection_for_write", refuse)
    with celery_conf(task_always_eager=True):
        broker_transport_load()
    with celery_conf(task_always_eager=False), pytest.raises(AssertionError):
        broker_transport_load()
