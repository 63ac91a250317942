from django.contrib import admin, messages

from .models import ApiClient


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "key_prefix", "is_active", "created_at"]
    list_filter = ["role", "is_active"]
    search_fields = ["name"]
    filter_horizontal = ["stores"]
    readonly_fields = ["key_prefix", "created_at"]
    actions = ["rotate_key"]

    def save_model(self, request, obj, form, change):
        if not change:
            key = obj.set_new_key()
            messages.warning(request, f"Token for {obj.name} (shown once, copy it now): {key}")
        super().save_model(request, obj, form, change)

    @admin.action(description="Issue a new token (the old one stops working)")
    def rotate_key(self, request, queryset):
        for client in queryset:
            key = client.set_new_key()
            client.save(update_fields=["key_hash", "key_prefix"])
            messages.warning(request, f"New token for {client.name} (shown once): {key}")
