import csv
import io

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from config.actors import Actor
from config.api.idempotency import idempotent
from config.api.roles import ANY_ROLE, MARKETER_ONLY
from members.models import Member

from .. import selectors, services, uploads
from ..models import Coupon, CouponSeries, Upload
from .serializers import (
    CouponIssueInputSerializer,
    CouponOutputSerializer,
    CouponSeriesInputSerializer,
    CouponSeriesOutputSerializer,
    UploadInputSerializer,
    UploadOutputSerializer,
)

ISSUERS = frozenset({"pos", "member_care", "marketer"})


class CouponSeriesListCreateApi(generics.ListAPIView):
    roles = {"GET": ANY_ROLE, "POST": MARKETER_ONLY}
    serializer_class = CouponSeriesOutputSerializer

    def get_queryset(self):
        return selectors.series_list()

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


class CouponIssueApi(APIView):
    roles = ISSUERS

    @extend_schema(request=CouponIssueInputSerializer, responses={201: CouponOutputSerializer})
    @idempotent
    def post(self, request, pk):
        series = get_object_or_404(CouponSeries, pk=pk)
        serializer = CouponIssueInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.coupon_issue(series=series, member=serializer.validated_data["member"],
                                       actor=Actor.from_request(request))  # fmt: skip
        body = CouponOutputSerializer(result.coupon).data
        body["resent"] = result.resent
        return Response(body, status=status.HTTP_200_OK if result.resent else status.HTTP_201_CREATED)


class CouponDetailApi(APIView):
    roles = ANY_ROLE

    @extend_schema(responses=CouponOutputSerializer)
    def get(self, request, code):
        coupon = selectors.coupon_by_code(code=code, member_external_id=request.query_params.get("member"))
        if coupon is None:
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


class SeriesUploadCreateApi(APIView):
    roles = MARKETER_ONLY
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=UploadInputSerializer, responses={202: UploadOutputSerializer})
    def post(self, request, pk):
        series = get_object_or_404(CouponSeries, pk=pk)
        serializer = UploadInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = uploads.upload_create(series=series, **serializer.validated_data, actor=Actor.from_request(request))
        upload.refresh_from_db()
        return Response({"id": upload.pk, "status": upload.status}, status=status.HTTP_202_ACCEPTED)


class UploadDetailApi(generics.RetrieveAPIView):
    roles = ANY_ROLE
    serializer_class = UploadOutputSerializer
    queryset = Upload.objects.all()


class UploadErrorReportApi(APIView):
    roles = ANY_ROLE

    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request, pk):
        upload = get_object_or_404(Upload, pk=pk)
        buffer = io.StringIO()
        csv.writer(buffer).writerows(uploads.upload_report_rows(upload))
        response = HttpResponse(buffer.getvalue(), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="upload-{upload.pk}-issues.csv"'
        return response
