from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from audit.admin_mixins import AppendOnlyAdminMixin, HistoryAdminMixin
from config.actors import Actor
from config.admin_base import ModelAdmin, TabularInline
from config.admin_display import code_in_words
from config.errors import DomainError

from . import selectors, services
from .events import EVENT_TYPE_CHOICES
from .guard import url_check
from .models import Delivery, DeliveryAttempt, Endpoint, Event


class EndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(choices=[(code, code_in_words(code)) for code, _label in EVENT_TYPE_CHOICES],
                                       widget=forms.CheckboxSelectMultiple,
                                       help_text="What this receiver is told about.")  # fmt: skip

    class Meta:
        model = Endpoint
        fields = ["url", "description", "events", "active"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            url_check(url)
        except DomainError as error:
            raise forms.ValidationError(error.message) from error
        return url


def _disabled_notice(request, endpoints) -> None:
    for endpoint in endpoints:
        messages.warning(request, format_html(
            "The webhook endpoint {} is turned off: {} Once the receiver works again, tick Active to send what "
            "it missed.", endpoint, endpoint.disabled_reason))  # fmt: skip


@admin.register(Endpoint)
class EndpointAdmin(HistoryAdminMixin, ModelAdmin):
    """Receivers other systems run. The secret is shown once, in the message after the endpoint is added."""

    form = EndpointForm
    list_display = ["__str__", "url", "active", "event_types", "disabled_reason", "created_at"]
    list_filter = ["active"]
    search_fields = ["url", "description"]
    readonly_fields = ["secret_hint", "disabled_reason", "disabled_at", "failing_since", "created_at"]

    @admin.display(description="events")
    def event_types(self, obj):
        return format_html_join(", ", "{}", ((code_in_words(code),) for code in obj.events))

    @admin.display(description="secret")
    def secret_hint(self, obj):
        return obj.secret_hint or "shown once, after saving"

    def changelist_view(self, request, extra_context=None):
        _disabled_notice(request, selectors.endpoints_disabled())
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            _disabled_notice(request, selectors.endpoints_disabled().filter(pk=object_id))
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        actor = Actor.from_admin_user(request.user)
        values = {name: form.cleaned_data[name] for name in ("url", "description", "events", "active")}
        if change:
            services.endpoint_update(endpoint=obj, actor=actor, **values)
            obj.refresh_from_db()
            return
        endpoint, secret = services.endpoint_create(actor=actor, **values)
        obj.pk, obj.secret, obj.created_at = endpoint.pk, endpoint.secret, endpoint.created_at
        obj._state.adding = False
        messages.warning(
            request,
            format_html(
                "The signing secret of this endpoint, shown only now: <code>{}</code>. Give it to the receiver.", secret
            ),
        )

    def delete_model(self, request, obj):
        services.endpoint_delete(endpoint=obj, actor=Actor.from_admin_user(request.user))

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            services.endpoint_delete(endpoint=endpoint, actor=Actor.from_admin_user(request.user))


class DeliveryAttemptInline(AppendOnlyAdminMixin, TabularInline):
    model = DeliveryAttempt
    fields = ["number", "at", "succeeded", "response_code", "duration_ms", "error"]
    readonly_fields = fields
    extra = 0


@admin.register(Delivery)
class DeliveryAdmin(AppendOnlyAdminMixin, ModelAdmin):
    """The delivery log: every event sent to every endpoint, its attempts, and a button to send it again."""

    list_display = ["id", "event_type", "subject", "endpoint", "status", "attempts", "response_code", "duration_ms",
                    "next_attempt_at", "finished_at"]  # fmt: skip
    list_filter = ["status", "endpoint"]
    list_select_related = ["event", "endpoint"]
    search_fields = ["=subject", "=event__id"]
    search_help_text = "Search by exact object (e.g. coupon:42) or event number."
    readonly_fields = ["endpoint", "event", "subject", "status", "attempts", "next_attempt_at", "response_code",
                       "duration_ms", "error", "created_at", "finished_at"]  # fmt: skip
    inlines = [DeliveryAttemptInline]
    actions = ["send_again"]

    @admin.display(description="event", ordering="event__type")
    def event_type(self, obj):
        return obj.event.type

    @admin.action(description="Send the selected deliveries again")
    def send_again(self, request, queryset):
        actor, sent = Actor.from_admin_user(request.user), 0
        for delivery in queryset.select_related("endpoint"):
            try:
                services.delivery_retry(delivery=delivery, actor=actor)
                sent += 1
            except DomainError as error:
                self.message_user(request, f"Delivery {delivery.pk}: {error.message}", messages.ERROR)
        if sent:
            self.message_user(request, f"{sent} deliveries will be sent again.")


@admin.register(Event)
class EventAdmin(AppendOnlyAdminMixin, ModelAdmin):
    """The outbox: what happened, as other systems are told."""

    list_display = ["id", "type", "object_type", "object_id", "created_at", "dispatched_at"]
    list_filter = ["type"]
    search_fields = ["=object_id"]
    readonly_fields = ["type", "object_type", "object_id", "data", "created_at", "dispatched_at"]
    show_full_result_count = False  # a count of millions of rows is no use on every page
