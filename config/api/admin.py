from django.contrib import admin, messages

from audit.admin_mixins import AuditedAdminMixin
from config.actors import Actor
from config.admin_base import ModelAdmin

from .models import ApiClient
from .services import SECRET_FIELDS, api_client_token_reissue


@admin.register(ApiClient)
class ApiClientAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ["name", "role", "key_prefix", "is_active", "created_at"]
    list_filter = ["role", "is_active"]
    search_fields = ["name"]
    filter_horizontal = ["stores"]
    readonly_fields = ["key_prefix", "created_at"]
    actions = ["rotate_key"]
    audit_exclude = SECRET_FIELDS

    def save_model(self, request, obj, form, change):
        if not change:
            key = obj.set_new_key()
            messages.warning(request, f"Token for {obj.name} (shown once, copy it now): {key}")
        super().save_model(request, obj, form, change)

    @admin.action(description="Issue a new token (the old one stops working)")
    def rotate_key(self, request, queryset):
        actor = Actor.from_admin_user(request.user)
        for client in queryset:
            key = api_client_token_reissue(client=client, actor=actor)
            messages.warning(request, f"New token for {client.name} (shown once): {key}")
