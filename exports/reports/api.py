"""`GET /api/v1/reports/liability`: the money view for marketers."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.roles import MARKETER_ONLY
from exports.reports.liability import liability_report
from exports.reports.serializers import LiabilityOutputSerializer, LiabilityQuerySerializer


class LiabilityReportApi(APIView):
    roles = MARKETER_ONLY

    @extend_schema(parameters=[LiabilityQuerySerializer], responses=LiabilityOutputSerializer)
    def get(self, request):
        query = LiabilityQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        return Response(LiabilityOutputSerializer(liability_report(**query.validated_data)).data)
