"""`Idempotency-Key` for POST views that redeem, complete, reverse, issue, award or record.

The key row is inserted in the same transaction as the work it guards. A second request with the
same key waits on the key's unique index until the first commits and then replays the stored
answer, so two concurrent requests with one key never both execute (there is no "key in flight"
answer to give: the second request waits for the first's outcome). A key reused with another body
answers 422 `idempotency_key_reused`.

Only final answers are stored (`is_final_answer`): a success, or a refusal that says what became of
the request (400 invalid input, 403, 404, a 409 rule or state, 422). An answer that asks the client to
come back later (429 throttled, 408, 425) or a failure on our side (any 5xx, 503 included) rolls back
the key with the work, so the retry with the same key executes.
"""

import hashlib
import json
import uuid
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.db import transaction
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
        if len(key) > MAX_KEY_LENGTH:
            raise IdempotencyError(
                f"{HEADER} may be at most {MAX_KEY_LENGTH} characters.",
                code="invalid_idempotency_key",
                http_status=400,
            )
        fingerprint = request_fingerprint(request)
        with transaction.atomic():
            record, owned = _claim(client=request.user, key=key, fingerprint=fingerprint)
            if not owned:
                return _replay(record, fingerprint)
            try:
                response = handler(view, request, *args, **kwargs)
            except Exception as exc:  # a domain error is an answer to store; anything else re-raises
                response = view.handle_exception(exc)
            if not is_final_answer(response.status_code):
                transaction.set_rollback(True)
                return response
            _store(record, response)
        return response

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


def _claim(*, client, key, fingerprint):
    """Insert the key for this attempt, or find the committed row of an earlier one."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    IdempotencyRecord.objects.filter(client=client, key=key, created_at__lt=cutoff).delete()
    attempt = uuid.uuid4()
    IdempotencyRecord.objects.bulk_create(
        [IdempotencyRecord(client=client, key=key, fingerprint=fingerprint, attempt=attempt)],
        ignore_conflicts=True,
    )
    record = IdempotencyRecord.objects.get(client=client, key=key)
    return record, record.attempt == attempt


def _replay(record, fingerprint):
    if record.fingerprint != fingerprint:
        raise IdempotencyError(
            "This Idempotency-Key was used with a different request.",
            code="idempotency_key_reused",
            http_status=422,
        )
    return Response(
        record.response_body,
        status=record.response_status,
        content_type=record.response_content_type or None,
        headers={"Idempotent-Replayed": "true"},
    )


def _store(record, response):
    record.response_status = response.status_code
    record.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
    record.response_content_type = getattr(response, "content_type", None) or ""  # DRF: an explicit one only
    record.save(update_fields=["response_status", "response_body", "response_content_type"])
