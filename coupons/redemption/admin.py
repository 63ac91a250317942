"""Read-only screens of the till's work: redemptions and unknown-code bursts; and the exchange rates it uses."""

from django.contrib import admin

from audit.admin_mixins import AppendOnlyAdminMixin, AuditedAdminMixin
from config.admin_base import ModelAdmin
from config.db_router import LaggingChangelistAdminMixin
from coupons.models import CouponRedemption, ExchangeRate, UnknownCodeBurst
from exports.admin_buttons import BUTTON_TEMPLATE, BackgroundExportAdminMixin


class ReadOnlyAdmin(ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CouponRedemption)
class CouponRedemptionAdmin(LaggingChangelistAdminMixin, BackgroundExportAdminMixin, AppendOnlyAdminMixin, ModelAdmin):
    export_dataset = "coupon_redemptions"
    export_filters = {"is_reversed__exact": "reversed"}
    change_list_template = BUTTON_TEMPLATE
    list_display = ["id", "coupon", "member", "store", "bill_amount", "discount_amount", "currency", "redeemed_at",
                    "is_reversed"]  # fmt: skip
    list_filter = ["is_reversed"]
    list_select_related = ["coupon", "member", "store"]
    search_fields = ["=coupon__code", "=member__external_id", "=transaction_id"]
    show_full_result_count = False


@admin.register(ExchangeRate)
class ExchangeRateAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ["from_currency", "to_currency", "rate", "updated_at"]
    list_editable = ["rate"]
    search_fields = ["from_currency", "to_currency"]

    def save_model(self, request, obj, form, change):
        obj.from_currency = obj.from_currency.upper()
        obj.to_currency = obj.to_currency.upper()
        super().save_model(request, obj, form, change)


@admin.register(UnknownCodeBurst)
class UnknownCodeBurstAdmin(ReadOnlyAdmin):
    """Minutes in which a POS client, or a store, tried more unknown codes than allowed: possible code guessing."""

    list_display = ["window_start", "scope", "client", "store", "limit", "first_blocked_at", "last_code_tried"]
    list_select_related = ["client", "store"]
    list_filter = ["scope", "client"]
