"""The liability's day closes, read-only: when each day was closed and what it held (the report reads them)."""

from django.contrib import admin
from django.db.models import Count

from audit.admin_mixins import AppendOnlyAdminMixin
from config.admin_base import ModelAdmin, TabularInline
from coupons.models import CouponSeries
from exports.reports.models import LiabilityClose, LiabilityCloseLine


class LiabilityCloseLineInline(AppendOnlyAdminMixin, TabularInline):
    model = LiabilityCloseLine
    fields = ["series", "kind", "currency", "open_count", "expired_count", "revoked_count", "redeemed_count",
              "redeemed_value"]  # fmt: skip
    readonly_fields = fields
    extra = 0
    can_delete = False
    hide_title = True

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("series_id", "kind", "currency")

    @admin.display(description="Series")
    def series(self, line):
        return CouponSeries.objects.filter(pk=line.series_id).values_list("name", flat=True).first() or line.series_id


@admin.register(LiabilityClose)
class LiabilityCloseAdmin(AppendOnlyAdminMixin, ModelAdmin):
    list_display = ["day", "method", "points_outstanding", "line_count", "closed_at", "actor"]
    list_filter = ["method"]
    date_hierarchy = "day"
    fields = ["day", "method", "points_outstanding", "closed_at", "actor"]
    readonly_fields = fields
    inlines = [LiabilityCloseLineInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(line_total=Count("lines"))

    @admin.display(description="Lines", ordering="line_total")
    def line_count(self, close):
        return close.line_total
