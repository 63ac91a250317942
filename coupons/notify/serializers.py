"""API shape of a resent coupon message."""

from rest_framework import serializers

from config.api.fields import AwareDateTimeField


class ResendOutputSerializer(serializers.Serializer):
    code = serializers.CharField(source="coupon.code")
    channel = serializers.CharField()
    recipient = serializers.CharField()
    message = serializers.CharField()
    sent_at = AwareDateTimeField()
