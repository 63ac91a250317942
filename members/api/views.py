from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.actors import Actor
from config.api.idempotency import idempotent
from config.api.roles import ANY_ROLE, MARKETER_ONLY, STAFF
from members import selectors, services
from members.models import Member, OrgEntity, Segment

from .filters import MemberFilterSet, OrgEntityFilterSet
from .serializers import (
    MemberInputSerializer,
    MemberOutputSerializer,
    MemberUpdateSerializer,
    OrgEntityInputSerializer,
    OrgEntityOutputSerializer,
    PointsAdjustInputSerializer,
    PointsEntryOutputSerializer,
    SegmentSerializer,
)


class SegmentListCreateApi(generics.ListAPIView):
    roles = MARKETER_ONLY  # set-up, read and written by marketers only
    serializer_class = SegmentSerializer
    queryset = Segment.objects.order_by("code")

    @extend_schema(request=SegmentSerializer, responses={201: SegmentSerializer})
    def post(self, request):
        serializer = SegmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        segment = services.segment_create(**serializer.validated_data, actor=Actor.from_request(request))
        return Response(SegmentSerializer(segment).data, status=status.HTTP_201_CREATED)


class OrgEntityListCreateApi(generics.ListAPIView):
    roles = MARKETER_ONLY  # set-up, read and written by marketers only
    serializer_class = OrgEntityOutputSerializer
    filterset_class = OrgEntityFilterSet
    queryset = OrgEntity.objects.select_related("parent", "concept").order_by("type", "code")

    @extend_schema(request=OrgEntityInputSerializer, responses={201: OrgEntityOutputSerializer})
    def post(self, request):
        serializer = OrgEntityInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entity = services.org_entity_create(**serializer.validated_data, actor=Actor.from_request(request))
        return Response(OrgEntityOutputSerializer(entity).data, status=status.HTTP_201_CREATED)


class MemberListCreateApi(generics.ListAPIView):
    roles = STAFF  # a till reads one member by id, never the list
    serializer_class = MemberOutputSerializer
    filterset_class = MemberFilterSet

    def get_queryset(self):
        return selectors.member_list()

    @extend_schema(request=MemberInputSerializer, responses={201: MemberOutputSerializer})
    def post(self, request):
        serializer = MemberInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data.get("registered_at") is None:
            data.pop("registered_at", None)
        member = services.member_create(**data, actor=Actor.from_request(request))
        return Response(MemberOutputSerializer(member).data, status=status.HTTP_201_CREATED)


class MemberDetailApi(APIView):
    roles = {"GET": ANY_ROLE, "PATCH": STAFF}

    @extend_schema(responses=MemberOutputSerializer)
    def get(self, request, external_id):
        member = get_object_or_404(selectors.member_list(), external_id=external_id)
        return Response(MemberOutputSerializer(member).data)

    @extend_schema(request=MemberUpdateSerializer, responses=MemberOutputSerializer)
    def patch(self, request, external_id):
        member = get_object_or_404(Member, external_id=external_id)
        serializer = MemberUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = services.member_update(member=member, **serializer.validated_data, actor=Actor.from_request(request))
        return Response(MemberOutputSerializer(member).data)


class MemberPointsApi(APIView):
    roles = {"GET": ANY_ROLE, "POST": STAFF}

    @extend_schema(responses=PointsEntryOutputSerializer(many=True))
    def get(self, request, external_id):
        member = get_object_or_404(Member, external_id=external_id)
        return Response(PointsEntryOutputSerializer(selectors.points_history(member=member), many=True).data)

    @extend_schema(request=PointsAdjustInputSerializer, responses={201: PointsEntryOutputSerializer})
    @idempotent
    def post(self, request, external_id):
        member = get_object_or_404(Member, external_id=external_id)
        serializer = PointsAdjustInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = services.points_adjust(member=member, **serializer.validated_data, actor=Actor.from_request(request))
        return Response(PointsEntryOutputSerializer(entry).data, status=status.HTTP_201_CREATED)
