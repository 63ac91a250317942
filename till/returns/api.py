"""`POST /api/v1/transactions/{transaction_id}/returns`: the till records goods brought back."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config import ranges
from config.actors import Actor
from config.api.idempotency import idempotent
from config.api.permissions import ensure_store_permitted
from config.api.roles import POS_ONLY
from members.models import OrgEntity
from till.returns import services
from till.returns.exceptions import PURCHASE_NOT_FOUND, ReturnError

TRANSACTION_ID_MAX_LENGTH = 100


class ReturnLineInputSerializer(serializers.Serializer):
    line_ref = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(**ranges.QUANTITY.bounds)


class ReturnInputSerializer(serializers.Serializer):
    return_id = serializers.CharField(max_length=100)
    store = serializers.SlugRelatedField(
        slug_field="code",
        queryset=OrgEntity.objects.filter(type__in=[OrgEntity.Type.STORE, OrgEntity.Type.TILL]),
        help_text="The store of the purchase.",
    )
    lines = serializers.ListField(
        child=ReturnLineInputSerializer(), min_length=ranges.RETURN_LINES.min, max_length=ranges.RETURN_LINES.max
    )


class ReturnCouponOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    outcome = serializers.ChoiceField(choices=["reinstated", "forfeited", "kept"])


class ReturnOutputSerializer(serializers.Serializer):
    return_id = serializers.CharField()
    points_reversed = serializers.IntegerField(help_text="Points taken back from the member's balance.")
    points_shortfall = serializers.IntegerField(help_text="Points that should have been taken back but were not "
                                                "there: the balance stops at zero.")  # fmt: skip
    points_balance = serializers.IntegerField()
    coupons = ReturnCouponOutputSerializer(many=True)


class ReturnRecordApi(APIView):
    roles = POS_ONLY

    @extend_schema(request=ReturnInputSerializer, responses={201: ReturnOutputSerializer, 200: ReturnOutputSerializer})
    @idempotent
    def post(self, request, transaction_id):
        serializer = ReturnInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ensure_store_permitted(request.user, data["store"])
        if len(transaction_id) > TRANSACTION_ID_MAX_LENGTH or "\x00" in transaction_id:
            raise ReturnError("No such purchase is recorded.", code=PURCHASE_NOT_FOUND, http_status=404)
        body, created = services.return_record(
            transaction_id=transaction_id, store=data["store"], return_id=data["return_id"], lines=data["lines"],
            actor=Actor.from_request(request),
        )  # fmt: skip
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
