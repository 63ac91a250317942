from django.db import models
from django.db.models import Q
from django.utils import timezone


class Offer(models.Model):
    """An offer as the marketer sets it up (seed 001). Components hang off it in their own models."""

    class FulfillmentFlow(models.TextChoices):
        STANDARD = "standard", "Standard"
        SHIPPING = "shipping", "Shipping (processing → shipping → completed)"

    external_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=100, blank=True, db_index=True)
    publish_at = models.DateTimeField(null=True, blank=True)
    expire_at = models.DateTimeField(null=True, blank=True)
    usage_start = models.DateTimeField(null=True, blank=True, help_text="Both usage dates empty: Always.")
    usage_end = models.DateTimeField(null=True, blank=True)
    requires_activation = models.BooleanField(default=False)
    allow_multiple_responses = models.BooleanField(default=False)
    fulfillment_flow = models.CharField(
        max_length=10, choices=FulfillmentFlow.choices, default=FulfillmentFlow.STANDARD
    )
    discontinued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(publish_at__isnull=True)
                | Q(expire_at__isnull=True)
                | Q(expire_at__gt=models.F("publish_at")),
                name="offers_offer_expire_after_publish",
            ),
            models.CheckConstraint(
                condition=Q(usage_start__isnull=True)
                | Q(usage_end__isnull=True)
                | Q(usage_end__gt=models.F("usage_start")),
                name="offers_offer_usage_end_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.external_id})"

    @property
    def usage_is_always(self) -> bool:
        return self.usage_start is None and self.usage_end is None
