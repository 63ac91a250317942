"""Redemptions a till made while offline: each row judged on its own by the redemption rules at its time.

The batch's row is written first, in the transaction that judges its rows: a second copy of the batch (a retry,
or the same batch sent twice at once) waits on the batch id's unique index until the first commits, then
answers the first answer and changes nothing. Accepted rows are redeemed through the coupons redemption
service with the till's time (`redeemed_at`, which the rules bound by the offline window); a code that was
redeemed meanwhile, online or by another till, is rejected `already_redeemed` and recorded as an offline
conflict for loss prevention.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db import IntegrityError, transaction

from config.actors import Actor
from config.errors import DomainError
from coupons.models import CouponRedemption
from coupons.redemption import rules as redemption_rules
from coupons.redemption.services import coupon_for_redemption, coupon_redeem
from members.models import Member, OrgEntity
from till.offline.exceptions import BATCH_ID_REUSED, MALFORMED_ROW, MEMBER_NOT_FOUND, OfflineBatchError
from till.offline.models import OfflineBatch, OfflineConflict


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

    The same batch id at the store with the same rows returns the first batch, created=False; with other rows
    it is refused with `batch_id_reused`.
    """
    fingerprint = _batch_fingerprint(rows)
    with transaction.atomic():
        try:
            with transaction.atomic():
                batch = OfflineBatch.objects.create(
                    batch_id=batch_id, store=store, source=source, total_rows=len(rows),
                    request_fingerprint=fingerprint, actor=actor.name, channel=actor.channel,
                )  # fmt: skip
        except IntegrityError:
            first = OfflineBatch.objects.get(batch_id=batch_id, store=store)
            if first.request_fingerprint != fingerprint:
                raise OfflineBatchError(
                    f"Offline batch {batch_id!r} was already sent from store {store.code} with other rows.",
                    code=BATCH_ID_REUSED,
                    reasons=[BATCH_ID_REUSED],
                ) from None
            return first, False
        accepted, rejected = _judge(batch=batch, rows=rows, actor=actor)
        body = {"batch_id": batch_id, "accepted": accepted, "rejected": rejected}
        OfflineBatch.objects.filter(pk=batch.pk).update(
            response_body=body, accepted_count=len(accepted), rejected_count=len(rejected)
        )
    batch.response_body, batch.accepted_count, batch.rejected_count = body, len(accepted), len(rejected)
    return batch, True


def _judge(*, batch: OfflineBatch, rows: list[OfflineRow | None], actor: Actor) -> tuple[list[dict], list[dict]]:
    """Each row in the order it happened (its time, then its place in the batch), so per-member limits and gaps
    are judged as the till lived them."""
    readable = [index for index, row in enumerate(rows) if row is not None]
    external_ids = {rows[index].member for index in readable}
    members = {member.external_id: member for member in Member.objects.filter(external_id__in=external_ids)}
    accepted = []
    rejected = [{"index": i, "code": "", "reasons": [MALFORMED_ROW]} for i, row in enumerate(rows) if row is None]
    for index in sorted(readable, key=lambda i: (rows[i].redeemed_at, i)):
        row = rows[index]
        member = members.get(row.member)
        if member is None:
            rejected.append({"index": index, "code": row.code, "reasons": [MEMBER_NOT_FOUND]})
            continue
        try:
            redemption = coupon_redeem(
                code=row.code, member=member, store=batch.store, bill_amount=row.bill_amount,
                transaction_id=row.transaction_id, at=row.redeemed_at, actor=actor,
            )  # fmt: skip
        except DomainError as exc:
            reasons = exc.reasons or [exc.code]
            rejected.append({"index": index, "code": row.code, "reasons": reasons})
            if redemption_rules.ALREADY_REDEEMED in reasons:
                _conflict_record(batch=batch, index=index, row=row, member=member)
            continue
        accepted.append({"index": index, "redemption_id": redemption.pk})
    accepted.sort(key=lambda item: item["index"])
    rejected.sort(key=lambda item: item["index"])
    return accepted, rejected


def _conflict_record(*, batch: OfflineBatch, index: int, row: OfflineRow, member: Member) -> OfflineConflict:
    """The offline use of a code and the redemption that got there first (the coupon's latest one standing)."""
    coupon = coupon_for_redemption(code=row.code, member=member)
    online = None
    if coupon is not None:
        online = (
            CouponRedemption.objects.filter(coupon=coupon, is_reversed=False)
            .only("pk", "store_id", "redeemed_at")
            .order_by("-redeemed_at", "-id")
            .first()
        )
    return OfflineConflict.objects.create(
        batch=batch,
        row_index=index,
        code=coupon.code if coupon is not None else row.code,
        coupon=coupon,
        member=member,
        offline_store=batch.store,
        offline_redeemed_at=row.redeemed_at,
        online_redemption=online,
        online_store_id=online.store_id if online else None,
        online_redeemed_at=online.redeemed_at if online else None,
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
