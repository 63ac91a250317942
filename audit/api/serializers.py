from rest_framework import serializers

from audit.models import AuditEvent


class AuditEventOutputSerializer(serializers.ModelSerializer):
    changes = serializers.DictField(
        child=serializers.ListField(child=serializers.JSONField(), min_length=2, max_length=2),
        help_text="field → [old, new]; decimals, dates and times as text",
    )

    class Meta:
        model = AuditEvent
        fields = ["id", "at", "actor", "channel", "action", "object_type", "object_id", "object_repr", "changes",
                  "summary"]  # fmt: skip
