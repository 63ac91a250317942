"""The one harness for races on PostgreSQL: callers on real threads, each on its own database connection.

`run_callers` starts one thread per caller, releases them together behind a barrier (unless the test orders
them itself with events), closes each thread's connection when its caller ends, and returns one `Outcome` per
caller, in caller order. `run_concurrently` is the short form for N callers of one piece of work, and
`results_of` turns outcomes into results and refusal codes.
"""

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

from config.errors import DomainError

# Long enough for 60 callers on a loaded 2-core machine; short enough that a deadlocked race fails the test.
WAIT_SECONDS = 120


@dataclass(frozen=True)
class Outcome:
    """What one caller ended with: its return value, or the exception it raised."""

    result: Any = None
    error: BaseException | None = None

    @property
    def refusal(self) -> str | None:
        """The code of the domain error the caller was refused with, if it was."""
        return self.error.code if isinstance(self.error, DomainError) else None


def run_callers(works: Sequence[Callable[[], Any]], *, together: bool = True) -> list[Outcome]:
    """Call each of `works` on its own thread and connection; with `together`, all start at the same moment."""
    barrier = threading.Barrier(len(works)) if together else None
    outcomes: list[Outcome | None] = [None] * len(works)

    def caller(index: int) -> None:
        try:
            if barrier is not None:
                barrier.wait(WAIT_SECONDS)
            outcomes[index] = Outcome(result=works[index]())
        except BaseException as exc:  # handed back to the test, which decides what is expected
            outcomes[index] = Outcome(error=exc)
        finally:
            connection.close()  # the thread's own connection; Django opened it on first use

    threads = [threading.Thread(target=caller, args=(index,), name=f"caller-{index}") for index in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_SECONDS)
    stuck = [thread.name for thread in threads if thread.is_alive()]
    assert not stuck, f"callers still running after {WAIT_SECONDS}s: {stuck}"
    return outcomes


def run_concurrently(count: int, work: Callable[[int], Any]) -> list:
    """Start `count` callers of work(index) together; see `results_of` for what comes back."""
    return results_of(run_callers([lambda index=index: work(index) for index in range(count)]))


def results_of(outcomes: Sequence[Outcome]) -> list:
    """Each caller's result, or the code of the domain error it was refused with.

    Any other exception means the race broke something unexpected, so it is raised here.
    """
    for outcome in outcomes:
        if outcome.error is not None and outcome.refusal is None:
            raise outcome.error
    return [outcome.refusal if outcome.error is not None else outcome.result for outcome in outcomes]


def wait_for_a_fresh_minute(*, margin_seconds: float = 20.0) -> None:
    """Return early in a clock minute, so a race counted per minute (abuse limits) never straddles two windows."""
    if timezone.now().second >= 60 - margin_seconds:
        time.sleep(60 - timezone.now().second - timezone.now().microsecond / 1e6 + 0.05)
