"""Coupon series set-up over the API: list, create, read and update."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from config.actors import Actor
from config.api.roles import ANY_ROLE, MARKETER_ONLY
from coupons import selectors
from coupons.models import CouponSeries
from coupons.series import services
from coupons.series.serializers import (
    CouponSeriesInputSerializer,
    CouponSeriesOutputSerializer,
    SeriesOrgFilterSerializer,
)


class CouponSeriesListCreateApi(generics.ListAPIView):
    roles = {"GET": ANY_ROLE, "POST": MARKETER_ONLY}
    serializer_class = CouponSeriesOutputSerializer

    def get_queryset(self):
        params = self.request.query_params
        for name in ("org_entity_type", "org_entity_ids"):
            if len(params.getlist(name)) > 1:
                raise ValidationError({name: ["Give it once: one type per request."]})
        query = SeriesOrgFilterSerializer(data=params)
        query.is_valid(raise_exception=True)
        if "org_entity_type" in query.validated_data:
            return selectors.series_tagged_to(**query.validated_data)
        return selectors.series_list()

    @extend_schema(parameters=[SeriesOrgFilterSerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=CouponSeriesInputSerializer, responses={201: CouponSeriesOutputSerializer})
    def post(self, request):
        serializer = CouponSeriesInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        series = services.series_create(**serializer.to_fields(), actor=Actor.from_request(request))
        return Response(CouponSeriesOutputSerializer(selectors.series_get(pk=series.pk)).data, status=201)


class CouponSeriesDetailApi(APIView):
    roles = {"GET": ANY_ROLE, "PATCH": MARKETER_ONLY}

    @extend_schema(responses=CouponSeriesOutputSerializer)
    def get(self, request, pk):
        return Response(CouponSeriesOutputSerializer(get_object_or_404(selectors.series_list(), pk=pk)).data)

    @extend_schema(request=CouponSeriesInputSerializer, responses=CouponSeriesOutputSerializer)
    def patch(self, request, pk):
        series = get_object_or_404(CouponSeries, pk=pk)
        serializer = CouponSeriesInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.series_update(series=series, **serializer.to_fields(), actor=Actor.from_request(request))
        return Response(CouponSeriesOutputSerializer(selectors.series_get(pk=pk)).data)
