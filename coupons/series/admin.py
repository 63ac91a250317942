"""The coupon series screens: the series' page as a hub (its settings form with its rules and reminders, and
tabs for its coupons, uploads, bulk issues and redemptions), capacity, and the actions on a series."""

import json

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget, UnfoldAdminSelectWidget, UnfoldAdminTextareaWidget

from audit.admin_mixins import DeleteRefusalAdminMixin, HistoryAdminMixin
from audit.services import audit_updated
from config import ranges
from config.actors import Actor
from config.admin_base import ModelAdmin, TabularInline
from config.errors import DomainError
from coupons.issuance.bulk import bulk_issue_start
from coupons.models import BulkIssueJob, CouponSeries, Reminder
from coupons.series import services
from coupons.series.capacity import series_capacity
from coupons.series.codes import GUESS_WARNING_ODDS
from coupons.series.history import series_snapshot
from coupons.series.hub import series_hub_read
from members.models import OrgEntity, Segment

CONCRETE_FIELDS = frozenset(f.name for f in CouponSeries._meta.concrete_fields)


class ReminderInline(TabularInline):
    model = Reminder
    extra = 0


WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]
MONTH_DAYS = [(day, str(day)) for day in range(ranges.DAY_OF_MONTH.min, ranges.DAY_OF_MONTH.max + 1)]
HOURS = [(hour, f"{hour:02d}:00") for hour in range(ranges.HOUR.min, ranges.HOUR.max + 1)]


class CheckboxGridWidget(UnfoldAdminCheckboxSelectMultipleWidget):
    template_name = "coupons/widgets/checkbox_grid.html"  # the form renderer reads app templates only

    def __init__(self, *, columns: int, **kwargs):
        super().__init__(**kwargs)
        self.columns = columns

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["columns"] = self.columns
        return context

    class Media:
        css = {"all": ["offerdesk/admin.css"]}


class CheckboxGridField(forms.TypedMultipleChoiceField):
    """A list of small numbers (weekdays, days of the month, hours) as a grid of checkboxes; none ticked is no
    restriction, stored as null like the API's absent list."""

    def __init__(self, *, choices, columns: int, **kwargs):
        super().__init__(choices=choices, coerce=int, required=False, widget=CheckboxGridWidget(columns=columns),
                         **kwargs)  # fmt: skip

    def clean(self, value):
        return sorted(super().clean(value)) or None


class CodeListField(forms.CharField):
    """A list of codes (SKUs) typed one per line or separated by commas; empty is no restriction (null)."""

    def __init__(self, **kwargs):
        super().__init__(required=False, widget=UnfoldAdminTextareaWidget(attrs={"rows": 2}), **kwargs)

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def clean(self, value):
        codes = [code.strip() for code in (super().clean(value) or "").replace(",", "\n").splitlines()]
        return [code for code in codes if code] or None


class EmailListField(CodeListField):
    """E-mail addresses typed one per line or separated by commas, each checked; stored as a list (empty: [])."""

    def clean(self, value):
        text = (value or "").strip()
        if text.startswith("["):  # a list pasted as the API writes it (["a@example.com"])
            text = text.strip("[]").replace('"', "").replace("'", "")
        addresses = super().clean(text) or []
        wrong = []
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                wrong.append(address)
        if wrong:
            raise ValidationError(f"Not an e-mail address: {', '.join(wrong)}.")
        return list(dict.fromkeys(addresses))


# A limit of 0 refuses every issual or redemption: the series could never be used.
ZERO_LIMITS = {
    "max_per_member": "A member could never receive a coupon with a limit of 0 per member; leave it empty for no "
    "limit.",
    "series_limit": "No coupon could ever be issued with a series limit of 0; leave it empty for no limit.",
    "redemption_max_per_member": "A member could never redeem with a limit of 0 per member; leave it empty for no "
    "limit.",
    "redemption_series_limit": "No coupon could ever be redeemed with a redemption limit of 0; leave it empty for "
    "no limit.",
}


