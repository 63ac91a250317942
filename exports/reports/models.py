from django.db import models
from django.db.models import Q
from django.utils import timezone


class LiabilityClose(models.Model):
    """The liability as it stood at the end of one day, kept so the report reads a few rows instead of every
    coupon (exports.reports.liability_closes). A day is closed once no write can still land in it: the offline
    window after its end (a till may send a redemption that old), so a closed day never changes."""

    class Method(models.TextChoices):
        SCAN = "scan", "Read from every coupon"  # the first close
        CARRIED = "carried", "Carried from the day before"

    day = models.DateField(unique=True)
    points_outstanding = models.BigIntegerField(default=0)
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.CARRIED)
    closed_at = models.DateTimeField(default=timezone.now)
    actor = models.CharField(max_length=100)

    class Meta:
        ordering = ["-day"]

    def __str__(self):
        return f"Liability at the end of {self.day}"


class LiabilityCloseLine(models.Model):
    """One series and currency of a closed day: its coupons open, expired and revoked (the series' currency), and
    the redemptions made and not reversed (the currency they were made in)."""

    class Kind(models.TextChoices):
        COUPONS = "coupon_figures", "Coupons of the series"
        REDEMPTIONS = "redemption_figures", "Redemptions in one currency"

    close = models.ForeignKey(LiabilityClose, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    series_id = models.BigIntegerField()
    # The currency of the redemptions; blank on a coupons line (its figures are in the series' currency).
    currency = models.CharField(max_length=3, blank=True, default="")
    open_count = models.BigIntegerField(default=0)
    expired_count = models.BigIntegerField(default=0)
    revoked_count = models.BigIntegerField(default=0)
    redeemed_count = models.BigIntegerField(default=0)
    redeemed_value = models.DecimalField(max_digits=20, decimal_places=2, default=0)

    class Meta:
        ordering = ["close", "series_id", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["close", "kind", "series_id", "currency"], name="exports_liabilityline_one_each"
            ),
            models.CheckConstraint(
                condition=Q(open_count__gte=0, expired_count__gte=0, revoked_count__gte=0, redeemed_count__gte=0),
                name="exports_liabilityline_counts_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.close.day} series {self.series_id} {self.get_kind_display().lower()} {self.currency}".strip()
