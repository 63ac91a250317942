"""`Idempotency-Key` for POST views that redeem, complete, reverse, issue, award or record.

The key costs one statement on the common path, a first request: the work runs in a transaction, and
the key is inserted with the work's answer at its end, in the same transaction (`_record`). The stored
answer is read only when that insert conflicts, i.e. when an earlier request with the key committed
first: the work is then rolled back and the first answer replayed (a key reused with another body
answers 422 `idempotency_key_reused`). Two concurrent requests with one key never both take effect: the
later insert waits on the key's unique index until the first commits, then conflicts and rolls back its
own work. There is no "key in flight" answer to give: the second request waits for the first's outcome.
An expired key (older than `IDEMPOTENCY_KEY_TTL_HOURS`, not yet purged) is overwritten by the same insert.

Only final answers are stored (`is_final_answer`): a success, or a refusal that says what became of
the request (400 invalid input, 403, 404, a 409 rule or state, 422). An answer that asks the client to
come back later (429 throttled, 408, 425) or a failure on our side (any 5xx, 503 included) rolls back
the work and stores nothing, so the retry with the same key executes; when an answer for the key is
already stored, that answer is replayed instead.
"""

import hashlib
import json
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.db import DatabaseError, connection, transaction
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


def idempotent(handler):
    """Decorate a DRF view's `post` so that it honours the Idempotency-Key header.

    Works on DRF's path and on `config.api.lean`'s (a Django request and a response that keeps `data`).
    """

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

    wrapper.idempotent = True
    return wrapper


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
