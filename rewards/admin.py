from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from audit.admin_mixins import AppendOnlyAdminMixin, AuditedAdminMixin, HistoryAdminMixin
from audit.selectors import HistoryRow
from config.actors import Actor
from config.admin_base import ImportExportModelAdmin, ModelAdmin, TabularInline
from config.admin_display import code_in_words, status_move_words
from config.errors import DomainError
from exports.admin_buttons import BackgroundExportAdminMixin
from members.admin_tabs import MemberTab, register_member_tab

from . import selectors, services
from .forms import CertificateCodeGenerateForm
from .models import CertificateCode, CertificateCodeEvent, Reward, RewardRedemption
from .resources import CertificateCodeResource


@admin.register(Reward)
class RewardAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ["external_id", "name", "type", "cost_points", "active", "codes_unused", "created_at"]
    list_filter = ["active", "type"]
    search_fields = ["=external_id", "name"]

    def get_queryset(self, request):
        return selectors.reward_with_stock_list()

    @admin.display(description="Unused codes", ordering="codes_unused")
    def codes_unused(self, reward):
        return reward.codes_unused


class CertificateCodeEventInline(AppendOnlyAdminMixin, TabularInline):
    model = CertificateCodeEvent
    fields = ["at", "old_status", "new_status", "redemption", "actor", "channel", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(CertificateCode)
class CertificateCodeAdmin(BackgroundExportAdminMixin, HistoryAdminMixin, ImportExportModelAdmin):
    export_dataset = "certificate_codes"
    """The Reward Certificates screen: search, generate, fulfil, import and export codes."""

    resource_classes = [CertificateCodeResource]
    list_display = [
        "code",
        "status",
        "reward",
        "member_external_id",
        "redemption_id",
        "created_at",
        "status_changed_at",
    ]
    list_filter = ["status", "reward"]
    list_select_related = ["reward", "member"]
    search_fields = ["=code", "=member__external_id"]
    search_help_text = "Search by exact code or member external id."
    show_full_result_count = False
    readonly_fields = [
        "code",
        "reward",
        "status",
        "member",
        "redemption",
        "created_at",
        "status_changed_at",
        "assigned_at",
        "fulfilled_at",
    ]
    inlines = [CertificateCodeEventInline]
    actions = ["mark_fulfilled"]
    import_export_change_list_template = "admin/rewards/certificatecode/change_list.html"

    def history_events(self, code):
        return [
            HistoryRow(
                event.at,
                event.actor,
                event.channel,
                status_move_words(event.old_status, event.new_status, CertificateCode.Status.choices),
                code_in_words(event.reason),
            )
            for event in code.events.all()
        ]

    def has_add_permission(self, request):
        return False  # codes come from generation or import

    def has_change_permission(self, request, obj=None):
        return False  # status moves only through services (redeem, award, fulfil…)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Member", ordering="member__external_id")
    def member_external_id(self, code):
        return code.member.external_id if code.member else ""

    @admin.action(description="Mark selected codes fulfilled")
    def mark_fulfilled(self, request, queryset):
        done, refused = services.certificate_codes_fulfill(
            codes=queryset, actor=Actor.from_admin_user(request.user), reason="admin"
        )
        refused = [f"{code} ({status})" for code, status in refused]
        if done:
            self.message_user(request, f"{done} code(s) marked fulfilled.", messages.SUCCESS)
        if refused:
            self.message_user(
                request, f"Not fulfilled, only redeemed or awarded codes can be: {', '.join(refused)}", messages.WARNING
            )

    def get_urls(self):
        custom = [
            path(
                "generate/",
                self.admin_site.admin_view(self.generate_view),
                name="rewards_certificatecode_generate",
            )
        ]
        return custom + super().get_urls()

    def generate_view(self, request):
        if not self.has_view_permission(request) or not request.user.has_perm("rewards.add_certificatecode"):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = CertificateCodeGenerateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                created = services.certificate_codes_generate(
                    **form.cleaned_data, actor=Actor.from_admin_user(request.user)
                )
            except DomainError as exc:
                for field, errors in (exc.errors or {"__all__": [exc.message]}).items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                target = form.cleaned_data["reward"] or "the bank"
                self.message_user(request, f"{created:,} codes generated for {target}.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:rewards_certificatecode_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Generate certificate codes",
            "form": form,
        }
        return TemplateResponse(request, "admin/rewards/certificatecode/generate.html", context)


@admin.register(RewardRedemption)
class RewardRedemptionAdmin(AppendOnlyAdminMixin, ModelAdmin):
    list_display = ["id", "created_at", "reward", "member", "kind", "points_spent", "code", "actor", "channel"]
    list_filter = ["kind", "reward"]
    list_select_related = ["reward", "member", "certificate_code"]
    search_fields = ["=member__external_id", "=certificate_code__code"]
    show_full_result_count = False

    @admin.display(description="Certificate code")
    def code(self, redemption):
        code = getattr(redemption, "certificate_code", None)
        if code is None:
            return ""
        url = reverse("admin:rewards_certificatecode_change", args=[code.pk])
        return format_html('<a href="{}">{}</a>', url, code.code)


register_member_tab(
    MemberTab(
        key="rewards",
        title="Rewards",
        template="admin/rewards/member_tab_rewards.html",
        context=lambda request, member: {
            "member": member,
            "codes": selectors.member_certificate_codes(member=member),
            "redemptions": selectors.member_reward_redemptions(member=member),
        },
        order=40,
    )
)
