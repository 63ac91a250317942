"""Redemptions a till made while offline: each row judged by the redemption rules at its time, set-based.

The batch's row is written and committed first (`offline_batch_open`), with the fingerprint of its rows: the
same batch sent again finds it, a batch reusing the id with other rows is refused. Its rows are then judged in
chunks of `CHUNK_ROWS`, in the order they happened (`redeemed_at`, then their place in the batch), each chunk
one transaction that holds the batch row locked and writes its answers (one row a chunk) with its redemptions
(`till.offline.judging`). The chunks written say how far the batch got, so a second copy of the batch (a retry,
or the same batch sent twice at once) takes the next chunk without an answer, if any, and both end with the one
answer; an interrupted batch goes on where it stopped. Once every row has its answer, the batch's answer body
is written, once.

A code that was redeemed meanwhile, online, by another till or by an earlier row of the batch, is rejected
`already_redeemed` and recorded as an offline conflict for loss prevention.
"""

import gc
import hashlib
import json
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum

from config.actors import Actor
from members.models import OrgEntity
from till.offline.exceptions import BATCH_ID_REUSED, OfflineBatchError
from till.offline.judging import batch_context, offline_chunk_apply
from till.offline.models import OfflineBatch, OfflineBatchChunk

CHUNK_ROWS = 10_000


@dataclass(frozen=True)
class OfflineRow:
    code: str
    member: str  # the member's external id
    redeemed_at: datetime
    bill_amount: Decimal
    transaction_id: str = ""


def offline_batch_record(
    *,
    batch_id: str,
    store: OrgEntity,
    rows: list[OfflineRow | None],
    actor: Actor,
    source: str = OfflineBatch.Source.API,
) -> tuple[OfflineBatch, bool]:
    """Judge and redeem the batch's rows; returns (batch, created). Its `response_body` is the answer.

    A row given as None (an uploaded row whose cells did not parse) is rejected `malformed_row`.

    The same batch id at the store with the same rows returns the first batch, created=False, once it has
    been judged (helping to judge it if it has not); with other rows it is refused with `batch_id_reused`.
    """
    batch, created = offline_batch_open(batch_id=batch_id, store=store, rows=rows, actor=actor, source=source)
    if batch.response_body is None:
        offline_batch_judge(batch=batch, rows=rows, actor=actor)
    return batch, created


@contextmanager
def collection_paused():
    """The cyclic garbage collector paused for a batch's work, resumed after (as it was).

    A batch makes hundreds of thousands of objects that live until it ends (its rows, each chunk's state and
    answers), none of them garbage; the collector's full passes walk them all again and again, about a quarter
    of the batch's CPU. What cycles the batch leaves are collected once it is resumed.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def offline_batch_open(
    *, batch_id: str, store: OrgEntity, rows: list[OfflineRow | None], actor: Actor, source: str, **fields
) -> tuple[OfflineBatch, bool]:
    """The batch's row, committed (created=True), or the one already sent with these rows (created=False)."""
    fingerprint = _batch_fingerprint(rows)
    try:
        with transaction.atomic():
            batch = OfflineBatch.objects.create(
                batch_id=batch_id, store=store, source=source, total_rows=len(rows), request_fingerprint=fingerprint,
                actor=actor.name, channel=actor.channel, **fields,
            )  # fmt: skip
        return batch, True
    except IntegrityError:
        first = OfflineBatch.objects.get(batch_id=batch_id, store=store)
    if first.request_fingerprint != fingerprint:
        raise OfflineBatchError(
            f"Offline batch {batch_id!r} was already sent from store {store.code} with other rows.",
            code=BATCH_ID_REUSED,
            reasons=[BATCH_ID_REUSED],
        )
    return first, False


def offline_batch_judge(
    *,
    batch: OfflineBatch,
    rows: list[OfflineRow | None],
    actor: Actor,
    progress: Callable[[int], None] | None = None,
) -> OfflineBatch:
    """Judge the rows of `batch` that have no answer yet, chunk by chunk, and write its answer body; `batch`
    gets the body and counts. `progress` hears the rows answered after each chunk."""
    with collection_paused():
        return _batch_judge(batch=batch, rows=rows, actor=actor, progress=progress)


def _batch_judge(*, batch, rows, actor, progress) -> OfflineBatch:
    order = sorted(range(len(rows)), key=lambda i: (0, i) if rows[i] is None else (1, rows[i].redeemed_at, i))
    store = batch.store
    written = {}  # position -> the answers of the chunks judged here, not read back
    while True:
        with transaction.atomic():
            locked = OfflineBatch.objects.select_for_update().get(pk=batch.pk)
            if locked.response_body is not None:
                break
            done = _rows_answered(batch)
            entries = [(index, rows[index]) for index in order[done : done + CHUNK_ROWS]]
            if entries:
                context = batch_context(batch=batch, store=store, actor=actor)
                written[done] = offline_chunk_apply(context=context, position=done, entries=entries).written
            if done + len(entries) >= len(rows):
                _answer_write(batch, written)
                break
        if progress is not None:
            progress(done + len(entries))
    batch.refresh_from_db(fields=["response_body", "total_rows", "accepted_count", "rejected_count"])
    return batch


def offline_batch_answered(batch: OfflineBatch) -> int:
    """How many of the batch's rows have been judged so far."""
    if batch.response_body is not None:
        return batch.total_rows
    return _rows_answered(batch)


def _rows_answered(batch: OfflineBatch) -> int:
    return OfflineBatchChunk.objects.filter(batch=batch).aggregate(rows=Sum("row_count"))["rows"] or 0


def _answer_write(batch: OfflineBatch, written: dict[int, list]) -> None:
    """The batch's answer body, from its answers (`written`: those of the chunks judged here, by position, the
    others read): the accepted rows and the rejected ones, each by index."""
    others = batch.chunks.exclude(position__in=list(written)).values_list("answers", flat=True)
    answers = [answer for chunk in [*written.values(), *others] for answer in chunk]
    accepted, rejected = [], []
    for index, code, redemption_id, reasons in sorted(answers):
        if reasons:
            rejected.append({"index": index, "code": code, "reasons": reasons.split(" ")})
        else:
            accepted.append({"index": index, "redemption_id": redemption_id})
    body = {"batch_id": batch.batch_id, "accepted": accepted, "rejected": rejected}
    OfflineBatch.objects.filter(pk=batch.pk).update(
        response_body=body, accepted_count=len(accepted), rejected_count=len(rejected)
    )


def _batch_fingerprint(rows: list[OfflineRow | None]) -> str:
    """What makes two sends of one batch id the same batch: its rows, in order, times as instants."""
    listed = [
        None if row is None else
        [row.code, row.member, row.redeemed_at.astimezone(UTC).isoformat(),
         format(Decimal(row.bill_amount).normalize(), "f"), row.transaction_id]
        for row in rows
    ]  # fmt: skip
    return hashlib.sha256(json.dumps(listed, separators=(",", ":")).encode()).hexdigest()
