"""Returns as the till recorded them: view only, with their lines."""

from django.contrib import admin

from audit.admin_mixins import AppendOnlyAdminMixin
from config.admin_base import ModelAdmin, TabularInline
from till.returns.models import Return, ReturnLine


class ReturnLineInline(AppendOnlyAdminMixin, TabularInline):
    model = ReturnLine
    fields = ["line_ref", "sku", "quantity", "unit_price"]
    readonly_fields = fields
    extra = 0


@admin.register(Return)
class ReturnAdmin(AppendOnlyAdminMixin, ModelAdmin):
    list_display = ["return_id", "purchase", "store", "member", "points_reversed", "points_shortfall", "coupons",
                    "created_at", "actor"]  # fmt: skip
    list_filter = ["created_at"]
    list_select_related = ["purchase", "store", "member"]
    search_fields = ["=return_id", "=purchase__transaction_id", "=member__external_id"]
    raw_id_fields = ["purchase", "member"]
    show_full_result_count = False
    inlines = [ReturnLineInline]
    exclude = ["request_fingerprint", "response_body", "award_reversals", "coupon_outcomes"]
    readonly_fields = ["coupons"]

    @admin.display(description="Coupons")
    def coupons(self, row):
        words = {"reinstated": "usable again", "forfeited": "stays used", "kept": "kept"}
        return "; ".join(
            f"{item['code']}: {words.get(item['outcome'], item['outcome'])}" for item in row.coupon_outcomes
        )
