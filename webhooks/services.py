"""Endpoints (set up by marketers), the dispatcher that fans events out to them, and the sender.

The dispatcher takes undispatched events in id order and makes, set-wise, one delivery per endpoint that
wants the event's type. The sender claims an endpoint's due deliveries (the oldest pending one of each object
only, so deliveries of one object go in order), POSTs them side by side, and records each answer; a failure is
retried on WEBHOOK_RETRY_SCHEDULE with jitter, then the delivery fails. No network call is made inside a
transaction: a claim is a lease (`claimed_until`), so a worker killed mid-send leaves the delivery to be
claimed again once the lease ends (at least once; receivers dedupe on `webhook-id`).
"""

import math
import random
import secrets
import time
from base64 import b64encode
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from audit.models import AuditEvent
from audit.services import audit_created, audit_deleted, audit_record, audit_updated
from config.actors import Actor
from config.lookups import int_array_literal  # also registers __in_array
from config.tasks import enqueue_on_commit

from . import lifecycle
from .events import EVENT_TYPES
from .exceptions import WebhookEndpointError
from .guard import url_check
from .models import Delivery, DeliveryAttempt, Endpoint, Event
from .payloads import thin_payloads_fill
from .sending import Answer, event_post

Status = Delivery.Status
DISPATCH_BATCH = 5000
SEND_BATCH = 200
SEND_BUDGET_SECONDS = 20  # a send task hands over to the next one after this, so one endpoint cannot hog a worker
AUDITED_FIELDS = ("url", "description", "events", "active", "disabled_reason")


# Endpoints ---------------------------------------------------------------------------------------------------


def endpoint_create(*, url: str, events: list[str], actor: Actor, active: bool = True, description: str = ""):
    """A new endpoint and its secret, returned here once (`whsec_…`, Standard Webhooks' form)."""
    url_check(url)
    events = _events_clean(events)
    secret = "whsec_" + b64encode(secrets.token_bytes(32)).decode()
    with transaction.atomic():
        endpoint = Endpoint.objects.create(url=url, events=events, active=active, description=description,
                                           secret=secret)  # fmt: skip
        audit_created(actor=actor, obj=endpoint, after=_audited(endpoint))
    return endpoint, secret


def endpoint_update(*, endpoint: Endpoint, actor: Actor, **changes) -> Endpoint:
    """Change url, events, active or description. Turning an endpoint on clears why it was disabled."""
    if "url" in changes:
        url_check(changes["url"])
    if "events" in changes:
        changes["events"] = _events_clean(changes["events"])
    unknown = set(changes) - {"url", "events", "active", "description"}
    if unknown:
        raise TypeError(f"Not changeable: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        before = _audited(endpoint)
        for name, value in changes.items():
            setattr(endpoint, name, value)
        if changes.get("active"):
            endpoint.disabled_reason, endpoint.disabled_at, endpoint.failing_since = "", None, None
        endpoint.save()
        audit_updated(actor=actor, obj=endpoint, before=before, after=_audited(endpoint))
    if endpoint.active:
        enqueue_on_commit_deliver(endpoint.pk)
    return endpoint


def endpoint_delete(*, endpoint: Endpoint, actor: Actor) -> None:
    with transaction.atomic():
        before, pk = _audited(endpoint), endpoint.pk
        endpoint.delete()
        audit_deleted(actor=actor, obj=endpoint, before=before, object_id=pk)


def endpoint_disable(*, endpoint_id: int, reason: str, actor: Actor) -> bool:
    """Turn an endpoint off with the reason shown in the admin; False when it was off already."""
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint_id)
        if not endpoint.active:
            return False
        before = _audited(endpoint)
        endpoint.active, endpoint.disabled_reason, endpoint.disabled_at = False, reason[:300], timezone.now()
        endpoint.save(update_fields=["active", "disabled_reason", "disabled_at"])
        audit_updated(actor=actor, obj=endpoint, before=before, after=_audited(endpoint),
                      summary="Disabled: " + reason)  # fmt: skip
    return True


def _audited(endpoint: Endpoint) -> dict:
    return {name: getattr(endpoint, name) for name in AUDITED_FIELDS}  # never the secret


