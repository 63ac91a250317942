from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.roles import ANY_ROLE, Role
from coupons import selectors
from coupons.api.serializers import CouponOutputSerializer
from coupons.models import Coupon
from coupons.redemption import guessing
from coupons.redemption.unknown_code_guard import UnknownCodeGuardMixin
from members.models import Member


class CouponDetailApi(UnknownCodeGuardMixin, APIView):
    """One coupon by code. For a POS client the lookup is guarded as a till's validation is: a blocked
    client gets 429, and an unknown code counts (under the client and the stores in its scope)."""

    roles = ANY_ROLE

    @extend_schema(responses=CouponOutputSerializer)
    def get(self, request, code):
        guarded = request.user.role == Role.POS
        if guarded:
            store_ids = guessing.scope_store_ids(request.user)
            self.refuse_if_blocked(request, store_ids=store_ids)
        coupon = selectors.coupon_by_code(code=code, member_external_id=request.query_params.get("member"))
        if coupon is None:
            if guarded:
                self.note_unknown(request, code, store_ids=store_ids)
            raise Http404("No coupon has this code.")
        return Response(CouponOutputSerializer(coupon).data)


class MemberCouponListApi(generics.ListAPIView):
    roles = ANY_ROLE
    serializer_class = CouponOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Coupon.objects.none()
        member = get_object_or_404(Member, external_id=self.kwargs["external_id"])
        return selectors.member_coupons(member=member)