class CouponSeriesForm(forms.ModelForm):
    limit_notify_emails = EmailListField(
        label="Limit notify e-mails",
        help_text="Who hears when the series nears its limit: one address per line, or separated by commas.",
    )
    redemption_skus = CodeListField(
        label="SKUs it discounts", help_text="One SKU per line (or separated by commas); empty: any line of the basket."
    )
    days_of_week = CheckboxGridField(
        choices=WEEKDAYS,
        columns=7,
        label="Days of the week",
        help_text="Redeemable only on the days ticked; none ticked: every day.",
    )
    days_of_month = CheckboxGridField(
        choices=MONTH_DAYS,
        columns=8,
        label="Days of the month",
        help_text="Redeemable only on these dates; none ticked: every date.",
    )
    hours = CheckboxGridField(
        choices=HOURS,
        columns=8,
        label="Hours",
        help_text="Redeemable only within the hours ticked (store time); none ticked: all day.",
    )
    sample_code = forms.CharField(
        required=False,
        max_length=10,
        help_text="Randomized common codes: 5 to 10 characters; the first half is fixed, the rest is generated. "
        "It cannot change once the series is saved.",
    )

    redemption_stores_type = forms.ChoiceField(
        choices=[("", "Any store (no restriction)"), *OrgEntity.Type.choices],
        required=False,
        label="Redemption restricted to",
        help_text="The type of the entities below: a zone or concept covers the stores in it at the till.",
    )

    class Meta:
        model = CouponSeries
        fields = [
            f.name
            for f in [*CouponSeries._meta.fields, *CouponSeries._meta.many_to_many]
            if f.editable and f.name not in ("id", "code_prefix", "allowed_members", "created_at", "updated_at")
        ]

    def clean(self):
        data = super().clean()
        for name, sentence in ZERO_LIMITS.items():
            if data.get(name) == 0 and name not in self.errors:
                self.add_error(name, sentence)
        if self.errors:
            return data
        if self.instance.pk and any(other.pk == self.instance.pk for other in data.get("exclude_recipients_of") or ()):
            raise ValidationError(
                {
                    "exclude_recipients_of": [
                        "A series cannot exclude the recipients of itself; "
                        "its own issual rules already decide who gets it again."
                    ]
                }
            )
        stores_errors = redemption_stores_errors(
            data.get("redemption_stores_type") or "", data.get("redemption_stores")
        )
        if stores_errors:
            raise ValidationError({"redemption_stores": stores_errors})
        probe = CouponSeries(
            **{f.attname: getattr(self.instance, f.attname) for f in CouponSeries._meta.concrete_fields}
        )
        for name, value in data.items():
            if name in CONCRETE_FIELDS:
                setattr(probe, name, value)
        try:
            if self.instance.pk:
                services.series_check_lock(
                    series=self.instance, fields=data, sample_code=data.get("sample_code") or None
                )
            elif probe.code_mode == CouponSeries.CodeMode.RANDOMIZED_COMMON:
                services.apply_sample_code(probe, data.get("sample_code"))
            services.series_validate(probe, reminders=(), exclude_recipients_of=data.get("exclude_recipients_of") or ())
        except DomainError as exc:
            raise ValidationError([exc.message, *[f"{k}: {' '.join(v)}" for k, v in exc.errors.items()]]) from exc
        return data


def redemption_stores_errors(kind: str, stores) -> list[str]:
    """The admin's twin of the API's `redemption.stores {type, codes}`: a type and its entities, or neither,
    so what the till enforces and what the series list finds by org entity are the same entities."""
    stores = list(stores or [])
    if kind and not stores:
        return ["Choose the entities redemption is restricted to, or no restriction."]
    if stores and not kind:
        return ["Choose the type of the entities redemption is restricted to."]
    wrong = [entity.code for entity in stores if entity.type != kind]
    return [f"Not a {kind}: {', '.join(wrong)}."] if wrong else []


