"""Run one piece of database work on several connections side by side."""

from concurrent.futures import ThreadPoolExecutor

from django.db import connection


def on_connections(work, *, workers: int) -> list:
    """Call `work()` on the caller's connection and on `workers - 1` threads, each with its own connection.

    Returns every call's result (the caller's first). Django opens one connection per thread; each helper
    thread closes its own when its call returns, so no connection outlives the run.
    """
    if workers <= 1:
        return [work()]
    with ThreadPoolExecutor(max_workers=workers - 1) as pool:
        others = [pool.submit(_in_thread, work) for _ in range(workers - 1)]
        mine = work()
        return [mine, *(future.result() for future in others)]


def _in_thread(work):
    try:
        return work()
    finally:
        connection.close()
