"""`Idempotency-Key` for POST views that redeem, complete, reverse, issue, award or record.

The key costs one statement on the common path, a first request: the work runs in a transaction, and
the key is inserted with the work's answer at its end, in the same transaction (`_record`). The stored
answer is read only when that insert conflicts, i.e. when an earlier request with the key committed
first: the work is then rolled back and the first answer replayed (a key reused with another body
answers 422 `idempotency_key_reused`). Two concurrent requests with one key never both take effect: the
later insert waits on the key's unique index until the first commits, then conflicts and rolls back its
own work. There is no "key in flight" answer to give: the second request waits for the first's outcome.
An expired key (older than `IDEMPOTENCY_KEY_TTL_HOURS`, not yet purged) is overwritten by the same insert.

A view whose one write statement can carry the key (the till's redeem, `idempotent(in_statement=True)`) pays no
statement for it on PostgreSQL: its one read looks the key up (`stored_answer_sql`; a live stored answer is replayed
before any work), and its write statement inserts the key with the answer as one more CTE (`KeyInStatement`). A
plain INSERT there: when a request with the same key committed first, the unique index refuses the whole statement,
nothing is written, and the stored answer is replayed. A refusal, which writes nothing, stores its answer with the
usual one statement; an expired key found by the read, and SQLite, take the transaction path above.

Only final answers are stored (`is_final_answer`): a success, or a refusal that says what became of
the request (400 invalid input, 403, 404, a 409 rule or state, 422). An answer that asks the client to
come back later (429 throttled, 408, 425) or a failure on our side (any 5xx, 503 included) rolls back
the work and stores nothing, so the retry with the same key executes; when an answer for the key is
already stored, that answer is replayed instead.
"""

import hashlib
import json
from contextlib import nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.http.request import RawPostDataException
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from config.errors import DomainError

from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class IdempotencyError(DomainError):
    code = "idempotency_error"
    title = "Idempotency-Key conflict"


