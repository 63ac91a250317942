from functools import partial

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.template.loader import select_template
from django.template.response import TemplateResponse
from django.urls import path, reverse
from unfold.contrib.import_export.forms import ExportForm, ImportForm

from audit.admin_mixins import AppendOnlyAdminMixin, AuditedAdminMixin
from audit.selectors import object_history
from config import ranges
from config.admin_base import ImportExportModelAdmin, ModelAdmin
from coupons.models import Coupon, CouponSeries
from exports.admin_buttons import BackgroundExportAdminMixin
from offers.models import Offer
from offers.responses import rules as response_rules
from offers.responses import selectors as response_selectors
from offers.responses.admin import response_section_context
from rewards.models import Reward

from . import why_not
from .admin_actions import allowed_actions, member_action_view
from .admin_tabs import MemberTab, member_tabs, register_member_tab
from .models import Member, OrgEntity, PointsEntry, Segment
from .resources import MemberResource
from .selectors import points_history
from .validators import MOBILE_RE, normalize_mobile

HISTORY_SIZE = 100
PICKER_SIZE = 200  # a picker lists this many; past it, member care searches the object's own list


TAB_OVERRIDE = "admin/members/member/tab_{key}.html"


class WhyNotForm(forms.Form):
    """What member care asks about: one offer, coupon or reward, and where, when and for how much."""

    subject = forms.CharField(max_length=40)
    store = forms.CharField(max_length=64, required=False)
    at = forms.DateTimeField(required=False, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"])
    bill = forms.DecimalField(required=False, **ranges.MONEY.bounds)

    def __init__(self, *args, member: Member, **kwargs):
        super().__init__(*args, **kwargs)
        self.member = member

    def clean_subject(self):
        kind, _, pk = self.cleaned_data["subject"].partition(":")
        if kind not in SUBJECTS or not pk.isdigit() or int(pk) not in ranges.OBJECT_ID:
            raise forms.ValidationError("Choose an offer, a coupon or a reward.")
        queryset = SUBJECTS[kind](self.member)
        row = queryset.filter(pk=int(pk)).first()
        if row is None:
            raise forms.ValidationError("That one no longer exists.")
        return kind, row

    def clean_store(self):
        code = self.cleaned_data["store"].strip()
        if not code:
            return None
        store = OrgEntity.objects.filter(code=code, type__in=[OrgEntity.Type.STORE, OrgEntity.Type.TILL]).first()
        if store is None:
            raise forms.ValidationError("No store or till has that code.")
        return store

    def answer(self) -> why_not.WhyNot:
        kind, row = self.cleaned_data["subject"]
        at = self.cleaned_data["at"]
        if kind == "offer":
            return why_not.offer_why_not(member=self.member, offer=row, at=at)
        if kind == "coupon":
            return why_not.coupon_why_not(member=self.member, coupon=row, store=self.cleaned_data["store"],
                                          bill_amount=self.cleaned_data["bill"], at=at)  # fmt: skip
        return why_not.reward_why_not(member=self.member, reward=row)


SUBJECTS = {
    "offer": lambda member: Offer.objects.all(),
    "coupon": lambda member: Coupon.objects.select_related("series").filter(member=member),
    "reward": lambda member: Reward.objects.all(),
}


def why_not_choices(member: Member) -> dict:
    """What the "Why not?" picker lists, as (value, label): the program's offers and rewards, the member's
    coupons, the stores and tills."""
    offers = Offer.objects.order_by("name").values_list("pk", "name", "external_id")[:PICKER_SIZE]
    coupons = Coupon.objects.filter(member=member).order_by("-id").values_list("pk", "code", "series__name")
    rewards = Reward.objects.order_by("name").values_list("pk", "name", "external_id")[:PICKER_SIZE]
    stores = OrgEntity.objects.filter(type__in=[OrgEntity.Type.STORE, OrgEntity.Type.TILL]).order_by("code")
    return {
        "subjects": [
            ("Offers", [(f"offer:{pk}", f"{name} ({external_id})") for pk, name, external_id in offers]),
            (
                "This member's coupons",
                [(f"coupon:{pk}", f"{code} ({series})") for pk, code, series in coupons[:PICKER_SIZE]],
            ),
            ("Rewards", [(f"reward:{pk}", f"{name} ({external_id})") for pk, name, external_id in rewards]),
        ],
        "stores": [(code, f"{name} ({code})") for code, name in stores.values_list("code", "name")[:PICKER_SIZE]],
    }


def member_360_context(request, member: Member) -> dict:
    """Everything the member's read page shows: the tabs (each with the actions the user may take), and the
    "Why not?" panel with its answer when one was asked."""
    shared = {
        "member": member,
        "allowed_actions": allowed_actions(request.user),
        "open_statuses": response_rules.OPEN,
        "time_zone": settings.TIME_ZONE,
        "series_choices": CouponSeries.objects.order_by("name").values_list("pk", "name")[:PICKER_SIZE],
        "reward_choices": Reward.objects.filter(active=True).values_list("pk", "name", "cost_points")[:PICKER_SIZE],
    }
    tabs = []
    for tab in member_tabs():
        template = select_template([TAB_OVERRIDE.format(key=tab.key), tab.template])
        html = template.render({**tab.context(request, member), **shared}, request)
        tabs.append({"key": tab.key, "title": tab.title, "html": html})
    why_not_form = WhyNotForm(request.GET, member=member) if "subject" in request.GET else None
    answer = why_not_form.answer() if why_not_form is not None and why_not_form.is_valid() else None
    return {
        **shared,
        "member_tabs": tabs,
        "why_not_form": why_not_form,
        "why_not": answer,
        "why_not_choices": why_not_choices(member),
        "till_refusals": why_not.till_refusals_why(member=member),
    }


@admin.register(Segment)
class SegmentAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(OrgEntity)
class OrgEntityAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ["code", "name", "type", "parent", "concept", "time_zone", "currency"]
    list_filter = ["type"]
    list_select_related = ["parent", "concept"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent", "concept"]


@admin.register(Member)
class MemberAdmin(BackgroundExportAdminMixin, AuditedAdminMixin, ImportExportModelAdmin):
    """The member 360: a read page first (profile, balance, tabs, actions, "Why not?"); editing the profile
    is a separate page behind its own button."""

    export_dataset = "members"
    export_filters = {"status__exact": "status"}
    resource_classes = [MemberResource]
    import_form_class = ImportForm
    export_form_class = ExportForm
    list_display = ["external_id", "first_name", "last_name", "email", "mobile", "status", "points_balance"]
    list_filter = ["status", "segments"]
    # Each shape of term is looked up by the index that answers it (see get_search_results).
    search_fields = ["=external_id", "email", "=mobile", "^first_name", "^last_name"]
    search_help_text = "External id, e-mail, mobile number (+15550001234) or the start of a first or last name."
    readonly_fields = ["points_balance"]
    filter_horizontal = ["segments"]
    show_full_result_count = False
    change_form_template = "admin/members/member/change_form.html"
    member_360_template = "admin/members/member/member_360.html"

    def get_urls(self):
        own = [
            path("<path:object_id>/edit/", self.admin_site.admin_view(self.edit_view), name="members_member_edit"),
            path(
                "<path:object_id>/act/<slug:action_name>/",
                self.admin_site.admin_view(partial(member_action_view, self)),
                name="members_member_act",
            ),
        ]
        return own + super().get_urls()

    def get_search_results(self, request, queryset, search_term):
        """Each shape of term through the index that answers it, never a scan of every column: an e-mail by
        its upper-case index, a mobile number, an external id or a user id exactly; otherwise each word as
        the start of a first or last name, in any case ("Kim" finds Kim Lee and Ana Kimura; "Kim Lee" needs
        both), through the UPPER(name) text_pattern_ops indexes of members/migrations/0007 on PostgreSQL."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if "@" in term:
            return queryset.filter(Q(email__iexact=term) | Q(user_id=term)), False
        exact = Q(external_id=term) | Q(user_id=term)
        mobile = normalize_mobile(term)
        if MOBILE_RE.match(mobile):  # digits are never a name: no fallback to the names
            digits = mobile.lstrip("+")
            return queryset.filter(exact | Q(mobile=digits) | Q(mobile=f"+{digits}")), False
        if " " not in term and queryset.filter(exact).exists():
            return queryset.filter(exact), False
        names = Q()
        for word in term.split():
            names &= Q(first_name__istartswith=word) | Q(last_name__istartswith=word)
        return queryset.filter(names), False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "POST":
            return self.edit_view(request, object_id, extra_context=extra_context)
        member = self.get_object(request, unquote(object_id))
        if member is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, member):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            **member_360_context(request, member),
            "title": str(member),
            "subtitle": None,
            "opts": self.opts,
            "original": member,
            "has_change_permission": self.has_change_permission(request, member),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.member_360_template, context)

    def edit_view(self, request, object_id, extra_context=None):
        """The profile form: Django's change form, reached only through the "Edit profile" button."""
        form_url = reverse("admin:members_member_edit", args=[object_id])
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(PointsEntry)
class PointsEntryAdmin(AppendOnlyAdminMixin, ModelAdmin):
    """The ledger is written only by services, and never changed."""

    list_display = [
        "created_at", "member", "points", "balance_after", "shortfall", "kind", "reason", "actor", "channel",
    ]  # fmt: skip
    list_filter = ["kind", "channel"]
    list_select_related = ["member"]
    search_fields = ["=member__external_id", "reference"]
    raw_id_fields = ["member"]
    show_full_result_count = False


register_member_tab(
    MemberTab(
        key="points",
        title="Points",
        template="admin/members/member/tab_points.html",
        context=lambda request, member: {"member": member, "entries": points_history(member=member)},
        order=90,
    )
)


def _member_responses_context(request, member):
    responses = response_selectors.offer_response_with_history_queryset().filter(member=member)
    return response_section_context(request, responses, anchor="#member-tab-responses")


register_member_tab(
    MemberTab(
        key="responses",
        title="Responses",
        template="admin/members/member/tab_responses.html",
        context=_member_responses_context,
        order=20,
    )
)
register_member_tab(
    MemberTab(
        key="history",
        title="History",
        template="admin/members/member/tab_history.html",
        context=lambda request, member: {"rows": object_history(member)[:HISTORY_SIZE]},
        order=100,
    )
)
