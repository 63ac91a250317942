from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.code_images import CodeImageViewMixin, code_image_schema
from config.api.roles import ANY_ROLE
from coupons import selectors
from coupons.api.serializers import CouponOutputSerializer
from coupons.models import Coupon
from coupons.redemption.unknown_code_guard import UnknownCodeGuardMixin
from members.models import Member


class CouponDetailApi(UnknownCodeGuardMixin, APIView):
    """One coupon by code. For a POS client the lookup is guarded as a till's validation is: a blocked
    client gets 429, and an unknown code counts (under the client and the stores in its scope)."""

    roles = ANY_ROLE

    @extend_schema(responses=CouponOutputSerializer)
    def get(self, request, code):
        return Response(CouponOutputSerializer(_coupon_by_code(self, request, code)).data)


class CouponImageApi(CodeImageViewMixin, UnknownCodeGuardMixin, APIView):
    """A coupon's code as a QR or Code 128 image: the rights and the guard of reading the coupon by code."""

    roles = ANY_ROLE

    @code_image_schema("A coupon's code as a scannable image")
    def get(self, request, code):
        query = self.image_query(request)
        return self.image_response(request, _coupon_by_code(self, request, code).code, query)


def _coupon_by_code(view, request, code):
    member = request.query_params.get("member")
    coupon = view.find_by_code(
        request, code, lambda code: selectors.coupon_by_code(code=code, member_external_id=member)
    )
    if coupon is None:
        raise Http404("No coupon has this code.")
    return coupon


class MemberCouponListApi(generics.ListAPIView):
    roles = ANY_ROLE
    serializer_class = CouponOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Coupon.objects.none()
        member = get_object_or_404(Member, external_id=self.kwargs["external_id"])
        return selectors.member_coupons(member=member)
