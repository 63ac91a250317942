"""A till's checkout: the basket it priced, what it holds while the customer pays, and how it ended."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from audit.triggers import append_only


class Checkout(models.Model):
    class Status(models.TextChoices):
        HELD = "held", "Held"
        COMMITTED = "committed", "Committed"
        CANCELED = "canceled", "Canceled"
        EXPIRED = "expired", "Expired"

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey("members.OrgEntity", on_delete=models.PROTECT, related_name="+")
    transaction_id = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.HELD)
    expires_at = models.DateTimeField(help_text="The holds lapse at this moment unless the checkout is committed")
    basket = models.JSONField(help_text="The basket as the till sent it")
    evaluation = models.JSONField(help_text="The basket as it was priced when the checkout was opened")
    committed_body = models.JSONField(null=True, blank=True, help_text="The commit's answer, replayed on a repeat")
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)
    actor = models.CharField(max_length=100)
    channel = models.CharField(max_length=30)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # One open or finished purchase per transaction id and store; a canceled or lapsed one frees the id.
            models.UniqueConstraint(
                fields=["store", "transaction_id"],
                condition=Q(status__in=["held", "committed"]),
                name="till_checkout_transaction_once_per_store",
            ),
        ]
        indexes = [
            # The sweep's scan: open checkouts by expiry, a small partial index.
            models.Index(fields=["expires_at"], condition=Q(status="held"), name="till_checkout_open_expiry_idx"),
        ]

    def __str__(self):
        return f"Checkout {self.pk} ({self.transaction_id})"


class CheckoutHold(models.Model):
    """One coupon or offer response a checkout holds (the coupon's own hold columns are what others check)."""

    class Kind(models.TextChoices):
        COUPON = "coupon", "Coupon"
        OFFER_RESPONSE = "offer_response", "Offer response"

    # No database foreign key to the checkout: a hold is written only with its checkout, in the statement or the
    # transaction that writes the checkout, and the deferred check cost every opening a trigger per hold.
    checkout = models.ForeignKey(Checkout, on_delete=models.CASCADE, related_name="holds", db_constraint=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Coupons carry no database foreign keys (see coupons.models.Coupon); the coupon services write them. No index of
    # its own: `till_checkouthold_coupon_idx` (coupon, held_at) serves every read by coupon.
    coupon = models.ForeignKey(
        "coupons.Coupon",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    # No index of its own: every read by response asks for open holds, which `till_checkouthold_response_once` holds.
    offer_response = models.ForeignKey(
        "offers.OfferResponse",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,  # offer responses are partitioned on PostgreSQL (docs/scaling.md)
        db_index=False,
    )
    code = models.CharField(max_length=64, blank=True)
    eligible_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    discount_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    line_discounts = models.JSONField(null=True, blank=True)
    held_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="coupon", coupon__isnull=False, offer_response__isnull=True)
                | Q(kind="offer_response", offer_response__isnull=False, coupon__isnull=True),
                name="till_checkouthold_one_object",
            ),
            # An offer response is held by one checkout at a time (a lapsed hold is released before another).
            models.UniqueConstraint(
                fields=["offer_response"],
                condition=Q(released_at__isnull=True, offer_response__isnull=False),
                name="till_checkouthold_response_once",
            ),
        ]
        indexes = [models.Index(fields=["coupon", "held_at"], name="till_checkouthold_coupon_idx")]

    def __str__(self):
        return self.code or f"Offer response {self.offer_response_id}"


class CheckoutEvent(models.Model):
    # No database foreign key: an event is written by its checkout's own statement (`till.checkouts.lifecycle`).
    checkout = models.ForeignKey(Checkout, on_delete=models.CASCADE, related_name="events", db_constraint=False)
    old_status = models.CharField(max_length=10, blank=True)
    new_status = models.CharField(max_length=10)
    actor = models.CharField(max_length=100)
    channel = models.CharField(max_length=30)
    reason = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        triggers = append_only()
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.old_status or '-'} → {self.new_status}"
