from django.db import models
from django.db.models import Q
from django.utils import timezone


class DailyFigure(models.Model):
    """One figure of one day for the admin's dashboard, rebuilt set-wise from the source tables
    (exports.dashboard.services), so the dashboard reads a few hundred rows instead of millions of coupons."""

    class Metric(models.TextChoices):
        ISSUED = "issued", "Coupons issued"
        SERIES_REDEMPTIONS = "series_redemptions", "Coupon redemptions of a series"
        OFFER_REDEMPTIONS = "offer_redemptions", "Coupon redemptions of an offer's series"
        RESPONSES = "responses", "Offer responses"
        POINTS_AWARDED = "points_awarded", "Points awarded"
        POINTS_SPENT = "points_spent", "Points spent"
        EXPIRING = "expiring", "Coupons expiring that day"
        LIABILITY = "liability", "Open coupons and their discount value"

    WHOLE_PROGRAM = 0

    day = models.DateField()
    metric = models.CharField(max_length=20, choices=Metric.choices)
    # The series or offer the figure is about; WHOLE_PROGRAM for program-wide figures.
    scope_id = models.BigIntegerField(default=WHOLE_PROGRAM)
    currency = models.CharField(max_length=3, blank=True, default="")
    count = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["day", "metric", "scope_id", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "day", "scope_id", "currency"], name="exports_dailyfigure_one_per_scope"
            ),
            models.CheckConstraint(condition=Q(count__gte=0), name="exports_dailyfigure_count_not_negative"),
        ]

    def __str__(self):
        return f"{self.day} {self.metric} {self.scope_id}: {self.count}"
