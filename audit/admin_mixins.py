"""ModelAdmin mixins: an object's History from the audit trail, append-only screens, refused deletes,
and the audit rows of objects the admin saves with its own form."""

from django.contrib import messages
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.text import capfirst

from config.actors import Actor

from . import services
from .protection import delete_refusal
from .selectors import object_history
from .snapshots import snapshot


class AppendOnlyAdminMixin:
    """Rows nobody adds, changes or deletes from the admin, superusers included: they are history."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HistoryAdminMixin:
    """The object's History page lists its audit rows, and the status events `history_events` gives."""

    history_template = "admin/audit/object_history.html"

    def history_events(self, obj):
        """Status events of `obj` as audit.selectors.HistoryRow; none by default."""
        return ()

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"History: {obj}",
            "subtitle": None,
            "rows": object_history(obj, events=self.history_events(obj)),
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "object": obj,
            "opts": self.opts,
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.history_template, context)


class DeleteRefusalAdminMixin:
    """A delete that would remove kept history is refused with a message, the object left as it was."""

    def delete_refusal(self, obj) -> str | None:
        return delete_refusal(obj)

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and (refusal := self.delete_refusal(obj)):
            self.message_user(request, refusal, messages.ERROR)
            return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", obj.pk)
        return super().delete_view(request, object_id, extra_context)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            actions["delete_selected"] = (
                _delete_selected_unless_kept,
                "delete_selected",
                actions["delete_selected"][2],
            )
        return actions


def _delete_selected_unless_kept(modeladmin, request, queryset):
    refusals = [refusal for obj in queryset if (refusal := modeladmin.delete_refusal(obj))]
    if refusals:
        for refusal in refusals:
            modeladmin.message_user(request, refusal, messages.ERROR)
        return None
    return delete_selected(modeladmin, request, queryset)


class AuditedAdminMixin(HistoryAdminMixin, DeleteRefusalAdminMixin):
    """For set-up objects the admin saves with its own form: each create, change and delete is audited.

    The values before are read from the database before the form's object is saved; the row is written
    after the inlines and many-to-many fields are saved, in the admin view's transaction.
    """

    audit_exclude = ()  # fields never shown in the trail (secrets)

    def audit_snapshot(self, obj) -> dict:
        return snapshot(obj, exclude=self.audit_exclude)

    def save_model(self, request, obj, form, change):
        before = None
        if change:
            stored = type(obj)._default_manager.filter(pk=obj.pk).first()
            before = self.audit_snapshot(stored) if stored is not None else None
        super().save_model(request, obj, form, change)
        obj._audit_before = before

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        actor = Actor.from_admin_user(request.user)
        before = getattr(obj, "_audit_before", None)
        if before is None:
            services.audit_created(actor=actor, obj=obj, after=self.audit_snapshot(obj))
        else:
            services.audit_updated(actor=actor, obj=obj, before=before, after=self.audit_snapshot(obj))

    def delete_model(self, request, obj):
        before, pk = self.audit_snapshot(obj), obj.pk
        super().delete_model(request, obj)
        services.audit_deleted(actor=Actor.from_admin_user(request.user), obj=obj, before=before, object_id=pk)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)
