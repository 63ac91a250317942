"""Admin screens for offer responses: the list across all members (with bulk cancel / expire and export),
a read-only detail with its history, and the paginated response lists on the offer and member pages."""

from django import forms
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from config.actors import Actor
from config.admin_base import ExportModelAdmin, TabularInline
from config.db_router import LaggingChangelistAdminMixin
from config.errors import DomainError
from exports.admin_buttons import BackgroundExportAdminMixin
from members.models import Member
from offers.models import Offer, OfferResponse, OfferResponseEvent
from offers.resources import OfferResponseResource
from offers.responses import rules, selectors, services

STATUS_ICONS = {
    rules.PENDING: "⏳",
    rules.CLIPPED: "✂",
    rules.PROCESSING: "⚙",
    rules.SHIPPING: "🚚",
    rules.COMPLETED: "✔",
    rules.CANCELED: "⊘",
    rules.EXPIRED: "⌛",
}
USAGE_ICONS = {
    rules.USAGE_ALWAYS: ("admin/img/icon-yes.svg", "Always"),
    rules.USAGE_ACTIVE: ("admin/img/icon-yes.svg", "Inside the usage period"),
    rules.USAGE_UPCOMING: ("admin/img/icon-clock.svg", "Usage period not started"),
    rules.USAGE_PASSED: ("admin/img/icon-no.svg", "Usage period passed"),
}
RESPONSES_PER_PAGE = 25


def offer_type_label(snapshot: dict) -> str:
    """The offer's kind as marketers name it: standard, opt-in, shipping or opt-in shipping."""
    kinds = []
    if snapshot.get("requires_activation"):
        kinds.append("Opt-in")
    if snapshot.get("fulfillment_flow") == "shipping":
        kinds.append("Shipping")
    return " · ".join(kinds) or "Standard"


def status_badge(response: OfferResponse):
    return format_html(
        '<span class="response-status response-status-{}" title="{}"><span aria-hidden="true">{}</span> {}</span>',
        response.status,
        response.get_status_display(),
        STATUS_ICONS.get(response.status, "?"),
        response.get_status_display(),
    )


def usage_badge(response: OfferResponse, *, at=None):
    state = selectors.offer_response_usage_state(response, at=at)
    icon, label = USAGE_ICONS[state]
    text = "Always" if state == rules.USAGE_ALWAYS else ""
    return format_html(
        '<span class="usage-period usage-period-{}"><img src="{}" alt="{}" title="{}"> {}</span>',
        state,
        static(icon),
        label,
        label,
        text,
    )


def responses_page(request, queryset, *, param: str):
    """One page of responses for a section of another page (offer or member), in a fixed number of queries."""
    paginator = Paginator(queryset, RESPONSES_PER_PAGE)
    return paginator.get_page(request.GET.get(param))


class UsagePeriodFilter(admin.SimpleListFilter):
    title = "usage period"
    parameter_name = "usage_period"

    def lookups(self, request, model_admin):
        return [
            (rules.USAGE_ACTIVE, "Inside the period"),
            (rules.USAGE_ALWAYS, "Always"),
            (rules.USAGE_UPCOMING, "Not started"),
            (rules.USAGE_PASSED, "Passed"),
        ]

    def queryset(self, request, queryset):
        if self.value() in USAGE_ICONS:
            return queryset.filter(selectors.usage_period_q(self.value(), at=timezone.now()))
        return queryset


class OfferResponseEventInline(TabularInline):
    model = OfferResponseEvent
    extra = 0
    fields = ["at", "from_status", "to_status", "actor", "channel", "reason"]
    readonly_fields = fields
    can_delete = False
    verbose_name = "history entry"
    verbose_name_plural = "History"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OfferResponseClaimForm(forms.Form):
    member = forms.CharField(max_length=64, label="Member external id")
    offer = forms.CharField(max_length=64, label="Offer external id")
    certificate_code = forms.CharField(max_length=64, required=False)

    def clean_member(self):
        member = Member.objects.filter(external_id=self.cleaned_data["member"].strip()).first()
        if member is None:
            raise forms.ValidationError("No member with this external id.")
        return member

    def clean_offer(self):
        offer = Offer.objects.filter(external_id=self.cleaned_data["offer"].strip()).first()
        if offer is None:
            raise forms.ValidationError("No offer with this external id.")
        return offer


