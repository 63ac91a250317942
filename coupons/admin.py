from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from audit.admin_mixins import DeleteRefusalAdminMixin, HistoryAdminMixin
from audit.selectors import HistoryRow
from config.admin_base import ModelAdmin
from config.api.code_images import CodeImageQuerySerializer, code_image_response
from config.db_router import LaggingChangelistAdminMixin
from coupons.models import Coupon
from coupons.selectors import MAX_ID, code_lookup
from exports.admin_buttons import BUTTON_TEMPLATE, BackgroundExportAdminMixin
from members.admin_tabs import MemberTab, register_member_tab

# Other apps' rows in a coupon's history (the till's checkout holds): each gives HistoryRows for one coupon.
COUPON_HISTORY_SOURCES = []


def register_coupon_history(source):
    COUPON_HISTORY_SOURCES.append(source)
    return source


@admin.register(Coupon)
class CouponAdmin(
    LaggingChangelistAdminMixin, BackgroundExportAdminMixin, HistoryAdminMixin, DeleteRefusalAdminMixin, ModelAdmin
):
    export_dataset = "coupons"
    export_filters = {"status__exact": "status"}
    change_list_template = BUTTON_TEMPLATE
    list_display = ["code", "series", "member", "status", "issued_at", "expires_at", "is_reversed"]
    list_filter = ["status"]
    list_select_related = ["series", "member"]
    search_fields = ["=code", "=member__external_id"]
    search_help_text = "An exact code (any case) or a member's external id."
    raw_id_fields = ["series", "member"]
    show_full_result_count = False
    readonly_fields = ["scannable_code", *(f.name for f in Coupon._meta.fields), "transfer_link"]

    def get_search_results(self, request, queryset, search_term):
        # Codes are stored upper-case: normalising the term (not the column, as "=code" does with UPPER) lets
        # the search use the two code indexes, a few index pages instead of a scan of every coupon.
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(code_lookup(term) | Q(member__external_id=term)), False

    def get_urls(self):
        from coupons.lifecycle.admin import coupon_transfer_view

        view = self.admin_site.admin_view(lambda request, pk: coupon_transfer_view(self, request, pk))
        image = self.admin_site.admin_view(self.image_view)
        return [
            path("<int:pk>/transfer/", view, name="coupons_coupon_transfer"),
            path("<int:pk>/image/", image, name="coupons_coupon_image"),
            *super().get_urls(),
        ]

    def image_view(self, request, pk):
        """The code as an image for the admin's pages: the API's drawing behind the admin's login."""
        if pk > MAX_ID:
            raise Http404("No coupon has this id.")  # the driver would refuse the number
        coupon = get_object_or_404(Coupon.objects.only("code"), pk=pk)
        if not self.has_view_permission(request, coupon):
            raise PermissionDenied
        query = CodeImageQuerySerializer(data=request.GET.dict())
        if not query.is_valid():
            return HttpResponseBadRequest("The symbology is qr or code128, the format svg or png.")
        data = query.validated_data
        return code_image_response(request, coupon.code, symbology=data["symbology"], image_format=data["format"])

    @admin.display(description="Scannable code")
    def scannable_code(self, coupon):
        url = reverse("admin:coupons_coupon_image", args=[coupon.pk])
        return format_html(
            '<img src="{}" alt="QR code of {}" width="160" height="160"><br>'
            '<a href="{}?symbology=code128">Barcode (Code 128)</a> · '
            '<a href="{}?format=png">QR as PNG</a> · <a href="{}?symbology=code128&amp;format=png">Barcode as PNG</a>',
            url, coupon.code, url, url, url,
        )  # fmt: skip

    @admin.display(description="Transfer")
    def transfer_link(self, coupon):
        if coupon.status != Coupon.Status.ISSUED or coupon.is_common:
            return "Only an issued, non-common coupon can be transferred."
        url = reverse("admin:coupons_coupon_transfer", args=[coupon.pk])
        return format_html('<a class="button" href="{}">Transfer to another member…</a>', url)

    def history_events(self, coupon):
        return [
            HistoryRow(event.at, event.actor, event.channel, _status_move(event.old_status, event.new_status),
                       event.reason)
            for event in coupon.events.all()
        ] + [row for source in COUPON_HISTORY_SOURCES for row in source(coupon)]  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _status_move(old: str, new: str) -> str:
    words = dict(Coupon.Status.choices)
    return f"{words.get(old, old)} → {words.get(new, new)}" if old else f"Became {words.get(new, new)}"


def _member_coupons_context(request, member):
    from coupons.selectors import member_coupons

    return {"coupons": list(member_coupons(member=member).select_related("series")[:100])}


register_member_tab(
    MemberTab(
        key="coupons",
        title="Coupons",
        template="admin/coupons/member_coupons_tab.html",
        context=_member_coupons_context,
        order=40,
    )
)


# Each sub-domain registers its own screens.
from coupons.issuance import admin as issuance_admin  # noqa: E402, F401
from coupons.lifecycle import admin as lifecycle_admin  # noqa: E402, F401
from coupons.notify import admin as notify_admin  # noqa: E402, F401
from coupons.redemption import admin as redemption_admin  # noqa: E402, F401
from coupons.series import admin as series_admin  # noqa: E402, F401
