"""Operations > Checkouts: the till's open holds, and each coupon's holds in its history."""

from django.contrib import admin
from django.utils import timezone

from audit.admin_mixins import AppendOnlyAdminMixin
from audit.selectors import HistoryRow
from config.admin_base import ModelAdmin, TabularInline
from config.admin_display import datetime_in_zone
from coupons.admin import register_coupon_history
from till.checkouts.models import Checkout, CheckoutHold


class OpenHoldFilter(admin.SimpleListFilter):
    title = "holds"
    parameter_name = "holds"

    def lookups(self, request, model_admin):
        return [("open", "Holding now"), ("lapsed", "Lapsed, not yet released")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "open":
            return queryset.filter(status=Checkout.Status.HELD, expires_at__gt=now)
        if self.value() == "lapsed":
            return queryset.filter(status=Checkout.Status.HELD, expires_at__lte=now)
        return queryset


class CheckoutHoldInline(TabularInline):
    model = CheckoutHold
    fields = ["kind", "code", "offer_response", "eligible_amount", "discount_amount", "held_at", "released_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Checkout)
class CheckoutAdmin(AppendOnlyAdminMixin, ModelAdmin):
    """Checkouts are written only by the till's calls; here they are read, the open ones first."""

    list_display = ["id", "transaction_id", "store", "member", "status", "expires_at", "created_at", "hold_count"]
    list_filter = [OpenHoldFilter, "status"]
    list_select_related = ["store", "member"]
    search_fields = ["=transaction_id", "=member__external_id"]
    search_help_text = "A transaction id or a member's external id."
    show_full_result_count = False
    raw_id_fields = ["member", "store"]
    inlines = [CheckoutHoldInline]
    fields = [
        "transaction_id",
        "store",
        "member",
        "status",
        "expires_at",
        "created_at",
        "status_changed_at",
        "actor",
        "channel",
        "evaluation",
        "committed_body",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        from django.db.models import Count, Q

        return (
            super().get_queryset(request).annotate(open_holds=Count("holds", filter=Q(holds__released_at__isnull=True)))
        )

    @admin.display(description="Holding", ordering="open_holds")
    def hold_count(self, checkout):
        return checkout.open_holds


@register_coupon_history
def coupon_hold_history(coupon) -> list[HistoryRow]:
    rows = []
    holds = CheckoutHold.objects.filter(coupon_id=coupon.pk).select_related("checkout").order_by("held_at", "pk")
    for hold in holds:
        checkout = hold.checkout
        rows.append(
            HistoryRow(
                hold.held_at,
                checkout.actor,
                checkout.channel,
                f"Held by checkout {checkout.pk} (transaction {checkout.transaction_id})",
                f"Until {datetime_in_zone(checkout.expires_at)}",
            )
        )
        if hold.released_at:
            rows.append(
                HistoryRow(
                    hold.released_at,
                    checkout.actor,
                    checkout.channel,
                    "Hold released",
                    f"The checkout was {checkout.get_status_display().lower()}",
                )
            )
    return rows
