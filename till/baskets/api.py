"""POST /baskets/evaluate: the till prices a whole basket, with no side effects."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.permissions import ensure_store_permitted
from config.api.roles import POS_ONLY
from coupons.redemption import guessing
from coupons.redemption import rules as redemption_rules
from coupons.redemption.unknown_code_guard import UnknownCodeGuardMixin
from till.baskets.selectors import basket_evaluate
from till.baskets.serializers import BasketEvaluateInputSerializer, BasketEvaluationOutputSerializer, basket_lines


class BasketCodesGuardMixin(UnknownCodeGuardMixin):
    """A basket's coupon codes count against the unknown-code guard as validate's do: a blocked client or store
    gets 429 before the basket is priced, and each code no coupon has is counted."""

    def refuse_if_codes_blocked(self, request, store):
        self.refuse_if_blocked(request, store_ids=[guessing.guard_store_id(store)])

    def note_unknown_codes(self, request, store, body):
        for coupon in body["coupons"]:
            if coupon["reasons"] == [redemption_rules.COUPON_NOT_FOUND]:
                self.note_unknown(request, coupon["code"], store_ids=[guessing.guard_store_id(store)])


class BasketEvaluateApi(BasketCodesGuardMixin, APIView):
    roles = POS_ONLY

    @extend_schema(request=BasketEvaluateInputSerializer, responses=BasketEvaluationOutputSerializer)
    def post(self, request):
        serializer = BasketEvaluateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ensure_store_permitted(request.user, data["store"])
        self.refuse_if_codes_blocked(request, data["store"])
        evaluation = basket_evaluate(
            member=data["member"],
            store=data["store"],
            lines=basket_lines(data),
            coupon_codes=data["coupon_codes"],
            offer_response_ids=data["offer_response_ids"],
            at=data.get("at"),
        )
        self.note_unknown_codes(request, data["store"], evaluation.body)
        return Response(evaluation.body)