def _events_clean(events) -> list[str]:
    if not isinstance(events, list | tuple) or not events:
        raise WebhookEndpointError("Choose at least one event type.", reasons=["events_required"])
    unknown = sorted({str(name) for name in events} - set(EVENT_TYPES))
    if unknown:
        raise WebhookEndpointError(f"Unknown event types: {', '.join(unknown)}.", reasons=["event_type_unknown"])
    return sorted(set(events), key=EVENT_TYPES.index)


# Dispatch ----------------------------------------------------------------------------------------------------


def events_dispatch(*, batch_size: int = DISPATCH_BATCH) -> tuple[int, set[int]]:
    """Fan the oldest undispatched events out to the active endpoints that want them: one INSERT … SELECT
    per endpoint. Returns how many events were dispatched and the endpoints that got deliveries."""
    endpoints = list(Endpoint.objects.filter(active=True).values_list("pk", "events"))
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Event.objects.select_for_update(skip_locked=True)
            .filter(dispatched_at__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return 0, set()
        # Only the events this run locked: another dispatcher's locked events may lie between them, and writing
        # one of those would wait for that dispatcher while it waits for ours (a deadlock).
        low, high = ids[0], ids[-1]
        claimed, claimed_params = _claimed_condition(ids)
        served = set()
        with connection.cursor() as cursor:
            for endpoint_id, types in endpoints:
                if not types:
                    continue
                cursor.execute(_FAN_OUT_SQL.format(claimed=claimed, types=", ".join(["%s"] * len(types))),
                               [endpoint_id, Status.PENDING, now, now, low, high, *claimed_params, *types])  # fmt: skip
                if cursor.rowcount:
                    served.add(endpoint_id)
        Event.objects.filter(pk__gte=low, pk__lte=high, pk__in_array=ids).update(dispatched_at=now)
        for endpoint_id in served:
            enqueue_on_commit_deliver(endpoint_id)
    return len(ids), served


_FAN_OUT_SQL = f"""INSERT INTO {Delivery._meta.db_table}
    (endpoint_id, event_id, subject, status, attempts, next_attempt_at, error, created_at)
SELECT %s, e.id, e.object_type || ':' || e.object_id, %s, 0, %s, '', %s FROM {Event._meta.db_table} e
WHERE e.id BETWEEN %s AND %s{{claimed}} AND e.dispatched_at IS NULL AND e.type IN ({{types}})
ON CONFLICT DO NOTHING"""


def _claimed_condition(ids: list[int]) -> tuple[str, list]:
    """The fan-out's condition to the events the run locked, and its parameter: on PostgreSQL the ids as one array
    literal; SQLite, which takes no row locks and runs one writer at a time, has only the range."""
    if connection.vendor != "postgresql":
        return "", []
    return " AND e.id = ANY(%s::bigint[])", [int_array_literal(ids)]


def enqueue_on_commit_deliver(endpoint_id: int) -> None:
    from .tasks import endpoint_deliver_task

    enqueue_on_commit(endpoint_deliver_task, endpoint_id=endpoint_id)


def deliveries_pump() -> int:
    """The beat's backstop: dispatch what is left, and wake a sender for each endpoint with due deliveries
    (retries whose time has come, claims whose worker died). Returns how many endpoints were woken."""
    while events_dispatch()[0]:
        pass
    now = timezone.now()
    due = (
        Delivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now, endpoint__active=True)
        .values_list("endpoint_id", flat=True)
        .distinct()
    )
    woken = list(due)
    for endpoint_id in woken:
        enqueue_on_commit_deliver(endpoint_id)
    return len(woken)


# Sending -----------------------------------------------------------------------------------------------------


