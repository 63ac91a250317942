"""POST /baskets/evaluate: the till prices a whole basket, with no side effects.

The till's basket endpoints take the till's lean path (`coupons.redemption.api.TillApi`): the member, the
store and whether the client, the store or the address is at an abuse limit come from the till's one read
(`TillApi.till_input`), which checks the other fields with the input serializer's own; the lines are checked
by `plain_lines`, the serializer deciding (with its messages) only for a line that is not plainly valid.
"""

from functools import cache

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.fields import empty

from config.api.lean import LeanJsonResponse, request_data, validate_fields
from config.api.permissions import ensure_store_permitted
from coupons.redemption import guessing
from coupons.redemption import rules as redemption_rules
from coupons.redemption.api import TillApi
from till.baskets.selectors import basket_evaluate
from till.baskets.serializers import (
    BasketEvaluateInputSerializer,
    BasketEvaluationOutputSerializer,
    basket_lines,
    lines_check,
    offer_response_ids_check,
    plain_coupon_codes,
    plain_lines,
    plain_offer_response_ids,
)

# The basket's own rules over a field, once its field is valid (the input serializer's `validate_<name>`).
FIELD_CHECKS = {"lines": lines_check, "offer_response_ids": offer_response_ids_check}


# Fields read plainly when their values are plainly valid (`plain_lines` and the like): the serializer's own field
# decides, with its messages, only a value that is not.
PLAIN_READERS = {
    "lines": plain_lines,
    "coupon_codes": plain_coupon_codes,
    "offer_response_ids": plain_offer_response_ids,
}


@cache
def without_fields(serializer_class, names: frozenset[str]):
    """The input serializer without the named fields (DRF drops a field a subclass sets to None)."""
    suffix = "".join(sorted(name.title().replace("_", "") for name in names))
    return type(f"{serializer_class.__name__}Without{suffix}", (serializer_class,), dict.fromkeys(names))


class BasketTillApi(TillApi):
    """A till endpoint whose body is a basket (`BasketEvaluateInputSerializer` or a serializer extending it)."""

    input_serializer = BasketEvaluateInputSerializer

    def basket_input(self, request) -> dict:
        """The input serializer's validated data, the member and store from the till's one read (`till_input`);
        a blocked caller gets its 429 before any input error, as at validate."""
        data = request_data(request)
        plain = {}
        if isinstance(data, dict):
            for name, read in PLAIN_READERS.items():
                value = read(data.get(name, empty))
                if value is not None:
                    plain[name] = value
        basket_serializer = self.input_serializer
        if plain:  # those fields are valid: the till's read checks the others
            self.input_serializer = without_fields(basket_serializer, frozenset(plain))
        try:
            values, errors = self.till_input(request, data), {}
        except exceptions.ValidationError as exc:
            if not isinstance(exc.detail, dict):
                raise
            errors = dict(exc.detail)
            # The basket's own checks still answer alongside the fields' errors, as the serializer's would.
            others = [name for name in basket_serializer._declared_fields if name not in FIELD_CHECKS]
            values, _ = validate_fields(basket_serializer, data, skip=[*others, *plain])
        finally:
            self.input_serializer = basket_serializer
        values.update(plain)
        for name, check in FIELD_CHECKS.items():
            if name in values and name not in errors:
                try:
                    values[name] = check(values[name])
                except exceptions.ValidationError as exc:
                    errors[name] = exc.detail
        if errors:
            order = {name: position for position, name in enumerate(basket_serializer._declared_fields)}
            raise exceptions.ValidationError(dict(sorted(errors.items(), key=lambda item: order.get(item[0], -1))))
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
