"""Resending a coupon to its member over the API."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from config.actors import Actor
from config.api.roles import STAFF
from coupons import selectors
from coupons.notify.resend import coupon_resend
from coupons.notify.serializers import ResendOutputSerializer


class CouponResendApi(APIView):
    roles = STAFF

    @extend_schema(request=None, responses=ResendOutputSerializer)
    def post(self, request, code):
        coupon = selectors.coupon_by_code(code=code, member_external_id=request.query_params.get("member"))
        if coupon is None:
            raise Http404("No coupon has this code.")
        resend = coupon_resend(coupon=coupon, actor=Actor.from_request(request))
        return Response(ResendOutputSerializer(resend).data)
