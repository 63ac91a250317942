from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from config.actors import Actor
from config.api.idempotency import idempotent
from config.api.parsers import FormParser, MultiPartParser
from config.api.roles import ANY_ROLE, MARKETER_ONLY, STAFF, Role
from members.models import Member

from .. import guessing, revocation, selectors, services, uploads
from ..models import Coupon, CouponSeries, Upload
from .guard import UnknownCodeGuardMixin
from .serializers import (
    CouponIssueInputSerializer,
    CouponOutputSerializer,
    CouponSeriesInputSerializer,
    CouponSeriesOutputSerializer,
    ResendOutputSerializer,
    RevokeInputSerializer,
    SeriesOrgFilterSerializer,
    TransferInputSerializer,
    UploadInputSerializer,
    UploadOutputSerializer,
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


class CouponIssueApi(APIView):
    roles = ANY_ROLE  # every role may issue a coupon to a member (contract)

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


class SeriesRevokeApi(APIView):
    roles = MARKETER_ONLY

    @extend_schema(request=RevokeInputSerializer, responses={200: dict})
    @idempotent
    def post(self, request, pk):
        series = get_object_or_404(CouponSeries, pk=pk)
        serializer = RevokeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        members = revocation.members_by_external_id(data.get("members") or []) if data["mode"] == "members" else []
        revoked = revocation.series_revoke(series=series, mode=data["mode"], members=members, confirm=data["confirm"],
                                           actor=Actor.from_request(request))  # fmt: skip
        return Response({"revoked": revoked})


class CouponResendApi(APIView):
    roles = STAFF

    @extend_schema(request=None, responses=ResendOutputSerializer)
    def post(self, request, code):
        coupon = selectors.coupon_by_code(code=code, member_external_id=request.query_params.get("member"))
        if coupon is None:
            raise Http404("No coupon has this code.")
        resend = revocation.coupon_resend(coupon=coupon, actor=Actor.from_request(request))
        return Response(ResendOutputSerializer(resend).data)


class CouponTransferApi(APIView):
    roles = STAFF

    @extend_schema(request=TransferInputSerializer, responses=CouponOutputSerializer)
    @idempotent
    def post(self, request, code):
        coupon = selectors.coupon_by_code(code=code)
        if coupon is None:
            raise Http404("No coupon has this code.")
        serializer = TransferInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        coupon = revocation.coupon_transfer(coupon=coupon, to_member=serializer.validated_data["member"],
                                            actor=Actor.from_request(request))  # fmt: skip
        return Response(CouponOutputSerializer(coupon).data)
