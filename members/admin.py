from django.contrib import admin
from django.template.loader import render_to_string
from import_export.admin import ImportExportModelAdmin

from audit.admin_mixins import AppendOnlyAdminMixin, AuditedAdminMixin
from exports.admin_buttons import BackgroundExportAdminMixin

from .admin_tabs import MemberTab, member_tabs, register_member_tab
from .models import Member, OrgEntity, PointsEntry, Segment
from .resources import MemberResource
from .selectors import points_history


@admin.register(Segment)
class SegmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(OrgEntity)
class OrgEntityAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "type", "parent", "concept", "time_zone", "currency"]
    list_filter = ["type"]
    list_select_related = ["parent", "concept"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent", "concept"]


@admin.register(Member)
class MemberAdmin(BackgroundExportAdminMixin, AuditedAdminMixin, ImportExportModelAdmin):
    export_dataset = "members"
    export_filters = {"status__exact": "status"}
    resource_classes = [MemberResource]
    list_display = ["external_id", "first_name", "last_name", "email", "mobile", "status", "points_balance"]
    list_filter = ["status", "segments"]
    # A name is searched from its start ("Kim" finds Kim Lee; "Kim Lee" needs both), as marketers type it.
    search_fields = ["=external_id", "email", "mobile", "=user_id", "^first_name", "^last_name"]
    readonly_fields = ["points_balance"]
    filter_horizontal = ["segments"]
    show_full_result_count = False
    change_form_template = "admin/members/member/change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        member = self.get_object(request, object_id)
        if member is not None:
            extra_context["member_tabs"] = [
                {
                    "key": tab.key,
                    "title": tab.title,
                    "html": render_to_string(tab.template, tab.context(request, member), request=request),
                }
                for tab in member_tabs()
            ]
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(PointsEntry)
class PointsEntryAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
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
