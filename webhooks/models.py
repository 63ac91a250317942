from django.db import models
from django.utils import timezone

from config.text import code_as_words

from .events import EVENT_TYPE_CHOICES


class Endpoint(models.Model):
    """A receiver another system runs: the events it wants, and the secret its deliveries are signed with.

    The secret is kept (it signs every delivery) but shown only once, when the endpoint is created.
    """

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="The event types this endpoint receives")
    active = models.BooleanField(default=True)
    secret = models.CharField(max_length=100, editable=False)
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True, help_text="First failed attempt since the last success")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = "webhook endpoint"

    def __str__(self):
        return self.description or self.url

    @property
    def secret_hint(self) -> str:
        return f"{self.secret[:10]}…" if self.secret else ""


class Event(models.Model):
    """The outbox: one row per thing that happened, written in the transaction of the change.

    Every event is written, subscribed or not; `dispatched_at` is set when the dispatcher has made a delivery
    for each endpoint that wanted it. Rows older than WEBHOOK_EVENT_RETENTION_DAYS are purged, oldest id first
    (ids grow with time, so no index on `created_at`: every index is paid for on every bulk issuance).
    """

    type = models.CharField(max_length=40, choices=EVENT_TYPE_CHOICES)
    object_type = models.CharField(max_length=40, help_text="What the event is about, e.g. coupon")
    object_id = models.CharField(max_length=64)
    # Null for a thin event until it is first sent (webhooks/outbox.py): its payload is then built and kept.
    data = models.JSONField(default=dict, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "webhook event"
        indexes = [
            models.Index(
                fields=["id"], name="webhooks_event_undispatched", condition=models.Q(dispatched_at__isnull=True)
            ),
        ]

    def __str__(self):
        return f"{code_as_words(self.type)}: {code_as_words(self.object_type).lower()} {self.object_id}"

    @property
    def public_id(self) -> str:
        return f"evt_{self.pk}"


PENDING = models.Q(status="pending")


class Delivery(models.Model):
    """One event for one endpoint: sent until the receiver answers 2xx, or its tries run out."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    # "<object_type>:<object_id>": deliveries of one subject to one endpoint go in event order.
    subject = models.CharField(max_length=110)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhooks_delivery_once_per_endpoint"),
        ]
        indexes = [
            models.Index(fields=["endpoint", "event"], name="webhooks_delivery_due", condition=PENDING),
            models.Index(fields=["subject", "event"], name="webhooks_delivery_subject", condition=PENDING),
        ]

    def __str__(self):
        return f"{self.event} to {self.endpoint}"


class DeliveryAttempt(models.Model):
    """One POST of a delivery and what the receiver answered; kept (read-only in the admin) until the purge."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)
    succeeded = models.BooleanField()
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["delivery", "number", "id"]
        verbose_name = "webhook delivery attempt"

    def __str__(self):
        return f"attempt {self.number} of {self.delivery_id}"
