from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import FieldDoesNotExist
from django.utils.html import format_html_join

from config.admin_base import ModelAdmin
from config.admin_display import value_in_words
from config.text import code_as_words

from .admin_mixins import AppendOnlyAdminMixin
from .models import AuditEvent
from .selectors import channel_words, object_type_words


class ChannelFilter(admin.SimpleListFilter):
    title = "channel"
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        channels = AuditEvent.objects.order_by("channel").values_list("channel", flat=True).distinct()
        return [(channel, channel_words(channel)) for channel in channels]

    def queryset(self, request, queryset):
        return queryset.filter(channel=self.value()) if self.value() else queryset


class ObjectTypeFilter(admin.SimpleListFilter):
    title = "kind of object"
    parameter_name = "object_type"

    def lookups(self, request, model_admin):
        types = AuditEvent.objects.order_by("object_type").values_list("object_type", flat=True).distinct()
        return [(object_type, object_type_words(object_type)) for object_type in types]

    def queryset(self, request, queryset):
        return queryset.filter(object_type=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(AppendOnlyAdminMixin, ModelAdmin):
    """The Audit log: every recorded change, searchable, read by marketers and member care."""

    list_display = ["at", "kind_of_object", "object_repr", "action", "actor", "through", "summary"]
    list_filter = ["action", ChannelFilter, ObjectTypeFilter]
    search_fields = ["object_repr", "actor", "=object_id"]
    search_help_text = "Search by object name, who made the change, or exact object id."
    date_hierarchy = "at"
    show_full_result_count = False
    fields = ["at", "actor", "through", "action", "kind_of_object", "object_id", "object_repr", "summary",
              "changed_values"]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="Kind of object", ordering="object_type")
    def kind_of_object(self, event):
        return object_type_words(event.object_type)

    @admin.display(description="Through", ordering="channel")
    def through(self, event):
        return channel_words(event.channel)

    @admin.display(description="Changes")
    def changed_values(self, event):
        rows = ((changed_field_words(event.object_type, name), value_in_words(old), value_in_words(new))
                for name, (old, new) in event.changes.items())  # fmt: skip
        return format_html_join("", "<div>{}: {} → {}</div>", rows) or "—"


def changed_field_words(object_type: str, name: str) -> str:
    """A changed field by its label ("Requires activation"); a component's field reads "Earning mechanism: behavior
    type"."""
    try:
        return str(apps.get_model(object_type)._meta.get_field(name).verbose_name).capitalize()
    except (LookupError, ValueError, FieldDoesNotExist):
        return ": ".join(code_as_words(part) if index == 0 else code_as_words(part).lower()
                         for index, part in enumerate(name.split(".", 1)))  # fmt: skip


# Logins and lockouts (django-axes) and the staff accounts, in the same style as every other screen.
def _restyled(model, admin_class):
    if not admin.site.is_registered(model):
        return
    admin.site.unregister(model)
    admin.site.register(model, type(admin_class.__name__, (admin_class, ModelAdmin), {"__module__": __name__}))


for _model, _admin_class in (
    (AccessAttempt, AccessAttemptAdmin),
    (AccessLog, AccessLogAdmin),
    (AccessFailureLog, AccessFailureLogAdmin),
    (User, UserAdmin),
    (Group, GroupAdmin),
):
    _restyled(_model, _admin_class)
