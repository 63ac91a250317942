from rest_framework import serializers

from webhooks.events import EVENT_TYPES
from webhooks.models import Delivery, DeliveryAttempt, Endpoint


class EndpointInputSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES), allow_empty=False,
                                   max_length=len(EVENT_TYPES) * 2)  # fmt: skip
    active = serializers.BooleanField(default=True)
    description = serializers.CharField(max_length=200, default="", allow_blank=True)


class EndpointUpdateSerializer(EndpointInputSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            field.default = serializers.empty


class EndpointOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Endpoint
        fields = ["id", "url", "description", "events", "active", "disabled_reason", "disabled_at", "created_at"]


class EndpointCreatedSerializer(EndpointOutputSerializer):
    secret = serializers.CharField(help_text="Signs every delivery (Standard Webhooks); shown only in this answer")

    class Meta(EndpointOutputSerializer.Meta):
        fields = [*EndpointOutputSerializer.Meta.fields, "secret"]


class DeliveryAttemptOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "at", "succeeded", "response_code", "duration_ms", "error"]


class DeliveryOutputSerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(source="event.public_id")
    type = serializers.CharField(source="event.type")
    object_type = serializers.CharField(source="event.object_type")
    object_id = serializers.CharField(source="event.object_id")
    attempt_log = DeliveryAttemptOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "endpoint", "event_id", "type", "object_type", "object_id", "status", "attempts",
                  "response_code", "duration_ms", "error", "next_attempt_at", "created_at", "finished_at",
                  "attempt_log"]  # fmt: skip
