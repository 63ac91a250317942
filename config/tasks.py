"""Queueing Celery tasks safely from services."""

from django.db import transaction


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Queue `task` once the surrounding transaction commits (at once outside a transaction).

    A task queued inside an open transaction can run before the rows it needs are committed, or
    run for work that is then rolled back.
    """
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs))
