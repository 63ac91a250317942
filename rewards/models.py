import pgtrigger
from django.db import models
from django.db.models import Q
from django.utils import timezone

from audit.triggers import UnlessOnly, append_only
from config import ranges


class Reward(models.Model):
    """Something a member gets for points (a redemption) or for free (an award)."""

    class Type(models.TextChoices):
        CERTIFICATE = "certificate", "Certificate"

    external_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=20, choices=Type.choices, default=Type.CERTIFICATE)
    cost_points = models.PositiveIntegerField(validators=ranges.REWARD_COST.validators())
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(type__in=["certificate"]), name="rewards_reward_type_valid"),
        ]

    def __str__(self):
        return f"{self.name} ({self.external_id})"


class RewardRedemption(models.Model):
    """The Reward Response: who got which reward, how, and for how many points.

    `member` is empty while the redemption is anonymous (its code reserved) and is set once, when
    it is assigned.
    """

    class Kind(models.TextChoices):
        REDEMPTION = "redemption", "Redemption (points spent)"
        AWARD = "award", "Award (free)"

    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="reward_redemptions"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    points_spent = models.PositiveIntegerField(default=0)
    actor = models.CharField(max_length=100)
    channel = models.CharField(max_length=30)
    created_at = models.DateTimeField(default=timezone.now)
    assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        triggers = append_only(
            # assigning an anonymous redemption to a member, once: member, points and assigned_at are set
            allowed_update=UnlessOnly(
                move=pgtrigger.Q(old__member__isnull=True, new__member__isnull=False, old__assigned_at__isnull=True,
                                 new__assigned_at__isnull=False),
                changing=("member", "points_spent", "assigned_at"),
            )
        )  # fmt: skip
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["member", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="redemption") | Q(points_spent=0), name="rewards_rewardredemption_award_is_free"
            ),
            models.CheckConstraint(
                condition=Q(member__isnull=False) | Q(points_spent=0),
                name="rewards_rewardredemption_anonymous_spends_nothing",
            ),
            models.CheckConstraint(
                condition=Q(member__isnull=True) | Q(assigned_at__isnull=False),
                name="rewards_rewardredemption_member_has_assigned_at",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} of {self.reward_id}"


class CertificateCode(models.Model):
    """A one-time code of a certificate reward, or of the bank (no reward) that any reward may draw on."""

    class Status(models.TextChoices):
        UNUSED = "unused", "Unused"
        RESERVED = "reserved", "Reserved"
        REDEEMED = "redeemed", "Redeemed"
        AWARDED = "awarded", "Awarded"
        FULFILLED = "fulfilled", "Fulfilled"

    code = models.CharField(max_length=64, unique=True)
    reward = models.ForeignKey(
        Reward,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="codes",
        help_text="Empty: the code is in the bank of unassociated codes.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UNUSED)
    member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="certificate_codes"
    )
    redemption = models.OneToOneField(
        RewardRedemption, null=True, blank=True, on_delete=models.PROTECT, related_name="certificate_code"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)
    assigned_at = models.DateTimeField(null=True, blank=True, help_text="When it went to a redemption.")
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "reward certificate"
        verbose_name_plural = "reward certificates"
        indexes = [
            # Redeem takes the lowest unused code of a reward (or of the bank) without scanning used ones.
            models.Index(fields=["reward", "id"], condition=Q(status="unused"), name="rewards_code_unused_idx"),
            models.Index(fields=["status", "id"], name="rewards_code_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["unused", "reserved", "redeemed", "awarded", "fulfilled"]),
                name="rewards_certificatecode_status_valid",
            ),
            # Unused ⇔ no redemption: a used code always says who took it and how.
            models.CheckConstraint(
                condition=(Q(status="unused") & Q(redemption__isnull=True) & Q(member__isnull=True))
                | (~Q(status="unused") & Q(redemption__isnull=False)),
                name="rewards_certificatecode_used_has_redemption",
            ),
            models.CheckConstraint(
                condition=~Q(status="reserved") | Q(member__isnull=True),
                name="rewards_certificatecode_reserved_is_anonymous",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["redeemed", "awarded", "fulfilled"]) | Q(member__isnull=False),
                name="rewards_certificatecode_assigned_has_member",
            ),
            models.CheckConstraint(
                condition=~Q(status="fulfilled") | Q(fulfilled_at__isnull=False),
                name="rewards_certificatecode_fulfilled_has_time",
            ),
        ]

    def __str__(self):
        return self.code


class CertificateCodeEvent(models.Model):
    """One row per status change of a code: the history the marketer audits."""

    certificate_code = models.ForeignKey(CertificateCode, on_delete=models.CASCADE, related_name="events")
    old_status = models.CharField(max_length=10, choices=CertificateCode.Status.choices)
    new_status = models.CharField(max_length=10, choices=CertificateCode.Status.choices)
    redemption = models.ForeignKey(RewardRedemption, null=True, blank=True, on_delete=models.PROTECT)
    actor = models.CharField(max_length=100)
    channel = models.CharField(max_length=30)
    reason = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        triggers = append_only()
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["certificate_code", "-at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(old_status=models.F("new_status")), name="rewards_certificatecodeevent_changes_status"
            ),
        ]

    def __str__(self):
        words = dict(CertificateCode.Status.choices)
        old, new = (words.get(status, status) for status in (self.old_status, self.new_status))
        return f"Certificate code {self.certificate_code_id}: {old} → {new}"
