"""Code guessing: unknown codes tried through the till's calls, counted per POS client and per store.

Every unknown code a POS client sends (validate, redeem, `GET /coupons/{code}`) counts once under the
client and once under each store it was tried for: the store a request names (a till counts under its
store), or for `GET /coupons/{code}`, which names none, every store in the client's scope. So a store's
tills sharing one token, or many tokens used in one store, share one allowance. Once a client's or a
store's unknown codes in the current minute reach their limit (`COUPON_UNKNOWN_CODES_PER_MINUTE`,
`COUPON_UNKNOWN_CODES_PER_STORE_PER_MINUTE`, default 20 each), every validation, redemption and code
lookup by that client or at that store answers 429 `too_many_unknown_codes` with Retry-After until the
minute ends: a blocked caller learns nothing about any code, known or not. The count and the limit are
one statement (`config.api.attempts`): however many guesses race, exactly the limit are answered as
unknown and the rest get 429. Each limit reached is recorded once (`UnknownCodeBurst`, in the admin).
Known codes that fail a rule never count, and cost nothing here: the till's one read checks the limits.
"""

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from config.api import attempts
from coupons.models import UnknownCodeBurst
from members.models import OrgEntity

CLIENT_PREFIX, STORE_PREFIX = "pos-client:", "store:"


def client_limit() -> int:
    return int(settings.COUPON_UNKNOWN_CODES_PER_MINUTE)


def store_limit() -> int:
    return int(settings.COUPON_UNKNOWN_CODES_PER_STORE_PER_MINUTE)


def client_key(client_id: int) -> str:
    return f"{CLIENT_PREFIX}{client_id}"


def store_key(store_id: int) -> str:
    return f"{STORE_PREFIX}{store_id}"


def store_key_sql(alias: str) -> str:
    """The store key of the org entity row `alias` in SQL (a till's is its store's); NULL for no row."""
    till = f"{alias}.type = '{OrgEntity.Type.TILL}' AND {alias}.parent_id IS NOT NULL"
    return f"'{STORE_PREFIX}' || CAST(CASE WHEN {till} THEN {alias}.parent_id ELSE {alias}.id END AS TEXT)"


def guard_store_id(entity: OrgEntity) -> int:
    """The store an org entity's guesses count under: a till's parent store, else the entity itself."""
    if entity.type == OrgEntity.Type.TILL and entity.parent_id is not None:
        return entity.parent_id
    return entity.pk


def scope_store_ids(client) -> list[int]:
    """The stores a client's guesses count under when a request names none: all of its scope."""
    return sorted({guard_store_id(entity) for entity in client.stores.all()})


def guard_keys(*, client, store_ids) -> list[str]:
    return [client_key(client.pk), *(store_key(pk) for pk in store_ids)]


def unknown_code_note(*, client, store_ids=(), code: str, now: datetime | None = None) -> int | None:
    """Count one unknown code for the client and the stores.

    Returns None when counted (the caller answers that the code is unknown), or the seconds to wait when
    the client or a store had already reached its limit: nothing is counted and the caller answers 429.
    """
    now = now or timezone.now()
    limits = {client_key(client.pk): client_limit(), **{store_key(pk): store_limit() for pk in store_ids}}
    counted = attempts.attempt_count(limits=limits, now=now)
    if counted.refused:
        return attempts.retry_after_seconds(now)
    for key in sorted(counted.reached):
        _burst_record(client=client, store_ids=store_ids, key=key, limit=limits[key], code=code, now=now)
    return None


def _burst_record(*, client, store_ids, key, limit, code, now):
    window = attempts.window_start(now)
    defaults = {"limit": limit, "last_code_tried": code[:64], "first_blocked_at": now}
    if key.startswith(STORE_PREFIX):
        store_id = int(key.removeprefix(STORE_PREFIX))
        UnknownCodeBurst.objects.get_or_create(
            scope=UnknownCodeBurst.Scope.STORE, store_id=store_id, window_start=window,
            defaults={**defaults, "client": client},
        )  # fmt: skip
    else:
        store_id = store_ids[0] if len(store_ids) == 1 else None
        UnknownCodeBurst.objects.get_or_create(
            scope=UnknownCodeBurst.Scope.CLIENT, client=client, window_start=window,
            defaults={**defaults, "store_id": store_id},
        )  # fmt: skip
