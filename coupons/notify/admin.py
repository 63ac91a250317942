"""Read-only screens for what was sent: resent coupons and expiry reminder deliveries."""

from django.contrib import admin

from config.admin_base import ModelAdmin
from coupons.models import CouponResend, ReminderDelivery
from coupons.redemption.admin import ReadOnlyAdmin


@admin.register(CouponResend)
class CouponResendAdmin(ReadOnlyAdmin):
    list_display = ["sent_at", "coupon", "channel", "recipient", "actor"]
    list_select_related = ["coupon"]
    search_fields = ["=coupon__code"]


@admin.register(ReminderDelivery)
class ReminderDeliveryAdmin(ModelAdmin):
    list_display = ["claimed_at", "coupon", "reminder", "channel", "status", "recipient", "finished_at"]
    list_filter = ["status", "channel"]
    list_select_related = ["coupon", "reminder__series"]
    search_fields = ["=coupon__code", "=recipient"]
    raw_id_fields = ["coupon", "reminder"]
    show_full_result_count = False
    readonly_fields = ["reminder", "coupon", "channel", "status", "recipient", "body", "error", "claimed_at",
                       "finished_at"]  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
