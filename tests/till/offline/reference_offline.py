"""The row-at-a-time offline batch, kept as the reference the set-based path (`till.offline.judging`) must match.

Each row, in the order it happened, goes through the till's own redemption (`coupon_redeem`, which reads and
locks its coupon and writes it on its own); a row refused `already_redeemed` records its conflict against the
coupon's latest live redemption. The comparison test runs both on the same batch and compares every answer.
"""

from django.db import transaction

from config.errors import DomainError
from coupons.models import CouponRedemption
from coupons.redemption import rules as redemption_rules
from coupons.redemption.services import coupon_for_redemption, coupon_redeem
from members.models import Member
from till.offline.exceptions import MALFORMED_ROW, MEMBER_NOT_FOUND
from till.offline.models import OfflineBatch, OfflineConflict
from till.offline.services import _batch_fingerprint


def reference_batch_record(*, batch_id, store, rows, actor) -> dict:
    """The batch judged row by row in one transaction; its answer body."""
    with transaction.atomic():
        batch = OfflineBatch.objects.create(
            batch_id=batch_id, store=store, total_rows=len(rows), actor=actor.name, channel=actor.channel,
            request_fingerprint=_batch_fingerprint(rows),
        )  # fmt: skip
        accepted, rejected = _judge(batch=batch, rows=rows, actor=actor)
    return {"batch_id": batch_id, "accepted": accepted, "rejected": rejected}


def _judge(*, batch, rows, actor):
    readable = [index for index, row in enumerate(rows) if row is not None]
    members = {m.external_id: m for m in Member.objects.filter(external_id__in={rows[i].member for i in readable})}
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


def _conflict_record(*, batch, index, row, member):
    coupon = coupon_for_redemption(code=row.code, member=member)
    online = None
    if coupon is not None:
        online = (
            CouponRedemption.objects.filter(coupon=coupon, is_reversed=False)
            .only("pk", "store_id", "redeemed_at")
            .order_by("-redeemed_at", "-id")
            .first()
        )
    OfflineConflict.objects.create(
        batch=batch, row_index=index, code=coupon.code if coupon is not None else row.code, coupon=coupon,
        member=member, offline_store=batch.store, offline_redeemed_at=row.redeemed_at, online_redemption=online,
        online_store_id=online.store_id if online else None, online_redeemed_at=online.redeemed_at if online else None,
    )  # fmt: skip
