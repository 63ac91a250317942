"""Run the same piece of work on real threads at once, for races on PostgreSQL."""

import threading
import time

from django.db import connection
from django.utils import timezone

from config.errors import DomainError


def run_concurrently(count, work):
    """Start `count` threads that call work(index) together; return each result or refusal code."""
    barrier = threading.Barrier(count)
    outcomes, lock = [], threading.Lock()

    def runner(index):
        try:
            barrier.wait()
            try:
                result = work(index)
            except DomainError as exc:
                result = exc.code
            with lock:
                outcomes.append(result)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def wait_for_a_fresh_minute(*, margin_seconds: float = 20.0) -> None:
    """Return early in a clock minute, so a race counted per minute (abuse limits) never straddles two windows."""
    if timezone.now().second >= 60 - margin_seconds:
        time.sleep(60 - timezone.now().second - timezone.now().microsecond / 1e6 + 0.05)
