"""POST /baskets/evaluate: the till prices a whole basket, with no side effects."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.permissions import ensure_store_permitted
from config.api.roles import POS_ONLY
from till.baskets.selectors import basket_evaluate
from till.baskets.serializers import BasketEvaluateInputSerializer, BasketEvaluationOutputSerializer, basket_lines


class BasketEvaluateApi(APIView):
    roles = POS_ONLY

    @extend_schema(request=BasketEvaluateInputSerializer, responses=BasketEvaluationOutputSerializer)
    def post(self, request):
        serializer = BasketEvaluateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ensure_store_permitted(request.user, data["store"])
        evaluation = basket_evaluate(
            member=data["member"],
            store=data["store"],
            lines=basket_lines(data),
            coupon_codes=data["coupon_codes"],
            offer_response_ids=data["offer_response_ids"],
            at=data.get("at"),
        )
        return Response(evaluation.body)