@admin.register(CouponSeries)
class CouponSeriesAdmin(HistoryAdminMixin, DeleteRefusalAdminMixin, ModelAdmin):
    form = CouponSeriesForm
    inlines = [ReminderInline]
    change_form_template = "admin/coupons/couponseries/change_form.html"
    list_display = ["name", "offer", "code_mode", "issued_by", "issued", "redeemed", "remaining"]
    list_filter = ["code_mode", "issued_by"]
    list_select_related = ["offer"]
    search_fields = ["name", "offer__name", "offer__external_id"]
    autocomplete_fields = ["offer", "exclude_recipients_of", "redemption_stores"]
    readonly_fields = ["capacity_summary", "code_prefix", "issued", "redeemed"]
    actions = ["start_bulk_issue"]
    fieldsets = [
        ("Coupon details", {"classes": ["tab"], "fields": [
            "offer", "name", "issued_by", "code_mode", "code_length", "code_charset", "common_code", "sample_code",
            "code_prefix", "capacity_summary", "discount_type", "discount_value", "discount_currency",
            "expiry_mode", "expiry_days", "expiry_months", "specific_members_only",
        ]}),
        ("Issual and reminders", {"fields": [
            "max_per_member", "min_gap_days", "on_rematch", "series_limit", "limit_notify_remaining",
            "limit_notify_emails", "exclude_recipients_of", "exclude_window_days", "resend_sms_template",
            "issued", "redeemed",
        ], "classes": ["tab"], "description": "A third-party series takes none of these, and no reminders."}),
        ("Redemption", {"classes": ["tab"], "fields": [
            "allow_anyone", "redemption_start_mode", "redemption_start_days", "redemption_start_date", "multi_use",
            "redemption_max_per_member", "redemption_stores_type", "redemption_stores", "min_bill", "max_bill",
            "days_of_week", "days_of_month", "hours", "redemption_min_gap_days", "redemption_series_limit",
            "new_members_registered_from", "new_members_registered_to", "new_members_max_transactions",
        ]}),
        ("Baskets and returns", {"fields": [
            "redemption_skus", "stacking_exclusive", "stacking_priority", "on_return",
        ], "classes": ["tab"], "description": "How a coupon prices a basket at the till, combines with other "
                                              "coupons, and what a return of the lines it discounted does."}),
    ]  # fmt: skip

    class BulkIssueForm(admin.helpers.ActionForm):
        segment = forms.ModelChoiceField(
            Segment.objects.all(), required=False, help_text="Empty: the series' own uploaded member list."
        )

    action_form = BulkIssueForm

    def get_urls(self):
        from coupons.lifecycle.admin import series_revoke_view

        view = self.admin_site.admin_view(lambda request, pk: series_revoke_view(self, request, pk))
        bulk = self.admin_site.admin_view(self.bulk_issue_view)
        return [
            path("<int:pk>/revoke/", view, name="coupons_couponseries_revoke"),
            path("<int:pk>/bulk-issue/", bulk, name="coupons_couponseries_bulk_issue"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The series' page carries its hub: coupons by status, uploads, bulk issues, redemptions per day."""
        extra_context = dict(extra_context or {})
        series = CouponSeries.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        if series is not None:
            status = request.GET.get("coupon_status", "")
            hub = series_hub_read(series=series, today=timezone.localdate(), status=status)
            extra_context["hub"] = hub
            extra_context["time_zone_name"] = settings.TIME_ZONE
            extra_context["hub_chart"] = json.dumps({
                "labels": [day.strftime("%d %b") for day in hub.days],
                "datasets": [{"label": "Redemptions", "data": hub.redemptions_per_day,
                              "backgroundColor": "var(--color-primary-600)"}],
            })  # fmt: skip
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Issued")
    def issued(self, series):
        return f"{series.issued_count:,}"

    @admin.display(description="Redeemed")
    def redeemed(self, series):
        return f"{series.redeemed_count:,}"

    @admin.display(description="Remaining")
    def remaining(self, series):
        value = series_capacity(series).remaining
        return "∞" if value is None else f"{value:,}"

    @admin.display(description="Capacity and guessing odds")
    def capacity_summary(self, series):
        if series.pk is None:
            return "Shown once the series is saved."
        cap = series_capacity(series)
        possible = f"{cap.capacity:,} possible codes" if cap.capacity is not None else "No limit on the codes"
        remaining = f"{cap.remaining:,} can still be issued" if cap.remaining is not None else "no limit left to reach"
        text = f"{possible}; {cap.issued:,} issued, {cap.redeemed:,} redeemed, {remaining}."
        if cap.guess_odds is None:
            return text
        odds = (f" A random guess at the till hits a live code about once in {round(1 / cap.guess_odds):,} tries."
                if cap.guess_odds else " A random guess at the till cannot hit a live code yet.")  # fmt: skip
        if cap.guess_warning:
            return format_html(
                "{}{} <strong style='color:#ba2121'>That is more often than once in {:,} tries: use longer codes."
                "</strong>",
                text,
                odds,
                round(1 / GUESS_WARNING_ODDS),
            )
        return text + odds

    def save_model(self, request, obj, form, change):
        actor = Actor.from_admin_user(request.user)
        data = {name: value for name, value in form.cleaned_data.items() if name in CONCRETE_FIELDS}
        data.pop("code_prefix", None)
        sample = form.cleaned_data.get("sample_code") or None
        if change:
            form.instance = services.series_update(series=obj, actor=actor, sample_code=sample, **data)
        else:
            form.instance = services.series_create(actor=actor, sample_code=sample, **data)
        obj.pk = form.instance.pk
        form.instance._audit_before = series_snapshot(form.instance)

    def save_related(self, request, form, formsets, change):
        # The store and exclusion lists and the reminders inline are saved by the admin after the service's
        # save: their changes get an audit row of their own.
        super().save_related(request, form, formsets, change)
        series = form.instance
        audit_updated(actor=Actor.from_admin_user(request.user), obj=series, before=series._audit_before,
                      after=series_snapshot(series))  # fmt: skip

    def delete_model(self, request, obj):
        services.series_delete(series=obj, actor=Actor.from_admin_user(request.user))

    def delete_queryset(self, request, queryset):
        for series in queryset:
            self.delete_model(request, series)

    @admin.action(description="Start bulk issuance (to the chosen segment, or to the series' list)")
    def start_bulk_issue(self, request, queryset):
        segment_id = request.POST.get("segment")
        segment = Segment.objects.filter(pk=segment_id).first() if segment_id else None
        for series in queryset:
            self._bulk_issue_start(request, series, segment)

    def _bulk_issue_start(self, request, series, segment) -> BulkIssueJob | None:
        source = BulkIssueJob.Source.SEGMENT if segment else BulkIssueJob.Source.ALLOWED_LIST
        planned = segment.members.count() if segment else series.allowed_rows.count()
        capacity = series_capacity(series, planned=planned)
        if capacity.guess_warning:
            self.message_user(
                request,
                f"{series}: after this issuance a random guess would hit a live code with odds "
                f"{capacity.guess_odds:.1e} (warning above {GUESS_WARNING_ODDS:.0e}); consider longer codes.",
                messages.WARNING,
            )
        try:
            job = bulk_issue_start(series=series, source=source, segment=segment,
                                   actor=Actor.from_admin_user(request.user))  # fmt: skip
        except DomainError as exc:
            self.message_user(request, f"{series}: {exc.message}", messages.ERROR)
            return None
        self.message_user(request, f"{series}: bulk issuance job {job.pk} queued.")
        return job

    def bulk_issue_view(self, request, pk):
        """The series page's "Start bulk issue": to a segment, or to the series' own uploaded list."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        series = get_object_or_404(CouponSeries, pk=pk)
        form = BulkIssueStartForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            job = self._bulk_issue_start(request, series, form.cleaned_data["segment"])
            if job is not None:
                return redirect(reverse("admin:coupons_couponseries_change", args=[series.pk]) + "#bulk-issues")
        context = {
            **self.admin_site.each_context(request),
            "opts": CouponSeries._meta,
            "series": series,
            "form": form,
            "list_size": series.allowed_rows.count(),
            "title": f"Start a bulk issue of {series}",
        }
        return TemplateResponse(request, "admin/coupons/couponseries/bulk_issue.html", context)


class BulkIssueStartForm(forms.Form):
    segment = forms.ModelChoiceField(
        Segment.objects.order_by("name"),
        required=False,
        empty_label="The series' own uploaded member list",
        widget=UnfoldAdminSelectWidget,
        help_text="Every member of the segment when the issue starts receives a coupon the series' rules allow.",
    )