def idempotent(handler=None, *, in_statement: bool = False):
    """Decorate a DRF view's `post` so that it honours the Idempotency-Key header.

    Works on DRF's path and on `config.api.lean`'s (a Django request and a response that keeps `data`).
    `in_statement`: the view reads the key in its one read and writes it in its one write (see the module's
    docstring); on SQLite it takes the transaction path.
    """
    if handler is None:
        return lambda handler: idempotent(handler, in_statement=in_statement)

    @wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if not key:
            return handler(view, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH or "\x00" in key:
            raise IdempotencyError(
                f"{HEADER} may be at most {MAX_KEY_LENGTH} characters, without NUL.",
                code="invalid_idempotency_key",
                http_status=400,
            )
        fingerprint = request_fingerprint(request)
        if in_statement and connection.vendor == "postgresql":
            pending = PendingKey(client_id=request.user.pk, key=key, fingerprint=fingerprint)
            answered = _in_statement(view, request, handler, pending, args, kwargs)
            if answered is not None:
                return answered
        return _in_transaction(view, request, handler, key, fingerprint, args, kwargs, wrapper)

    wrapper.idempotent = True
    return wrapper


def _in_statement(view, request, handler, pending, args, kwargs):
    """The request with its key read and written by the view's own statements; None when it must take the
    transaction path instead (the read found an expired key), before any work was done."""
    token = _pending.set(pending)
    try:
        # Under a caller's transaction (a test's), a refused statement must not abort it: a savepoint.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            try:
                response = handler(view, request, *args, **kwargs)
            except (KeyTaken, KeyNeedsTransaction, IntegrityError):
                raise
            except Exception as exc:  # a domain error is an answer to store; anything else re-raises
                # The work, and the key written with it, rolled back: the refusal's answer is stored below.
                pending.written = False
                response = view.handle_exception(exc)
    except KeyTaken as taken:
        return _replay(taken.stored, pending.fingerprint)
    except KeyNeedsTransaction:
        return None
    except IntegrityError as error:
        if not _is_key_conflict(error):
            raise
        # A request with the key committed first; this one wrote nothing.
        return _replay(_stored(client=request.user, key=pending.key, quiet=False), pending.fingerprint)
    finally:
        _pending.reset(token)
    if pending.written or not is_final_answer(response.status_code):
        return response
    if _record(client=request.user, key=pending.key, fingerprint=pending.fingerprint, response=response):
        return response
    # Refused, and meanwhile a request with the key stored its answer: that one stands.
    return _replay(_stored(client=request.user, key=pending.key, quiet=False), pending.fingerprint)


def _in_transaction(view, request, handler, key, fingerprint, args, kwargs, wrapper):
    """The work and the key's insert in one transaction; the stored answer read only when the insert conflicts."""
    with transaction.atomic():
        try:
            response = handler(view, request, *args, **kwargs)
        except Exception as exc:  # a domain error is an answer to store; anything else re-raises
            response = view.handle_exception(exc)
        final = is_final_answer(response.status_code)
        if final and _record(client=request.user, key=key, fingerprint=fingerprint, response=response):
            return response
        transaction.set_rollback(True)
    stored = _stored(client=request.user, key=key, quiet=not final)
    if stored is None:
        # Not final (nothing to store), or the conflicting key expired and was purged in between.
        return response if not final else wrapper(view, request, *args, **kwargs)
    return _replay(stored, fingerprint)


# The key of the request being answered in-statement, for the view's read and write to pick up.
_pending: ContextVar["PendingKey | None"] = ContextVar("idempotency_pending_key", default=None)
KEY_CONSTRAINT = "api_idempotency_client_key_unique"


@dataclass
class PendingKey:
    client_id: int
    key: str
    fingerprint: str
    written: bool = False  # the view's write statement inserted the key with its answer
    answer: object = field(default=None, repr=False)  # row -> (status, body) for the write statement


class KeyTaken(Exception):
    """The view's read found a live stored answer for the key: replay it, do nothing."""

    def __init__(self, stored):
        super().__init__("stored answer")
        self.stored = stored


class KeyNeedsTransaction(Exception):
    """The view's read found an expired answer under the key: the transaction path takes it over."""


def pending_key() -> PendingKey | None:
    """The key a view answering in-statement reads and writes itself, or None (no key, or the transaction path)."""
    return _pending.get()


def stored_answer_sql(alias: str = "idem") -> tuple[str, str]:
    """A LEFT JOIN of the stored answer for (client, key), and its columns, for the view's one read:
    `(join, columns)`; the join takes the client id and the key as its two parameters."""
    join = f"LEFT JOIN {_TABLE} {alias} ON {alias}.client_id = %s AND {alias}.key = %s"
    columns = (f"{alias}.fingerprint, {alias}.response_status, {alias}.response_body, "
               f"{alias}.response_content_type, {alias}.created_at")  # fmt: skip
    return join, columns


STORED_ANSWER_WIDTH = 5


def stored_answer_check(pending: PendingKey, row) -> None:
    """After the view's read: replay a live stored answer, or hand an expired one to the transaction path."""
    fingerprint, status, body, content_type, created_at = row
    if fingerprint is None:
        return
    if created_at < timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS):
        raise KeyNeedsTransaction()
    raise KeyTaken((fingerprint, status, json.loads(body) if isinstance(body, str) else body, content_type))


def key_insert_cte(pending: PendingKey, *, after: str, id_column: str, answer: tuple[int, dict]):
    """`keyed AS (INSERT …)` of the key with `answer` (status, body) for a data-modifying statement: written
    for the row the CTE `after` returned, with that row's `id_column` as the body's `"<id_column>"` (the one
    value of the answer the statement makes). A plain INSERT: a live key refuses the whole statement."""
    status, body = answer
    sql = f"""keyed AS (INSERT INTO {_TABLE}
    (client_id, key, fingerprint, response_status, response_body, response_content_type, created_at)
    SELECT %s, %s, %s, %s, jsonb_set(%s::jsonb, '{{{id_column}}}', to_jsonb({after}.id)), '', %s FROM {after}
    RETURNING id)"""
    params = [pending.client_id, pending.key, pending.fingerprint, status,
              JSONRenderer().render(body).decode(), timezone.now()]  # fmt: skip
    return sql, params


