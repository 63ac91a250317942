from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone

from audit.triggers import append_only
from config import ranges

from .validators import validate_external_id, validate_mobile, validate_user_id


class Segment(models.Model):
    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.name


class OrgEntity(models.Model):
    """A node of the retailer's organisation: concept (brand), zone, store or till.

    `parent` is the containing entity (till → store → zone); a store may also belong to a concept.
    """

    class Type(models.TextChoices):
        CONCEPT = "concept", "Concept"
        ZONE = "zone", "Zone"
        STORE = "store", "Store"
        TILL = "till", "Till"

    code = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=10, choices=Type.choices)
    name = models.CharField(max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    concept = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="concept_members",
        limit_choices_to={"type": "concept"},
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    currency = models.CharField(max_length=3, default="USD")

    class Meta:
        ordering = ["type", "code"]
        verbose_name = "org entity"
        verbose_name_plural = "org entities"
        indexes = [models.Index(fields=["type", "code"])]

    def __str__(self):
        return f"{self.name} ({self.get_type_display()} {self.code})"


class Member(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    external_id = models.CharField(max_length=64, unique=True, validators=[validate_external_id])
    email = models.EmailField(blank=True, db_index=True)
    mobile = models.CharField(max_length=16, blank=True, db_index=True, validators=[validate_mobile])
    user_id = models.CharField(max_length=64, blank=True, db_index=True, validators=[validate_user_id])
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    registered_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    transaction_count = models.PositiveIntegerField(default=0, validators=ranges.COUNT.validators())
    segments = models.ManyToManyField(Segment, blank=True, related_name="members")
    # Kept in step with the ledger by services.points_post, in the same transaction.
    points_balance = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["external_id"]
        constraints = [
            models.CheckConstraint(condition=Q(points_balance__gte=0), name="members_member_points_not_negative"),
        ]
        # Uploads find members by e-mail whatever its case, a chunk of values at a time.
        indexes = [models.Index(Upper("email"), name="members_member_email_upper_idx")]

    def __str__(self):
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{self.external_id} {name}".strip()

    @property
    def is_active(self):
        return self.status == self.Status.ACTIVE


class PointsEntry(models.Model):
    """One line of the append-only points ledger; `balance_after` is the balance it left."""

    class Kind(models.TextChoices):
        ADJUSTMENT = "adjustment", "Manual adjustment"
        EARN = "earn", "Earned"
        SPEND = "spend", "Spent"
        REFUND = "refund", "Refunded"
        RETURN = "return", "Taken back for a return"

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="points_entries")
    points = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    reason = models.CharField(max_length=255, blank=True)
    reference = models.CharField(max_length=100, blank=True, help_text="What caused it: a transaction, a redemption…")
    # Points a return should have taken back but the balance no longer held (it stops at zero).
    shortfall = models.BigIntegerField(default=0, validators=ranges.POINTS_BALANCE.validators())
    actor = models.CharField(max_length=100)
    channel = models.CharField(max_length=30)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        triggers = append_only()
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "points entries"
        indexes = [models.Index(fields=["member", "-created_at"])]
        constraints = [
            # a line that moved nothing is kept only to record a shortfall
            models.CheckConstraint(
                condition=~Q(points=0) | Q(shortfall__gt=0), name="members_pointsentry_points_not_zero"
            ),
            models.CheckConstraint(condition=Q(shortfall__gte=0), name="members_pointsentry_shortfall_not_negative"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="members_pointsentry_balance_not_negative"),
        ]

    def __str__(self):
        return f"{self.points:+d} for {self.member_id}"


class TillRefusal(models.Model):
    """A validate or redeem the till was refused for a member, with its reasons: what member care reads when a
    member says a coupon "did not work". Written by the till's endpoints on refusal only; never changed."""

    class Action(models.TextChoices):
        VALIDATE = "validate", "Checked"
        REDEEM = "redeem", "Redeemed"

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="till_refusals")
    store = models.ForeignKey(OrgEntity, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=10, choices=Action.choices)
    code = models.CharField(max_length=64, help_text="The coupon code as the till sent it.")
    reasons = models.JSONField(default=list)
    actor = models.CharField(max_length=100)
    channel = models.CharField(max_length=30)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        triggers = append_only()
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["member", "-at"], name="members_tillrefusal_member_at")]

    def __str__(self):
        return f"{self.action} {self.code} for {self.member_id}: {', '.join(self.reasons)}"
