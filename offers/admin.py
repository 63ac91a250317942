from django import forms
from django.contrib import admin, messages
from django.db import models
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit.admin_mixins import AppendOnlyAdminMixin, DeleteRefusalAdminMixin, HistoryAdminMixin
from audit.selectors import HistoryRow
from config.actors import Actor
from config.admin_base import ImportExportModelAdmin, ModelAdmin, StackedInline, TabularInline
from config.errors import DomainError
from members.admin_tabs import MemberTab, register_member_tab
from members.models import Member
from offers import offer_page, rules, selectors, services
from offers.models import (
    Activation,
    Audience,
    EarningMechanism,
    Fulfillment,
    MarketingContent,
    Offer,
    OfferEvent,
    OfferLimit,
    Transaction,
)
from offers.resources import OfferResource
from offers.responses import admin as response_admin
from offers.responses import selectors as response_selectors


class EarningMechanismForm(forms.ModelForm):
    """Refuses a mechanism that could never award anything: an award without its points, a spend without its
    amount (the database allows the empty value, which the till would read as nothing to earn)."""

    NEEDS = (
        ("award_type", EarningMechanism.Award.POINTS, "points", "Fixed points need the number of points to award."),
        ("award_type", EarningMechanism.Award.POINTS_PER_UNIT, "points_per_unit",
         "Points per unit need the number of points for each unit."),
        ("behavior_type", EarningMechanism.Behavior.SPEND, "min_amount", "Spend an amount needs the amount to spend."),
    )  # fmt: skip

    class Meta:
        model = EarningMechanism
        fields = ["behavior_type", "sku", "min_quantity", "min_amount", "award_type", "points", "points_per_unit"]

    def clean(self):
        data = super().clean()
        for choice_field, choice, needed, sentence in self.NEEDS:
            if data.get(choice_field) == choice and not data.get(needed) and needed not in self.errors:
                self.add_error(needed, sentence)
        return data


class OfferLimitForm(forms.ModelForm):
    class Meta:
        model = OfferLimit
        fields = ["scope", "kind", "max_count"]

    def clean_max_count(self):
        if self.cleaned_data["max_count"] == 0:
            raise forms.ValidationError("A limit of 0 can never be met; to stop the offer, set its expiry instead.")
        return self.cleaned_data["max_count"]


class EarningMechanismInline(StackedInline):
    model = EarningMechanism
    form = EarningMechanismForm
    max_num = 1
    extra = 0
    fields = [("behavior_type", "sku", "min_quantity", "min_amount"), ("award_type", "points", "points_per_unit")]


class AudienceInline(TabularInline):
    model = Audience
    extra = 0
    fields = ["type", "min_age", "max_age", "segment"]
    autocomplete_fields = ["segment"]


class OfferLimitInline(TabularInline):
    model = OfferLimit
    form = OfferLimitForm
    extra = 0
    fields = ["scope", "kind", "max_count", "used_count"]
    readonly_fields = ["used_count"]


class MarketingContentInline(TabularInline):
    model = MarketingContent
    extra = 0
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fields = ["locale", "title", "description", "image_url"]


class VisibleStatusFilter(admin.SimpleListFilter):
    title = "visible status"
    parameter_name = "visible_status"

    def lookups(self, request, model_admin):
        return [(status, status) for status in rules.GLOBAL_STATUSES]

    def queryset(self, request, queryset):
        if self.value() in rules.GLOBAL_STATUSES:
            return queryset.filter(selectors.global_status_q(self.value(), at=timezone.now()))
        return queryset


