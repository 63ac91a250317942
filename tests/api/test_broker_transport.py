"""A web process loads the broker's transport at start-up (`config.celery.broker_transport_load`), connecting to
nothing: the first redemption that wakes the webhook dispatcher no longer imports it."""

import sys
from contextlib import contextmanager

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


def test_the_transport_is_loaded_without_connecting(monkeypatch):
    monkeypatch.delitem(sys.modules, "kombu.transport.redis", raising=False)
    with celery_conf(task_always_eager=False, broker_url="redis://127.0.0.1:9/0"):  # nothing listens there
        broker_transport_load()
    assert "kombu.transport.redis" in sys.modules


def test_nothing_is_loaded_when_tasks_run_eagerly(monkeypatch):
    def refuse():
        raise AssertionError("the transport was loaded")

    monkeypatch.setattr(app, "connection_for_write", refuse)
    with celery_conf(task_always_eager=True):
        broker_transport_load()
    with celery_conf(task_always_eager=False), pytest.raises(AssertionError):
        broker_transport_load()
