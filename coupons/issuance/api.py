"""Issuing coupons and uploading code files over the API."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.actors import Actor
from config.api.idempotency import idempotent
from config.api.parsers import FormParser, MultiPartParser
from config.api.roles import ANY_ROLE, MARKETER_ONLY, STAFF
from coupons.api.serializers import CouponOutputSerializer
from coupons.issuance import uploads
from coupons.issuance.serializers import CouponIssueInputSerializer, UploadInputSerializer, UploadOutputSerializer
from coupons.issuance.services import coupon_issue
from coupons.models import CouponSeries, Upload


class CouponIssueApi(APIView):
    roles = ANY_ROLE  # every role may issue a coupon to a member (contract)

    @extend_schema(request=CouponIssueInputSerializer, responses={201: CouponOutputSerializer})
    @idempotent
    def post(self, request, pk):
        series = get_object_or_404(CouponSeries, pk=pk)
        serializer = CouponIssueInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = coupon_issue(series=series, member=serializer.validated_data["member"],
                                       actor=Actor.from_request(request))  # fmt: skip
        body = CouponOutputSerializer(result.coupon).data
        body["resent"] = result.resent
        return Response(body, status=status.HTTP_200_OK if result.resent else status.HTTP_201_CREATED)


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
    roles = STAFF
    serializer_class = UploadOutputSerializer
    queryset = Upload.objects.all()


class UploadErrorReportApi(APIView):
    roles = STAFF  # the report names members

    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request, pk):
        upload = get_object_or_404(Upload, pk=pk)
        response = HttpResponse(uploads.upload_report_csv(upload), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{uploads.upload_report_filename(upload)}"'
        return response