def endpoint_deliver(*, endpoint_id: int, budget_seconds: float = SEND_BUDGET_SECONDS) -> int:
    """Send the endpoint's due deliveries until none is due or the budget is spent; returns how many were sent
    (successful or not). Queues itself again when it stopped with deliveries still due."""
    endpoint = Endpoint.objects.filter(pk=endpoint_id, active=True).first()
    if endpoint is None:
        return 0
    try:
        address = url_check(endpoint.url)
    except WebhookEndpointError as error:
        endpoint_disable(endpoint_id=endpoint.pk, reason=f"Its address is not allowed: {error.message}",
                         actor=Actor.system("webhooks"))  # fmt: skip
        return 0
    signer = Webhook(endpoint.secret)
    deadline = time.monotonic() + budget_seconds
    sent, after = 0, 0
    with ThreadPoolExecutor(max_workers=settings.WEBHOOK_DELIVERY_CONCURRENCY) as pool:
        while True:
            batch = _claim(endpoint_id=endpoint.pk, after=after)
            if not batch:
                if not after:
                    return sent
                after = 0  # once more from the start, for the retries that came due meanwhile
                continue
            after = batch[-1].event_id
            thin_payloads_fill([delivery.event for delivery in batch])
            answers = list(pool.map(lambda d: _post(endpoint, signer, d, address), batch))
            _record(endpoint=endpoint, batch=batch, answers=answers)
            sent += len(batch)
            if time.monotonic() > deadline:
                enqueue_on_commit_deliver(endpoint.pk)
                return sent


def _post(endpoint, signer, delivery, address) -> Answer:
    return event_post(url=endpoint.url, signer=signer, event=delivery.event, timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
                      address=address)  # fmt: skip


# Statuses are written into the text, not bound: a prepared statement's generic plan cannot use the partial
# indexes on pending deliveries for `status = $n`.
_DUE_SQL = f"""SELECT id, subject, event_id FROM {Delivery._meta.db_table}
WHERE endpoint_id = %s AND status = '{Status.PENDING}' AND event_id > %s AND next_attempt_at <= %s
  AND (claimed_until IS NULL OR claimed_until < %s)
ORDER BY event_id LIMIT %s"""
# The oldest pending delivery of each of the candidates' objects: a candidate that is not it waits its turn.
# By subject alone, so that only the subject index can serve it (with the endpoint in the condition, a planner
# short of statistics picked the endpoint's index and read all of its pending deliveries for every batch).
_HEADS_SQL = f"""SELECT subject, endpoint_id, MIN(event_id) FROM {Delivery._meta.db_table}
WHERE status = '{Status.PENDING}' AND subject IN ({{subjects}}) GROUP BY subject, endpoint_id"""