@admin.register(Offer)
class OfferAdmin(HistoryAdminMixin, DeleteRefusalAdminMixin, ImportExportModelAdmin):
    resource_classes = [OfferResource]
    change_list_template = "admin/offers/offer/change_list.html"
    change_form_template = "admin/offers/offer/change_form.html"
    list_display = [
        "external_id",
        "name",
        "category",
        "visible_status",
        "requires_activation",
        "publish_at",
        "expire_at",
        "discontinued_at",
    ]
    list_filter = [VisibleStatusFilter, "category", "requires_activation", "fulfillment_flow"]
    search_fields = ["=external_id", "name", "category"]
    readonly_fields = ["discontinued_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["external_id", "name", "category"]}),
        ("Dates", {"fields": ["publish_at", "expire_at", "usage_start", "usage_end", "discontinued_at"]}),
        ("Behaviour", {"fields": ["requires_activation", "allow_multiple_responses", "fulfillment_flow"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [EarningMechanismInline, AudienceInline, OfferLimitInline, MarketingContentInline]
    actions = ["discontinue_selected"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("limits", "audiences")

    @admin.display(description="Visible status")
    def visible_status(self, offer):
        return selectors.offer_global_visible_status(offer)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The offer page carries its coupon series and its Responses section (counts by status, then one page of
        that offer's newest responses)."""
        extra_context = dict(extra_context or {})
        offer = Offer.objects.filter(pk=object_id).first() if object_id and str(object_id).isdigit() else None
        if offer is not None:
            queryset = response_selectors.offer_response_queryset().filter(offer_id=offer.pk)
            extra_context.update(response_admin.response_section_context(request, queryset, anchor="#responses"))
            counts = offer_page.offer_response_counts(offer=offer)
            extra_context.update({
                "offer_series": offer_page.offer_series(offer=offer),
                "response_counts": counts,
                "response_total": sum(row.count for row in counts),
            })  # fmt: skip
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        # The values before the form's changes, for the audit trail (read before anything is saved).
        obj._audit_before = selectors.offer_audit_snapshot(offer_id=obj.pk) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.offer_admin_saved(
            offer=form.instance, before=form.instance._audit_before, actor=Actor.from_admin_user(request.user)
        )

    def history_events(self, offer):
        return [
            HistoryRow(event.at, event.actor, event.channel, event.get_kind_display())
            for event in offer.events.order_by("-at")
            if event.kind == OfferEvent.Kind.DISCONTINUED  # created and updated rows have their audit rows
        ]

    @admin.action(description="Discontinue selected offers")
    def discontinue_selected(self, request, queryset):
        actor = Actor.from_admin_user(request.user)
        for offer in queryset.filter(discontinued_at__isnull=True).order_by("pk"):
            try:
                services.offer_discontinue(offer=offer, actor=actor)
            except DomainError as exc:
                self.message_user(request, f"{offer}: {exc}", messages.ERROR)
        self.message_user(request, "Selected offers are discontinued.", messages.SUCCESS)

    def get_urls(self):
        preview = path(
            "preview/",
            self.admin_site.admin_view(self.preview_view),
            name="offers_offer_preview",
        )
        return [preview, *super().get_urls()]

    def preview_view(self, request):
        """One member's membership-offers, with the reason for every offer they cannot engage with."""
        external_id = (request.GET.get("member") or "").strip()
        at_text = (request.GET.get("at") or "").strip()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Preview offers as a member",
            "member_query": external_id,
            "at_query": at_text,
            "rows": None,
            "error": "",
        }
        at = timezone.now()
        if at_text:
            try:
                parsed = parse_datetime(at_text)
            except ValueError:
                parsed = None
            if parsed is None:
                context["error"] = "The date is not an ISO 8601 timestamp (e.g. 2026-06-01T09:00:00+02:00)."
            else:
                at = parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
        if external_id and not context["error"]:
            member = Member.objects.filter(external_id=external_id).first()
            if member is None:
                context["error"] = f"No member with external id {external_id!r}."
            else:
                context["member"] = member
                context["at"] = at
                context["rows"] = selectors.membership_offer_list(member=member, at=at)
        return render(request, "admin/offers/offer/preview.html", context)


@admin.register(Activation)
class ActivationAdmin(ModelAdmin):
    list_display = ["activated_at", "offer", "member", "actor", "channel"]
    list_select_related = ["offer", "member"]
    search_fields = ["=member__external_id", "=offer__external_id"]
    raw_id_fields = ["offer", "member"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False  # activations go through the activation service

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Fulfillment)
class FulfillmentAdmin(ModelAdmin):
    list_display = ["occurred_at", "offer", "member", "points", "transaction"]
    list_select_related = ["offer", "member", "transaction"]
    search_fields = ["=member__external_id", "=offer__external_id", "=transaction__transaction_id"]
    raw_id_fields = ["offer", "member", "transaction"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Transaction)
class TransactionAdmin(ModelAdmin):
    list_display = ["transaction_id", "occurred_at", "member", "store", "total_amount", "actor"]
    list_select_related = ["member", "store"]
    search_fields = ["=transaction_id", "=member__external_id"]
    raw_id_fields = ["member", "store"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OfferEvent)
class OfferEventAdmin(AppendOnlyAdminMixin, ModelAdmin):
    list_display = ["at", "offer", "kind", "actor", "channel"]
    list_filter = ["kind", "channel"]
    list_select_related = ["offer"]
    show_full_result_count = False


def _member_offers_tab_context(request, member):
    responses = response_selectors.offer_response_with_history_queryset().filter(member=member)
    return {
        **response_admin.response_section_context(request, responses, anchor="#member-offer-responses"),
        "member": member,
        "rows": selectors.membership_offer_list(member=member),
        "preview_url": reverse("admin:offers_offer_preview") + f"?member={member.external_id}",
    }


register_member_tab(
    MemberTab(
        key="offers",
        title="Offers",
        template="admin/offers/member_tab_offers.html",
        context=_member_offers_tab_context,
        order=10,
    )
)
