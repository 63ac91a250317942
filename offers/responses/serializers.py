from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from offers.models import OfferResponse, OfferResponseEvent
from offers.responses import rules, selectors


class OfferResponseClaimInputSerializer(serializers.Serializer):
    certificate_code = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class OfferResponseTransitionInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[(s, s) for s in rules.STATUSES])
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class OfferResponseEventOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = OfferResponseEvent
        fields = ["at", "from_status", "to_status", "actor", "channel", "reason"]


class OfferResponseOutputSerializer(serializers.ModelSerializer):
    offer = serializers.IntegerField(source="offer_id")
    member = serializers.CharField(source="member.external_id")
    usage_period_active = serializers.SerializerMethodField()
    offer_details = serializers.JSONField(source="offer_snapshot")

    class Meta:
        model = OfferResponse
        fields = [
            "id",
            "offer",
            "member",
            "status",
            "source",
            "certificate_code",
            "created_at",
            "status_changed_at",
            "expires_at",
            "usage_period_active",
            "offer_details",
        ]

    @extend_schema_field(serializers.BooleanField())
    def get_usage_period_active(self, response) -> bool:
        return selectors.offer_response_usage_active(response)


class OfferResponseDetailOutputSerializer(OfferResponseOutputSerializer):
    events = OfferResponseEventOutputSerializer(many=True, read_only=True)

    class Meta(OfferResponseOutputSerializer.Meta):
        fields = [*OfferResponseOutputSerializer.Meta.fields, "events"]
