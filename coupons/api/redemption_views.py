"""Till endpoints: validate, redeem and reverse coupon redemptions."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.actors import Actor
from config.api.idempotency import idempotent
from config.api.permissions import ensure_store_permitted
from config.api.roles import POS_ONLY

from .. import guessing, redemption, rules
from ..exceptions import RedemptionError
from ..models import CouponRedemption
from .serializers import (
    RedeemInputSerializer,
    RedemptionInputSerializer,
    RedemptionOutputSerializer,
    ValidationOutputSerializer,
    coupon_body,
    redemption_body,
)


class TooManyUnknownCodes(exceptions.Throttled):
    default_code = "too_many_unknown_codes"
    default_detail = "Too many unknown coupon codes from this client; wait before trying again."

    def __init__(self, wait):
        super().__init__(wait=wait, detail=self.default_detail, code=self.default_code)


class UnknownCodeGuardMixin:
    """Refuse a client that has tried too many unknown codes this minute, before any other work."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        wait = guessing.client_blocked(client=request.user)
        if wait is not None:
            raise TooManyUnknownCodes(wait)

    def note_unknown(self, request, code):
        attempts = guessing.unknown_code_note(client=request.user, code=code)
        return attempts


class CouponValidateApi(UnknownCodeGuardMixin, APIView):
    roles = POS_ONLY

    @extend_schema(request=RedemptionInputSerializer, responses=ValidationOutputSerializer)
    def post(self, request):
        serializer = RedemptionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ensure_store_permitted(request.user, data["store"])
        result = redemption.coupon_validate(
            code=data["code"], member=data["member"], store=data["store"], bill_amount=data["bill_amount"],
            at=data.get("at"),
        )  # fmt: skip
        if result.coupon is None:
            self.note_unknown(request, data["code"])
        coupon = None
        if result.coupon is not None:
            owner = data["member"].external_id if result.coupon.member_id == data["member"].pk else None
            coupon = coupon_body(result.coupon, member_external_id=owner)
        return Response({"valid": result.valid, "reasons": result.reasons, "coupon": coupon})


class CouponRedeemApi(UnknownCodeGuardMixin, APIView):
    roles = POS_ONLY

    @extend_schema(request=RedeemInputSerializer, responses={201: RedemptionOutputSerializer})
    @idempotent
    def post(self, request):
        serializer = RedeemInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ensure_store_permitted(request.user, data["store"])
        try:
            row = redemption.coupon_redeem(
                code=data["code"], member=data["member"], store=data["store"], bill_amount=data["bill_amount"],
                transaction_id=data.get("transaction_id", ""), at=data.get("at"), actor=Actor.from_request(request),
            )  # fmt: skip
        except RedemptionError as exc:
            if exc.reasons == [rules.COUPON_NOT_FOUND]:
                self.note_unknown(request, data["code"])
            raise
        body = redemption_body(row, code=row.coupon.code, member=data["member"].external_id, store=data["store"].code)
        return Response(body, status=status.HTTP_201_CREATED)


class RedemptionReverseApi(APIView):
    roles = POS_ONLY

    @extend_schema(request=None, responses=RedemptionOutputSerializer)
    @idempotent
    def post(self, request, pk):
        row = get_object_or_404(CouponRedemption.objects.select_related("store", "member", "coupon"), pk=pk)
        ensure_store_permitted(request.user, row.store)
        code, member, store = row.coupon.code, row.member.external_id, row.store.code
        row = redemption.redemption_reverse(redemption=row, actor=Actor.from_request(request))
        return Response(redemption_body(row, code=code, member=member, store=store))
