from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.actors import Actor
from config.api.idempotency import idempotent
from config.api.roles import ANY_ROLE, STAFF, TILL_AND_CARE
from members.models import Member
from offers.api.filters import MemberOfferResponseFilterSet, OfferResponseFilterSet
from offers.models import Offer, OfferResponse
from offers.responses import selectors, services
from offers.responses.serializers import (
    OfferResponseClaimInputSerializer,
    OfferResponseDetailOutputSerializer,
    OfferResponseOutputSerializer,
    OfferResponseTransitionInputSerializer,
)


class OfferResponseClaimApi(APIView):
    roles = TILL_AND_CARE

    @extend_schema(request=OfferResponseClaimInputSerializer, responses={201: OfferResponseOutputSerializer})
    @idempotent
    def post(self, request, external_id, offer_id):
        member = get_object_or_404(Member, external_id=external_id)
        offer = get_object_or_404(Offer, pk=offer_id)
        serializer = OfferResponseClaimInputSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        response = services.offer_response_claim(
            member=member,
            offer=offer,
            actor=Actor.from_request(request),
            certificate_code=serializer.validated_data["certificate_code"],
        )
        return Response(OfferResponseOutputSerializer(response).data, status=status.HTTP_201_CREATED)


class OfferResponseTransitionApi(APIView):
    roles = TILL_AND_CARE

    @extend_schema(request=OfferResponseTransitionInputSerializer, responses=OfferResponseOutputSerializer)
    @idempotent
    def post(self, request, response_id):
        response = get_object_or_404(selectors.offer_response_queryset(), pk=response_id)
        serializer = OfferResponseTransitionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        response = services.offer_response_transition(
            response=response,
            to_status=serializer.validated_data["status"],
            actor=Actor.from_request(request),
            reason=serializer.validated_data["reason"],
        )
        return Response(OfferResponseOutputSerializer(response).data)


class OfferResponseListApi(generics.ListAPIView):
    roles = STAFF
    serializer_class = OfferResponseOutputSerializer
    filterset_class = OfferResponseFilterSet

    def get_queryset(self):
        return selectors.offer_response_queryset()


class OfferResponseDetailApi(generics.RetrieveAPIView):
    roles = ANY_ROLE
    serializer_class = OfferResponseDetailOutputSerializer
    lookup_url_kwarg = "response_id"

    def get_queryset(self):
        return selectors.offer_response_with_history_queryset()


class MemberOfferResponseListApi(generics.ListAPIView):
    roles = ANY_ROLE
    serializer_class = OfferResponseOutputSerializer
    filterset_class = MemberOfferResponseFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return OfferResponse.objects.none()
        member = get_object_or_404(Member, external_id=self.kwargs["external_id"])
        return selectors.member_offer_responses(member=member)
