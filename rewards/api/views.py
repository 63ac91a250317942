from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.actors import Actor
from config.api.code_images import CodeImageViewMixin, code_image_schema
from config.api.idempotency import idempotent
from config.api.roles import ANY_ROLE, MARKETER_ONLY, STAFF, TILL_AND_CARE, Role
from coupons.redemption.unknown_code_guard import UnknownCodeGuardMixin
from members.models import Member
from rewards import selectors, services
from rewards.models import Reward, RewardRedemption

from .filters import CertificateCodeFilterSet
from .serializers import (
    CertificateCodeGenerateInputSerializer,
    CertificateCodeGenerateOutputSerializer,
    CertificateCodeOutputSerializer,
    MemberReferenceInputSerializer,
    RewardInputSerializer,
    RewardOutputSerializer,
    RewardRedemptionOutputSerializer,
    RewardReserveInputSerializer,
)


def _redemption_response(redemption):
    return Response(RewardRedemptionOutputSerializer(redemption).data, status=status.HTTP_201_CREATED)


class RewardListCreateApi(generics.ListAPIView):
    roles = MARKETER_ONLY  # set-up, read and written by marketers only
    serializer_class = RewardOutputSerializer

    def get_queryset(self):
        return selectors.reward_with_stock_list()

    @extend_schema(request=RewardInputSerializer, responses={201: RewardOutputSerializer})
    def post(self, request):
        serializer = RewardInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reward = services.reward_create(**serializer.validated_data, actor=Actor.from_request(request))
        return Response(RewardOutputSerializer(reward).data, status=status.HTTP_201_CREATED)


class RewardDetailApi(generics.RetrieveAPIView):
    roles = MARKETER_ONLY
    serializer_class = RewardOutputSerializer
    lookup_url_kwarg = "reward_id"

    def get_queryset(self):
        return selectors.reward_with_stock_list()


class CertificateCodeGenerateApi(APIView):
    roles = MARKETER_ONLY

    @extend_schema(
        request=CertificateCodeGenerateInputSerializer, responses={201: CertificateCodeGenerateOutputSerializer}
    )
    @idempotent
    def post(self, request):
        serializer = CertificateCodeGenerateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        created = services.certificate_codes_generate(**data, actor=Actor.from_request(request))
        body = {**data, "created": created, "reward": data["reward"].pk if data["reward"] else None}
        return Response(CertificateCodeGenerateOutputSerializer(body).data, status=status.HTTP_201_CREATED)


class RewardRedeemApi(APIView):
    roles = TILL_AND_CARE

    @extend_schema(request=None, responses={201: RewardRedemptionOutputSerializer})
    @idempotent
    def post(self, request, external_id, reward_id):
        member = get_object_or_404(Member, external_id=external_id)
        reward = get_object_or_404(Reward, pk=reward_id)
        redemption = services.reward_redeem(member=member, reward=reward, actor=Actor.from_request(request))
        return _redemption_response(redemption)


class RewardAwardApi(APIView):
    roles = STAFF

    @extend_schema(request=MemberReferenceInputSerializer, responses={201: RewardRedemptionOutputSerializer})
    @idempotent
    def post(self, request, reward_id):
        reward = get_object_or_404(Reward, pk=reward_id)
        serializer = MemberReferenceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        redemption = services.reward_award(
            member=serializer.validated_data["member"], reward=reward, actor=Actor.from_request(request)
        )
        return _redemption_response(redemption)


class RewardReserveApi(APIView):
    roles = STAFF

    @extend_schema(request=RewardReserveInputSerializer, responses={201: RewardRedemptionOutputSerializer})
    @idempotent
    def post(self, request, reward_id):
        reward = get_object_or_404(Reward, pk=reward_id)
        serializer = RewardReserveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        redemption = services.reward_reserve(
            reward=reward, **serializer.validated_data, actor=Actor.from_request(request)
        )
        return _redemption_response(redemption)


class RewardRedemptionAssignApi(APIView):
    roles = STAFF

    @extend_schema(request=MemberReferenceInputSerializer, responses={200: RewardRedemptionOutputSerializer})
    @idempotent
    def post(self, request, redemption_id):
        redemption = get_object_or_404(RewardRedemption.objects.select_related("reward"), pk=redemption_id)
        serializer = MemberReferenceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        redemption = services.reward_redemption_assign(
            redemption=redemption, member=serializer.validated_data["member"], actor=Actor.from_request(request)
        )
        return Response(RewardRedemptionOutputSerializer(redemption).data)


class CertificateCodeListApi(generics.ListAPIView):
    roles = STAFF  # the bank and every member's codes; a till reads one member's (below)
    serializer_class = CertificateCodeOutputSerializer
    filterset_class = CertificateCodeFilterSet

    def get_queryset(self):
        return selectors.certificate_code_list()


class MemberCertificateCodeListApi(generics.ListAPIView):
    """One member's certificate codes, for every role (a till shows the member what they hold)."""

    roles = ANY_ROLE
    serializer_class = CertificateCodeOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return selectors.certificate_code_list().none()
        member = get_object_or_404(Member, external_id=self.kwargs["external_id"])
        return selectors.certificate_code_list().filter(member=member)


class CertificateCodeFulfillApi(APIView):
    roles = MARKETER_ONLY

    @extend_schema(request=None, responses={200: CertificateCodeOutputSerializer})
    @idempotent
    def post(self, request, code):
        certificate_code = get_object_or_404(selectors.certificate_code_list(), code=code)
        services.certificate_code_fulfill(code=certificate_code, actor=Actor.from_request(request))
        return Response(CertificateCodeOutputSerializer(certificate_code).data)


class CertificateCodeImageApi(CodeImageViewMixin, UnknownCodeGuardMixin, APIView):
    """A certificate code as a QR or Code 128 image. Member care and marketers read any code, as their lists
    do; a till reads the codes members hold (as it reads one member's codes), never the unused stock, and
    its lookups count against the unknown-code guard as its coupon lookups do."""

    roles = ANY_ROLE

    @code_image_schema("A certificate code as a scannable image")
    def get(self, request, code):
        query = self.image_query(request)
        held_only = request.user.role == Role.POS
        found = self.find_by_code(
            request, code, lambda code: selectors.certificate_code_by_code(code=code, held_only=held_only)
        )
        if found is None:
            raise Http404("No certificate code has this code.")
        return self.image_response(request, found.code, query)
