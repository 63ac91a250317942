"""POST /baskets/evaluate: the till prices a whole basket, with no side effects.

The till's basket endpoints take the till's lean path (`coupons.redemption.api.TillApi`): the member, the
store and whether the client, the store or the address is at an abuse limit come from the till's one read
(`till_context`), the scalar fields are checked by the input serializer's own fields (`validate_fields`),
and the lines by `plain_lines`, the serializer deciding (with its messages) only for a line that is not
plainly valid.
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.fields import empty

from config.api.authentication import address_key, client_address
from config.api.lean import LeanJsonResponse, request_data, validate_fields
from config.api.permissions import ensure_store_permitted
from coupons.redemption import guessing
from coupons.redemption import rules as redemption_rules
from coupons.redemption import statements as till
from coupons.redemption.api import TillApi, _slug, _slug_error
from till.baskets.selectors import basket_evaluate
from till.baskets.serializers import (
    BasketEvaluateInputSerializer,
    BasketEvaluationOutputSerializer,
    basket_lines,
    lines_check,
    offer_response_ids_check,
    plain_lines,
)

# The basket's own rules over a field, once its field is valid (the input serializer's `validate_<name>`).
FIELD_CHECKS = {"lines": lines_check, "offer_response_ids": offer_response_ids_check}
SLUGS = ("member", "store")


class BasketTillApi(TillApi):
    """A till endpoint whose body is a basket (`BasketEvaluateInputSerializer` or a serializer extending it)."""

    input_serializer = BasketEvaluateInputSerializer

    def basket_input(self, request) -> dict:
        """The input serializer's validated data, the member and store from the till's one read; a blocked
        caller gets its 429 before any input error, as at validate."""
        data = request_data(request)
        lines = plain_lines(data.get("lines", empty)) if isinstance(data, dict) else None
        skip = (*SLUGS, "lines") if lines is not None else SLUGS
        values, errors = validate_fields(self.input_serializer, data, skip=skip)
        if lines is not None:
            values["lines"] = lines
        for name, check in FIELD_CHECKS.items():
            if name in values:
                try:
                    values[name] = check(values[name])
                except exceptions.ValidationError as exc:
                    errors[name] = exc.detail
        names = {name: _slug(data, name) for name in SLUGS}
        context = till.till_context(
            limit_keys=(guessing.client_key(request.user.pk), address_key(client_address(request))),
            member_external_id=names["member"], store_code=names["store"], now=timezone.now(),
        )  # fmt: skip
        if context.limited:
            self.refuse_if_blocked(request, store_ids=[guessing.guard_store_id(context.store)] if context.store else [])
        else:
            self.block_checked_by_read()
        found = {"member": context.member, "store": context.store}
        for name in SLUGS:
            error = _slug_error(self.input_serializer, data, name, names[name], found[name])
            if error:
                errors[name] = [error]
            else:
                values[name] = found[name]
        if errors:
            order = list(self.input_serializer._declared_fields)
            raise exceptions.ValidationError(dict(sorted(errors.items(), key=lambda item: order.index(item[0]))))
        return values

    def note_unknown_codes(self, request, store, body):
        for coupon in body["coupons"]:
            if coupon["reasons"] == [redemption_rules.COUPON_NOT_FOUND]:
                self.note_unknown(request, coupon["code"], store_ids=[guessing.guard_store_id(store)])


class BasketEvaluateApi(BasketTillApi):
    @extend_schema(request=BasketEvaluateInputSerializer, responses=BasketEvaluationOutputSerializer)
    def post(self, request):
        data = self.basket_input(request)
        ensure_store_permitted(request.user, data["store"])
        evaluation = basket_evaluate(
            member=data["member"],
            store=data["store"],
            lines=basket_lines(data),
            coupon_codes=data["coupon_codes"],
            offer_response_ids=data["offer_response_ids"],
            at=data.get("at"),
        )
        self.note_unknown_codes(request, data["store"], evaluation.body)
        return LeanJsonResponse(evaluation.body)