def _claim(*, endpoint_id: int, after: int) -> list[Delivery]:
    """The oldest due delivery of each object (an earlier pending one, even waiting for its retry, holds the
    later ones back) after event `after`, claimed for as long as sending them may take. The sender moves `after`
    along: a scan from the start would step over every delivery it finished, which stay in the pending index
    until vacuum can remove them. Two plain index reads rather than one anti-join, whose plan went wrong (a
    scan of every pending delivery per candidate) on a table whose statistics lagged behind a burst."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_DUE_SQL, [endpoint_id, after, now, now, SEND_BATCH])
        candidates = cursor.fetchall()
        if not candidates:
            return []
        subjects = sorted({subject for _, subject, _ in candidates})
        cursor.execute(_HEADS_SQL.format(subjects=", ".join(["%s"] * len(subjects))), subjects)
        heads = {subject: first for subject, endpoint, first in cursor.fetchall() if endpoint == endpoint_id}
    ids = [pk for pk, subject, event_id in candidates if heads.get(subject) == event_id]
    if not ids:  # every candidate waits behind an earlier one: look further along
        return _claim(endpoint_id=endpoint_id, after=candidates[-1][2])
    rounds = math.ceil(len(ids) / settings.WEBHOOK_DELIVERY_CONCURRENCY) + 1
    until = timezone.now() + timedelta(seconds=2 * settings.WEBHOOK_TIMEOUT_SECONDS * rounds)
    taken = lifecycle.deliveries_claim(ids=ids, until=until)
    return list(Delivery.objects.filter(pk__in=taken).select_related("event").order_by("event_id"))


def _record(*, endpoint: Endpoint, batch: list[Delivery], answers: list[Answer]) -> None:
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    now = timezone.now()
    delivered, retrying, failed, attempts = [], [], [], []
    for delivery, answer in zip(batch, answers, strict=True):
        delivery.response_code, delivery.duration_ms = answer.response_code, answer.duration_ms
        delivery.error = answer.error
        attempts.append(DeliveryAttempt(delivery=delivery, number=delivery.attempts, at=now, succeeded=answer.succeeded,
                                        response_code=answer.response_code, duration_ms=answer.duration_ms,
                                        error=answer.error))  # fmt: skip
        if answer.succeeded:
            delivered.append(delivery)
        elif delivery.attempts > len(schedule):
            failed.append(delivery)
        else:
            delivery.next_attempt_at = now + timedelta(seconds=retry_delay(delivery.attempts))
            retrying.append(delivery)
    with transaction.atomic():
        DeliveryAttempt.objects.bulk_create(attempts)
        lifecycle.deliveries_record(delivered=delivered, retrying=retrying, failed=failed)
        if delivered and not (retrying or failed):
            Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
        elif retrying or failed:
            Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    if failed:
        _disable_if_failing(endpoint_id=endpoint.pk, last=failed[-1])


def retry_delay(attempts: int) -> float:
    """Seconds before the try after `attempts` failed ones: WEBHOOK_RETRY_SCHEDULE, each within ±20% of jitter
    so the retries of many deliveries that failed together do not arrive together."""
    base = settings.WEBHOOK_RETRY_SCHEDULE[attempts - 1]
    return base * random.uniform(0.8, 1.2)  # jitter, not secrecy


def _disable_if_failing(*, endpoint_id: int, last: Delivery) -> None:
    """A delivery ran out of tries; an endpoint that has not answered well for WEBHOOK_DISABLE_AFTER_HOURS is
    turned off, with the reason the admin shows."""
    since = timezone.now() - timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
    failing = Endpoint.objects.filter(pk=endpoint_id, failing_since__lte=since).values_list("failing_since", flat=True)
    first = failing.first()
    if first is None:
        return
    answer = f"HTTP {last.response_code}" if last.response_code else (last.error or "no answer")
    reason = f"Every delivery has failed since {first:%Y-%m-%d %H:%M} UTC (last: {answer})."
    endpoint_disable(endpoint_id=endpoint_id, actor=Actor.system("webhooks"), reason=reason)


def delivery_retry(*, delivery: Delivery, actor: Actor) -> Delivery:
    """Send a delivery again now, with a fresh set of tries (a marketer's retry button)."""
    with transaction.atomic():
        old = delivery.status
        lifecycle.delivery_requeue(delivery=delivery)
        audit_record(actor=actor, action=AuditEvent.Action.UPDATE, obj=delivery.endpoint,
                     changes={f"delivery[{delivery.pk}].status": [old, Status.PENDING]},
                     summary=f"Delivery {delivery.pk} of event {delivery.event_id} sent again")  # fmt: skip
        enqueue_on_commit_deliver(delivery.endpoint_id)
    return delivery


# Retention ---------------------------------------------------------------------------------------------------


def events_purge(*, older_than_days: int | None = None, batch_size: int = 10_000) -> int:
    """Delete events older than the retention with their deliveries and attempts, oldest id first, in batches
    (short locks); ids grow with time, so the first young event ends the purge. An event with a delivery still
    pending is kept."""
    days = settings.WEBHOOK_EVENT_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    purged, last_pk = 0, 0
    while True:
        with transaction.atomic():
            oldest = list(
                Event.objects.filter(pk__gt=last_pk).order_by("pk").values_list("pk", "created_at")[:batch_size]
            )
            old = [pk for pk, created_at in oldest if created_at < cutoff]
            if not old:
                return purged
            last_pk = old[-1]
            pending = Delivery.objects.filter(event_id__in=old, status=Status.PENDING).values_list(
                "event_id", flat=True
            )
            ids = sorted(set(old) - set(pending))
            if ids:
                DeliveryAttempt.objects.filter(delivery__event_id__in=ids)._raw_delete(connection.alias)
                Delivery.objects.filter(event_id__in=ids)._raw_delete(connection.alias)
                purged += Event.objects.filter(pk__in=ids)._raw_delete(connection.alias)
        if len(old) < len(oldest):
            return purged
