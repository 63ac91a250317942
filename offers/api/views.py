from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from config.actors import Actor
from config.api.idempotency import idempotent
from config.api.lean import LeanJsonResponse, LeanPostApiView, request_data
from config.api.permissions import ensure_store_permitted
from config.api.roles import ANY_ROLE, MARKETER_ONLY, POS_ONLY, TILL_AND_CARE
from members.models import Member
from offers import rules, selectors, services
from offers.api.filters import MembershipOfferFilterSet, OfferFilterSet
from offers.api.serializers import (
    MembershipOfferOutputSerializer,
    OfferInputSerializer,
    OfferOutputSerializer,
    OfferUpdateSerializer,
    TransactionInputSerializer,
    TransactionOutputSerializer,
    membership_offer_bodies,
    membership_offer_page_json,
    transaction_input,
)
from offers.member_view_cache import MemberOfferPages
from offers.models import Offer


class OfferListCreateApi(generics.ListAPIView):
    roles = {"GET": ANY_ROLE, "POST": MARKETER_ONLY}
    serializer_class = OfferOutputSerializer
    filterset_class = OfferFilterSet

    def get_queryset(self):
        return selectors.offer_queryset()

    @extend_schema(request=OfferInputSerializer, responses={201: OfferOutputSerializer})
    def post(self, request):
        serializer = OfferInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        offer = services.offer_create(**serializer.validated_data, actor=Actor.from_request(request))
        return Response(_offer_body(offer), status=status.HTTP_201_CREATED)


class OfferDetailApi(APIView):
    roles = {"GET": ANY_ROLE, "PATCH": MARKETER_ONLY}

    @extend_schema(responses=OfferOutputSerializer)
    def get(self, request, offer_id):
        return Response(_offer_body(get_object_or_404(selectors.offer_queryset(), pk=offer_id)))

    @extend_schema(request=OfferInputSerializer, responses=OfferOutputSerializer)  # documented as PatchedOfferInput
    def patch(self, request, offer_id):
        offer = get_object_or_404(Offer, pk=offer_id)
        serializer = OfferUpdateSerializer(offer, data=request.data)
        serializer.is_valid(raise_exception=True)
        offer = services.offer_update(offer=offer, **serializer.validated_data, actor=Actor.from_request(request))
        return Response(_offer_body(offer))


class OfferDiscontinueApi(APIView):
    roles = MARKETER_ONLY

    @extend_schema(request=None, responses=OfferOutputSerializer)
    def post(self, request, offer_id):
        offer = get_object_or_404(Offer, pk=offer_id)
        offer = services.offer_discontinue(offer=offer, actor=Actor.from_request(request))
        return Response(_offer_body(offer))


def _offer_body(offer: Offer) -> dict:
    return OfferOutputSerializer(selectors.offer_queryset().get(pk=offer.pk)).data


@extend_schema(
    parameters=[
        OpenApiParameter("visible_status", str, enum=list(rules.MEMBER_STATUSES)),
        OpenApiParameter("eligible", bool),
    ],
    responses=MembershipOfferOutputSerializer(many=True),
)
class MembershipOfferListApi(generics.GenericAPIView):
    roles = ANY_ROLE
    serializer_class = MembershipOfferOutputSerializer
    filter_backends = []

    def get(self, request, external_id):
        member = get_object_or_404(selectors.member_with_rules_version(), external_id=external_id)
        wanted_status = wanted_eligible = None
        # Most reads filter nothing: the filter set (a form a request) is built only for a query that names one.
        if any(name in request.query_params for name in MembershipOfferFilterSet.base_filters):
            query = MembershipOfferFilterSet(request.query_params, queryset=Offer.objects.none())
            if not query.is_valid():
                raise ValidationError(query.errors)
            wanted_status = query.form.cleaned_data.get("visible_status")
            wanted_eligible = query.form.cleaned_data.get("eligible")
        rows = selectors.membership_offer_rows(
            member=member, at=timezone.now(), visible_status=wanted_status or None, eligible=wanted_eligible
        )
        page = self.paginate_queryset(rows)
        if isinstance(rows, MemberOfferPages):  # the page's rows come written as JSON
            return HttpResponse(membership_offer_page_json(self.paginator, page), content_type="application/json")
        return self.get_paginated_response(membership_offer_bodies(page))


class MembershipOfferDetailApi(APIView):
    roles = ANY_ROLE

    @extend_schema(responses=MembershipOfferOutputSerializer)
    def get(self, request, external_id, offer_id):
        member = get_object_or_404(Member, external_id=external_id)
        try:
            row = selectors.membership_offer_get(member=member, offer_id=offer_id)
        except Offer.DoesNotExist:
            return _not_found()
        return Response(MembershipOfferOutputSerializer(row).data)


class MembershipOfferActivateApi(APIView):
    roles = TILL_AND_CARE

    @extend_schema(request=None, responses=MembershipOfferOutputSerializer)
    @idempotent
    def post(self, request, external_id, offer_id):
        member = get_object_or_404(Member, external_id=external_id)
        offer = get_object_or_404(Offer, pk=offer_id)
        row = services.offer_activate(member=member, offer=offer, actor=Actor.from_request(request))
        return Response(MembershipOfferOutputSerializer(row).data)


class TransactionRecordApi(LeanPostApiView):
    """A till posts every purchase: the lean path (`config.api.lean`), the body checked plainly when it is plainly
    valid and by the input serializer otherwise (`transaction_input`), the answer built as a plain dict."""

    roles = POS_ONLY

    @extend_schema(request=TransactionInputSerializer, responses={201: TransactionOutputSerializer})
    @idempotent
    def post(self, request):
        data = transaction_input(request_data(request))
        ensure_store_permitted(request.user, data["store"])
        body, created = services.transaction_record(
            transaction_id=data["transaction_id"],
            member=data["member"],
            store=data["store"],
            occurred_at=data.get("occurred_at"),
            total_amount=data["total_amount"],
            items=data["items"],
            actor=Actor.from_request(request),
        )
        return LeanJsonResponse(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def _not_found():
    from django.http import Http404

    raise Http404
