"""The two ways a status changes, which every model's one status writer is built on.

A model's lifecycle module owns its transition table, its error and its event builder, and calls these:
- `status_swap`: one row, compare-and-swap: `UPDATE … WHERE pk = … AND status = <the status read>`; a
  concurrent change makes it match nothing, and the writer refuses rather than overwrites.
- `status_move_many`: a set of rows, one `UPDATE … WHERE status = <from>` per current status, each moved row
  with its event, for sweeps and bulk moves.
The caller checks the table; these only write. An error raised after the swap is outside its atomic block,
so a caller that catches it inside its own transaction may go on.
"""

from collections.abc import Callable, Iterable

from django.db import models, transaction
from django.db.models import QuerySet


def status_swap(*, rows: QuerySet, old: str, to: str, changes: dict, event: Callable[[], models.Model] | None) -> bool:
    """Move the row in `rows` (filtered to one pk, and any extra guard) from `old` to `to`, with `changes`;
    `event` builds its event row, saved in the same transaction. False when the swap was lost."""
    if event is None:
        return bool(rows.filter(status=old).update(status=to, **changes))
    with transaction.atomic():
        moved = rows.filter(status=old).update(status=to, **changes)
        if moved:
            event().save(force_insert=True)
    return bool(moved)


def status_move_many(
    *,
    rows: QuerySet,
    to: str,
    allowed: Callable[..., bool],
    changes: Callable[[str], dict],
    event: Callable[..., models.Model],
    columns: Iterable[str] = (),
    skip_locked: bool = False,
) -> int:
    """Move every row of `rows` that `allowed(status, *columns)` lets go to `to`; returns how many moved.

    The rows are locked in pk order (with `skip_locked`, those another writer holds are left for the next run),
    checked, and moved with one UPDATE per current status, with `changes(old)`; `event(pk, old, *columns)` builds
    each moved row's event, and they are inserted at once.
    """
    moved, events = 0, []
    with transaction.atomic():
        locked = rows.select_for_update(skip_locked=skip_locked).order_by("pk").values_list("pk", "status", *columns)
        groups: dict[str, list[tuple]] = {}
        for pk, status, *extra in locked:
            if allowed(status, *extra):
                groups.setdefault(status, []).append((pk, *extra))
        for old, group in groups.items():
            pks = [pk for pk, *_ in group]
            moved += rows.model.objects.filter(pk__in=pks, status=old).update(status=to, **changes(old))
            events.extend(event(pk, old, *extra) for pk, *extra in group)
        if events:
            type(events[0]).objects.bulk_create(events)
    return moved
