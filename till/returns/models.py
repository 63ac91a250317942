from django.db import models
from django.db.models import Q
from django.utils import timezone

from audit.triggers import append_only
from config import ranges


class Return(models.Model):
    """Goods a customer brought back from one purchase, with what the return took back and its answer.

    `return_id` names the return within the purchase's store (the till's return slip); a repeat with the same
    id and body is answered from `response_body`. `award_reversals` and `coupon_outcomes` keep what this return
    decided, so a later return of the same purchase starts from what the earlier ones already took back.
    """

    return_id = models.CharField(max_length=100)
    purchase = models.ForeignKey("offers.Transaction", on_delete=models.PROTECT, related_name="returns")
    store = models.ForeignKey("members.OrgEntity", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    points_reversed = models.BigIntegerField(default=0, validators=ranges.POINTS_BALANCE.validators())
    points_shortfall = models.BigIntegerField(default=0, validators=ranges.POINTS_BALANCE.validators())
    # [{"fulfillment_id", "offer_id", "points"}]: points this return took back from each award of the purchase
    award_reversals = models.JSONField(default=list)
    # [{"redemption_id", "code", "outcome"}]
    coupon_outcomes = models.JSONField(default=list)
    request_fingerprint = models.CharField(max_length=64)
    response_body = models.JSONField()
    actor = models.CharField(max_length=100)
    channel = models.CharField(max_length=30)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        triggers = append_only()
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["return_id", "store"], name="till_return_one_id_per_store"),
        ]
        indexes = [models.Index(fields=["purchase", "created_at"], name="till_return_purchase_idx")]

    def __str__(self):
        return f"Return {self.return_id}"


class ReturnLine(models.Model):
    """Units of one line of the purchase that a return brought back."""

    sale_return = models.ForeignKey(Return, on_delete=models.PROTECT, related_name="lines")
    line_ref = models.CharField(max_length=64)
    sku = models.CharField(max_length=64, blank=True)
    quantity = models.PositiveIntegerField(validators=ranges.QUANTITY.validators())
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, validators=ranges.MONEY.validators())

    class Meta:
        triggers = append_only()
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["sale_return", "line_ref"], name="till_returnline_one_per_line"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="till_returnline_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} of line {self.line_ref}"