def pending_answer_write(*, status: int, body) -> None:
    """Store the answer under the request's key now, in the caller's transaction, for a view answering in-statement
    whose work is a transaction of several statements (a checkout's commit): call it just before the work's last
    statements. One statement; it overwrites an expired key. A live key (a request with it committed first, or is
    committing: the insert waits for it) raises `KeyTaken`, which rolls the work back and replays that answer.
    Nothing happens without a pending key (no key sent, or the transaction path, which stores the answer itself)."""
    pending = _pending.get()
    if pending is None or pending.written:
        return
    now = timezone.now()
    cutoff = now - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    params = [pending.client_id, pending.key, pending.fingerprint, status, JSONRenderer().render(body).decode(), "",
              now, cutoff]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_RECORD_SQL_BY_VENDOR[connection.vendor], params)
        written = cursor.fetchone() is not None
    if not written:
        with connection.cursor() as cursor:
            cursor.execute(_STORED_SQL, [pending.client_id, pending.key])
            fingerprint, stored_status, stored_body, content_type = cursor.fetchone()
        raise KeyTaken((fingerprint, stored_status, json.loads(stored_body) if isinstance(stored_body, str)
                        else stored_body, content_type))  # fmt: skip
    pending.written = True


def _is_key_conflict(error: IntegrityError) -> bool:
    diag = getattr(getattr(error, "__cause__", None), "diag", None)
    return getattr(diag, "constraint_name", None) == KEY_CONSTRAINT


# Answers about when to ask again, not about the request: Request Timeout, Too Early, Too Many Requests.
RETRY_LATER_STATUSES = frozenset({408, 425, 429})


def is_final_answer(status: int) -> bool:
    """Whether an answer settles the request, so a retry with its key must get the same answer."""
    return status < 500 and status not in RETRY_LATER_STATUSES


def request_fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.path.encode())
    try:
        digest.update(getattr(request, "_request", request).body)  # a DRF request wraps Django's
    except RawPostDataException:
        digest.update(json.dumps(request.data, sort_keys=True, default=str).encode())
    return digest.hexdigest()


_TABLE = IdempotencyRecord._meta.db_table
# Inserted with the answer, or over an expired row with the key; RETURNING says which: no row is a conflict
# with a live key (the ON CONFLICT clause waits for an uncommitted one). SQLite (3.35+) runs it as well.
_RECORD_SQL = f"""INSERT INTO {_TABLE} AS r
    (client_id, key, fingerprint, response_status, response_body, response_content_type, created_at)
VALUES (%s, %s, %s, %s, {{body}}, %s, %s)
ON CONFLICT (client_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,
    response_status = EXCLUDED.response_status, response_body = EXCLUDED.response_body,
    response_content_type = EXCLUDED.response_content_type, created_at = EXCLUDED.created_at
WHERE r.created_at < %s
RETURNING id"""
_RECORD_SQL_BY_VENDOR = {"postgresql": _RECORD_SQL.format(body="%s::jsonb")}
_STORED_SQL = f"""SELECT fingerprint, response_status, response_body, response_content_type
FROM {_TABLE} WHERE client_id = %s AND key = %s"""


def answer_json(response) -> str:
    """The answer's body as JSON text: a lean response's own bytes, or DRF's JSON rendering of its data."""
    if getattr(response, "is_lean_json", False):
        return response.content.decode()
    return JSONRenderer().render(response.data).decode() or "null"


def _record(*, client, key, fingerprint, response) -> bool:
    """Store the answer under the key in one statement; False when an earlier request's key is live."""
    now = timezone.now()
    cutoff = now - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    content_type = getattr(response, "content_type", None) or ""  # DRF: an explicit one only
    sql = _RECORD_SQL_BY_VENDOR.get(connection.vendor) or _RECORD_SQL.format(body="%s")
    adapt = connection.ops.adapt_datetimefield_value
    params = [client.pk, key, fingerprint, response.status_code, answer_json(response), content_type, adapt(now),
              adapt(cutoff)]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


def _stored(*, client, key, quiet: bool):
    """The stored (fingerprint, status, body, content type) for the key, or None.

    `quiet`: after an answer that is not final, a database that cannot answer leaves that answer standing.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute(_STORED_SQL, [client.pk, key])
            row = cursor.fetchone()
    except DatabaseError:
        if quiet:
            return None
        raise
    if row is None:
        return None
    fingerprint, status, body, content_type = row
    return fingerprint, status, json.loads(body) if isinstance(body, str) else body, content_type


def _replay(stored, fingerprint):
    stored_fingerprint, status, body, content_type = stored
    if stored_fingerprint != fingerprint:
        raise IdempotencyError(
            "This Idempotency-Key was used with a different request.",
            code="idempotency_key_reused",
            http_status=422,
        )
    return Response(body, status=status, content_type=content_type or None, headers={"Idempotent-Replayed": "true"})
