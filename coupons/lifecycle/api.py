"""Revoking a series' coupons and transferring a coupon over the API."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from config.actors import Actor
from config.api.idempotency import idempotent
from config.api.roles import MARKETER_ONLY, STAFF
from coupons import selectors
from coupons.api.serializers import CouponOutputSerializer
from coupons.lifecycle.revoke import members_by_external_id, series_revoke
from coupons.lifecycle.serializers import RevokeInputSerializer, TransferInputSerializer
from coupons.lifecycle.transfer import coupon_transfer
from coupons.models import CouponSeries


class SeriesRevokeApi(APIView):
    roles = MARKETER_ONLY

    @extend_schema(request=RevokeInputSerializer, responses={200: dict})
    @idempotent
    def post(self, request, pk):
        series = get_object_or_404(CouponSeries, pk=pk)
        serializer = RevokeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        members = members_by_external_id(data.get("members") or []) if data["mode"] == "members" else []
        revoked = series_revoke(series=series, mode=data["mode"], members=members, confirm=data["confirm"],
                                           actor=Actor.from_request(request))  # fmt: skip
        return Response({"revoked": revoked})


class CouponTransferApi(APIView):
    roles = STAFF

    @extend_schema(request=TransferInputSerializer, responses=CouponOutputSerializer)
    @idempotent
    def post(self, request, code):
        coupon = selectors.coupon_by_code(code=code)
        if coupon is None:
            raise Http404("No coupon has this code.")
        serializer = TransferInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        coupon = coupon_transfer(coupon=coupon, to_member=serializer.validated_data["member"],
                                            actor=Actor.from_request(request))  # fmt: skip
        return Response(CouponOutputSerializer(coupon).data)
