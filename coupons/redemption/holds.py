"""A till checkout's hold on a coupon (`till.checkouts`): taken and released with one conditional UPDATE each.

A hold is two columns of the coupon, the checkout and the moment it lapses, so the redemption rules read it
with the coupon and the till's one-statement redemption checks it in its move (`statements.HOLD_GUARD`).
Of many checkouts racing for one coupon, the first UPDATE takes it; the others wait on the row, find the
condition no longer true and take nothing. Only a once-only issued coupon is held: a multi-use coupon is
shared by design, and its redemption at commit locks its row and applies the rules then.
"""

from datetime import datetime

from django.db import connection

from coupons.models import Coupon


def coupon_holdable(coupon: Coupon) -> bool:
    return not coupon.series.multi_use


def coupon_hold(*, coupon_id: int, checkout_id: int, until: datetime, now: datetime) -> bool:
    """Hold an issued coupon for `checkout_id` until `until`, unless another checkout's hold is still live."""
    held = Coupon.objects.filter(pk=coupon_id, status=Coupon.Status.ISSUED).exclude(
        held_by_checkout__isnull=False, held_until__gt=now
    )
    return bool(held.update(held_by_checkout=checkout_id, held_until=until))


def coupons_hold(*, coupons: list[tuple[int, str]], checkout_id: int, until: datetime, now: datetime) -> bool:
    """`coupon_hold` for several (id, code) coupons in one statement: all of them held, or False (the caller rolls
    back) when another checkout's live hold or a move took one of them first."""
    if not coupons:
        return True
    sql, params = coupons_hold_sql(coupons=coupons, checkout_id_sql="%s", until=until, now=now)
    with connection.cursor() as cursor:
        cursor.execute(sql, [checkout_id, *params])
        return cursor.rowcount == len({pk for pk, _ in coupons})


def coupons_hold_sql(*, coupons: list[tuple[int, str]], checkout_id_sql: str, until: datetime, now: datetime):
    """The UPDATE of `coupons_hold` and its parameters, for the checkout `checkout_id_sql`
    (an SQL expression, which may be a `%s` whose value comes before the parameters): a statement of its own, or a
    CTE of the statement that writes the checkout. The rows are locked in id order (the inner `FOR UPDATE`), so
    two checkouts holding the same coupons never wait on each other in a circle; the lock's re-check sees a hold
    taken meanwhile. The code as well: coupons are partitioned on it (PostgreSQL). All of them were held when it
    moves as many rows as there are distinct ids (a CTE adds `RETURNING id` to count them)."""
    ids = sorted({pk for pk, _ in coupons})
    codes = sorted({code for _, code in coupons})
    table = Coupon._meta.db_table
    in_ids, in_codes = ", ".join(["%s"] * len(ids)), ", ".join(["%s"] * len(codes))
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = f"""UPDATE {table} SET held_by_checkout = {checkout_id_sql}, held_until = %s
WHERE code IN ({in_codes}) AND id IN (
    SELECT id FROM {table} WHERE id IN ({in_ids}) AND code IN ({in_codes}) AND status = %s
    AND NOT (held_by_checkout IS NOT NULL AND held_until > %s) ORDER BY id{lock})"""
    adapt = connection.ops.adapt_datetimefield_value
    return sql, [adapt(until), *codes, *ids, *codes, Coupon.Status.ISSUED, adapt(now)]


def coupons_hold_release(*, coupon_ids, checkout_ids) -> int:
    """Release the holds these checkouts have on these coupons (a hold another checkout took since stays)."""
    return Coupon.objects.filter(pk__in=list(coupon_ids), held_by_checkout__in=list(checkout_ids)).update(
        held_by_checkout=None, held_until=None
    )


def coupon_series_ids(*, coupon_ids) -> dict[int, int]:
    """Each coupon's series, for callers that take series rows in one order."""
    return dict(Coupon.objects.filter(pk__in=list(coupon_ids)).values_list("pk", "series_id"))
