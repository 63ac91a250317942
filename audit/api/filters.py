import django_filters
from django import forms

from audit.models import AuditEvent

OBJECT_TYPE_FORMAT = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"


class ObjectTypeFilter(django_filters.CharFilter):
    """`app_label.model` in lower case (`coupons.couponseries`); anything else answers 400."""

    field_class = forms.RegexField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("regex", OBJECT_TYPE_FORMAT)
        kwargs.setdefault("max_length", AuditEvent._meta.get_field("object_type").max_length)
        super().__init__(*args, **kwargs)


class AuditEventFilterSet(django_filters.FilterSet):
    object_type = ObjectTypeFilter(help_text="app_label.model, e.g. offers.offer or coupons.couponseries")
    object_id = django_filters.CharFilter(
        max_length=AuditEvent._meta.get_field("object_id").max_length, help_text="The object's id, as text"
    )
    action = django_filters.ChoiceFilter(choices=AuditEvent.Action.choices)

    class Meta:
        model = AuditEvent
        fields = ["object_type", "object_id", "action"]
