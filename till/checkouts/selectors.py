"""Reads for checkouts: what other checkouts hold, a checkout with its holds, the open holds."""

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from config.rawrows import ModelColumns
from members.models import Member, OrgEntity
from till.checkouts.models import Checkout, CheckoutHold

CHECKOUT = ModelColumns(Checkout, "c")
MEMBER = ModelColumns(Member, "m")
STORE = ModelColumns(OrgEntity, "s")
# Plain SQL, converted as the ORM converts it (`config.rawrows`): the commit runs it on every payment, and the
# queryset's compilation cost more than the statement.
CHECKOUT_WITH_MEMBER_AND_STORE_SQL = f"""SELECT {CHECKOUT.sql}, {MEMBER.sql}, {STORE.sql}
FROM {Checkout._meta.db_table} c
JOIN {Member._meta.db_table} m ON m.id = c.member_id
JOIN {OrgEntity._meta.db_table} s ON s.id = c.store_id
WHERE c.id = %s"""


def offer_responses_held(*, ids, other_than: int | None) -> set[int]:
    """Of these offer responses, the ones a live hold of another checkout keeps (a lapsed hold does not count)."""
    holds = CheckoutHold.objects.filter(
        offer_response_id__in=list(ids),
        released_at__isnull=True,
        checkout__status=Checkout.Status.HELD,
        checkout__expires_at__gt=timezone.now(),
    )
    if other_than is not None:
        holds = holds.exclude(checkout_id=other_than)
    return set(holds.values_list("offer_response_id", flat=True))


def checkout_queryset() -> QuerySet[Checkout]:
    return Checkout.objects.select_related("member", "store")


CHECKOUT_WITH_MEMBER_AND_STORE_WIDTH = CHECKOUT.width + MEMBER.width + STORE.width


def checkout_for_update(*, pk: int) -> Checkout:
    """The checkout's row with its member and store, locked (not theirs): its commit, cancel and expiry queue here.
    `Checkout.DoesNotExist` when there is none."""
    sql = CHECKOUT_WITH_MEMBER_AND_STORE_SQL
    if connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF c"
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    if row is None:
        raise Checkout.DoesNotExist(f"No checkout {pk}.")
    return checkout_with_member_and_store(row)


def checkout_with_member_and_store(row) -> Checkout:
    """The checkout, with its member and store, from a row of `CHECKOUT_WITH_MEMBER_AND_STORE_SQL`'s columns."""
    checkout = CHECKOUT.build(row)
    checkout.member = MEMBER.build(row, CHECKOUT.width)
    checkout.store = STORE.build(row, CHECKOUT.width + MEMBER.width)
    return checkout


def checkouts_due_for_expiry(*, now=None) -> QuerySet[Checkout]:
    return Checkout.objects.filter(status=Checkout.Status.HELD, expires_at__lte=now or timezone.now())
