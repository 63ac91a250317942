"""config.jobs.read_ahead: items in order from a thread, its errors raised in the caller, the thread ended."""

import threading

import pytest

from config.jobs import read_ahead


@pytest.mark.parametrize("in_thread", [True, False])
def test_items_come_in_order_whole(in_thread):
    with read_ahead(iter(range(50)), in_thread=in_thread) as items:
        assert list(items) == list(range(50))


def test_items_are_made_on_another_thread_at_most_depth_ahead():
    made, handed = [], []

    def items():
        for n in range(10):
            made.append((n, threading.current_thread().name))
            yield n

    with read_ahead(items(), in_thread=True, depth=1) as ready:
        for n in ready:
            handed.append(n)
            # One item queued and one being made besides the one in hand.
            assert len(made) <= n + 3
    assert handed == list(range(10))
    assert {name for _, name in made} == {"read-ahead"}


def test_an_error_while_making_items_is_raised_in_the_callers_loop_after_the_items_before():
    def items():
        yield 1
        yield 2
        raise ValueError("unreadable")

    seen = []
    with pytest.raises(ValueError, match="unreadable"), read_ahead(items(), in_thread=True) as ready:
        for n in ready:
            seen.append(n)
    assert seen == [1, 2]


def test_leaving_the_loop_early_ends_the_thread():
    before = threading.active_count()

    def endless():
        n = 0
        while True:
            yield n
            n += 1

    with read_ahead(endless(), in_thread=True) as ready:
        for n in ready:
            if n == 3:
                break
    assert threading.active_count() == before
