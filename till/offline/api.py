"""`POST /api/v1/offline-redemptions`: what a till redeemed while it was offline."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config import ranges
from config.actors import Actor
from config.api.fields import AwareDateTimeField
from config.api.idempotency import idempotent
from config.api.permissions import ensure_store_permitted
from config.api.roles import POS_ONLY
from members.models import OrgEntity
from till.offline import services


class OfflineRedemptionInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64)
    member = serializers.CharField(max_length=64, help_text="The member's external id.")
    redeemed_at = AwareDateTimeField(help_text="When the till redeemed it; within the offline window.")
    bill_amount = serializers.DecimalField(**ranges.MONEY.bounds)
    transaction_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class OfflineBatchInputSerializer(serializers.Serializer):
    batch_id = serializers.CharField(max_length=100)
    store = serializers.SlugRelatedField(
        slug_field="code", queryset=OrgEntity.objects.filter(type__in=[OrgEntity.Type.STORE, OrgEntity.Type.TILL])
    )
    redemptions = serializers.ListField(
        child=OfflineRedemptionInputSerializer(),
        min_length=ranges.OFFLINE_BATCH_ROWS.min,
        max_length=ranges.OFFLINE_BATCH_ROWS.max,
    )


class OfflineAcceptedOutputSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    redemption_id = serializers.IntegerField()


class OfflineRejectedOutputSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    code = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())


class OfflineBatchOutputSerializer(serializers.Serializer):
    batch_id = serializers.CharField()
    accepted = OfflineAcceptedOutputSerializer(many=True)
    rejected = OfflineRejectedOutputSerializer(many=True)


class OfflineRedemptionsApi(APIView):
    roles = POS_ONLY

    @extend_schema(request=OfflineBatchInputSerializer, responses=OfflineBatchOutputSerializer)
    @idempotent
    def post(self, request):
        serializer = OfflineBatchInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ensure_store_permitted(request.user, data["store"])
        batch, _created = services.offline_batch_record(
            batch_id=data["batch_id"], store=data["store"],
            rows=[services.OfflineRow(**row) for row in data["redemptions"]], actor=Actor.from_request(request),
        )  # fmt: skip
        return Response(batch.response_body)