@admin.register(OfferResponse)
class OfferResponseAdmin(LaggingChangelistAdminMixin, BackgroundExportAdminMixin, ExportModelAdmin):
    export_dataset = "offer_responses"
    export_filters = {"status__exact": "status", "offer__external_id": "offer", "member__external_id": "member"}
    resource_classes = [OfferResponseResource]
    import_export_change_list_template = "admin/offers/offerresponse/change_list.html"
    list_display = [
        "id",
        "offer_column",
        "member_column",
        "certificate_code",
        "processing_status",
        "usage_period",
        "created_at",
        "status_changed_at",
    ]
    list_filter = ["status", "offer", UsagePeriodFilter, "source"]
    list_select_related = ["offer", "member"]
    search_fields = ["=member__external_id", "=certificate_code"]
    search_help_text = "Member external id or certificate code (exact)."
    show_full_result_count = False
    fields = [
        "offer",
        "member",
        "status",
        "source",
        "certificate_code",
        "offer_snapshot",
        "usage_start",
        "usage_end",
        "expires_at",
        "created_at",
        "status_changed_at",
    ]
    readonly_fields = fields
    inlines = [OfferResponseEventInline]
    actions = ["clip_selected", "cancel_selected", "expire_selected"]

    def has_add_permission(self, request):
        return False  # responses are created by claims, activations and assignments

    def has_change_permission(self, request, obj=None):
        return False  # status changes go through the actions (the transition service)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        claim = path("claim/", self.admin_site.admin_view(self.claim_view), name="offers_offerresponse_claim")
        return [claim, *super().get_urls()]

    def claim_view(self, request):
        """Member care claims an offer on a member's behalf: the same claim service as the API."""
        form = OfferResponseClaimForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                response = services.offer_response_claim(
                    member=form.cleaned_data["member"],
                    offer=form.cleaned_data["offer"],
                    actor=Actor.from_admin_user(request.user),
                    certificate_code=form.cleaned_data["certificate_code"],
                )
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, f"Offer response #{response.pk} created ({response.status}).")
                return HttpResponseRedirect(reverse("admin:offers_offerresponse_change", args=[response.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Claim an offer for a member",
            "form": form,
        }
        return render(request, "admin/offers/offerresponse/claim.html", context)

    @admin.display(description="Offer", ordering="offer__name")
    def offer_column(self, response):
        return format_html(
            '<a href="{}">{}</a><br><small class="offer-type">{}</small>',
            reverse("admin:offers_offer_change", args=[response.offer_id]),
            response.offer.name,
            offer_type_label(response.offer_snapshot or {}),
        )

    @admin.display(description="Member", ordering="member__external_id")
    def member_column(self, response):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:members_member_change", args=[response.member_id]),
            response.member.external_id,
        )

    @admin.display(description="Processing status", ordering="status")
    def processing_status(self, response):
        return status_badge(response)

    @admin.display(description="Usage period")
    def usage_period(self, response):
        return usage_badge(response)

    @admin.action(description="Clip selected offer responses (activates the offer for each member)")
    def clip_selected(self, request, queryset):
        return self._bulk_transition(request, queryset, rules.CLIPPED, "clip_selected")

    @admin.action(description="Cancel selected offer responses")
    def cancel_selected(self, request, queryset):
        return self._bulk_transition(request, queryset, rules.CANCELED, "cancel_selected")

    @admin.action(description="Expire selected offer responses")
    def expire_selected(self, request, queryset):
        return self._bulk_transition(request, queryset, rules.EXPIRED, "expire_selected")

    def _bulk_transition(self, request, queryset, to_status, action_name):
        """First a confirmation page listing the responses; on confirm, each goes through the transition
        service, and the ones it refuses are reported with their status."""
        responses = list(queryset.select_related("offer", "member").order_by("pk"))
        if request.POST.get("confirm") != "yes":
            return render(
                request,
                "admin/offers/offerresponse/confirm_transition.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.model._meta,
                    "title": f"Confirm: {to_status} {len(responses)} offer response(s)",
                    "responses": responses,
                    "to_status": to_status,
                    "action_name": action_name,
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        actor = Actor.from_admin_user(request.user)
        reason = (request.POST.get("reason") or "").strip() or f"bulk {to_status} in the back office"
        done, refused = 0, []
        for response in responses:
            try:
                services.offer_response_transition(response=response, to_status=to_status, actor=actor, reason=reason)
                done += 1
            except DomainError as exc:
                refused.append(f"#{response.pk} ({_refusal(response, exc)})")
        self.message_user(request, f"{done} offer response(s) {to_status}.", messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                f"{len(refused)} refused, already final or not allowed: {', '.join(refused)}.",
                messages.WARNING,
            )
        return None


def _refusal(response: OfferResponse, exc: DomainError) -> str:
    """The response's status, and why a rule refused the move when it was not the lifecycle itself
    (a clip refused by the activation's limits reads `pending: global_limit`)."""
    if exc.code == "illegal_transition" or not exc.reasons:
        return response.status
    return f"{response.status}: {', '.join(exc.reasons)}"


def response_section_context(request, queryset, *, anchor: str) -> dict:
    """Template context for a paginated response table inside the offer page or the member's Offers tab."""
    param = "responses_page"
    page = responses_page(request, queryset, param=param)
    at = timezone.now()
    rows = [
        {
            "response": response,
            "offer_type": offer_type_label(response.offer_snapshot or {}),
            "status_badge": status_badge(response),
            "usage_badge": usage_badge(response, at=at),
        }
        for response in page.object_list
    ]
    return {"response_page": page, "response_rows": rows, "response_page_param": param, "response_page_anchor": anchor}
