"""Till endpoints: validate, redeem and reverse coupon redemptions."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.fields import empty
from rest_framework.response import Response
from rest_framework.views import APIView

from config.actors import Actor
from config.api.authentication import address_key, client_address
from config.api.idempotency import idempotent, pending_key
from config.api.lean import LeanJsonResponse, LeanPostApiView, request_data, validate_fields
from config.api.permissions import ensure_store_permitted
from config.api.roles import POS_ONLY
from coupons.api.serializers import coupon_body
from coupons.exceptions import RedemptionError
from coupons.models import CouponRedemption
from coupons.redemption import guessing, rules
from coupons.redemption import services as redemption
from coupons.redemption import statements as till
from coupons.redemption.serializers import (
    RedeemInputSerializer,
    RedemptionInputSerializer,
    RedemptionOutputSerializer,
    ValidationOutputSerializer,
    redemption_body,
)
from coupons.redemption.unknown_code_guard import UnknownCodeGuardMixin
from members.models import TillRefusal
from members.services import till_refusal_record


class TillApi(UnknownCodeGuardMixin, LeanPostApiView):
    """Validate and redeem: the till's hot path (the map of its routes is in `coupons.redemption`).

    The address's failed-authentication block is checked in the till's one read (`till_input`), not by
    the authenticator; an answer given before that read (bad JSON, a refused role, DRF's path) checks it
    in `handle_exception`. The unknown-code guard sees to it that a request is checked once.
    """

    roles = POS_ONLY
    input_serializer = RedemptionInputSerializer

    def lean_authenticate_with(self, authenticator, request):
        return authenticator.authenticate_counting_failures(request)

    def handle_exception(self, exc):
        if getattr(self.request, "user", None) is not None:
            try:
                self.refuse_if_blocked(self.request)
            except exceptions.Throttled as throttled:
                exc = throttled
        return super().handle_exception(exc)

    def till_input(self, request, data=None) -> dict:
        """The input serializer's validated data, with the member and store, from one statement.

        The statement also reads whether the client, the store or the address is at a limit, so a
        blocked caller gets its 429 before any input error, as on DRF's path (where `initial` runs
        first), and the coupon with its series (`data["coupon"]`, None when no coupon has the code). `data`: the
        body, when the caller has parsed it already.
        """
        if data is None:
            data = request_data(request)
        values, errors = validate_fields(self.input_serializer, data, skip=("member", "store"))
        names = {name: _slug(data, name) for name in ("member", "store")}
        code = redemption.redemption_code(values["code"]) if "code" in values else None
        context = till.till_context(
            limit_keys=(guessing.client_key(request.user.pk), address_key(client_address(request))),
            member_external_id=names["member"], store_code=names["store"], now=timezone.now(), code=code,
        )  # fmt: skip
        if context.limited:
            self.refuse_if_blocked(request, store_ids=[guessing.guard_store_id(context.store)] if context.store else [])
        else:
            self.block_checked_by_read()
        found = {"member": context.member, "store": context.store}
        for name in ("member", "store"):
            error = _slug_error(self.input_serializer, data, name, names[name], found[name])
            if error:
                errors[name] = [error]
            else:
                values[name] = found[name]
        if errors:
            order = list(self.input_serializer._declared_fields)
            raise exceptions.ValidationError(dict(sorted(errors.items(), key=lambda item: order.index(item[0]))))
        values["coupon"] = context.coupon
        return values


def _slug(data, name):
    """The text a slug field would look up (as DRF's, any value's `str`), or None when it names nothing."""
    value = data.get(name, empty)
    return None if value is empty or value is None or value == "" else str(value)


def _slug_error(serializer_class, data, name, slug, row):
    """The slug field's own message when the value is missing, null or names no row."""
    field = serializer_class._declared_fields[name]
    if slug is None:
        return field.error_messages["required" if data.get(name, empty) is empty else "null"]
    if row is None:
        return field.error_messages["does_not_exist"].format(slug_name=field.slug_field, value=slug)
    return None


class CouponValidateApi(TillApi):
    @extend_schema(request=RedemptionInputSerializer, responses=ValidationOutputSerializer)
    def post(self, request):
        data = self.till_input(request)
        ensure_store_permitted(request.user, data["store"])
        result = redemption.coupon_validate_read(
            coupon=data["coupon"], member=data["member"], store=data["store"], bill_amount=data["bill_amount"],
            at=data.get("at"),
        )  # fmt: skip
        if result.coupon is None:
            self.note_unknown(request, data["code"], store_ids=[guessing.guard_store_id(data["store"])])
        coupon = None
        if result.coupon is not None:
            owner = data["member"].external_id if result.coupon.member_id == data["member"].pk else None
            coupon = coupon_body(result.coupon, member_external_id=owner)
        return LeanJsonResponse({"valid": result.valid, "reasons": result.reasons, "coupon": coupon})


class CouponRedeemApi(TillApi):
    input_serializer = RedeemInputSerializer

    @extend_schema(request=RedeemInputSerializer, responses={201: RedemptionOutputSerializer})
    @idempotent(in_statement=True)
    def post(self, request):
        data = self.till_input(request)
        ensure_store_permitted(request.user, data["store"])
        member, store = data["member"].external_id, data["store"].code
        pending = pending_key()
        if pending is not None:  # the redemption's statement stores this answer under the key
            pending.answer = lambda row: (
                status.HTTP_201_CREATED,
                redemption_body(row, code=row.coupon.code, member=member, store=store),
            )
        try:
            row = redemption.coupon_redeem_read(
                coupon=data["coupon"], code=data["code"], member=data["member"], store=data["store"],
                bill_amount=data["bill_amount"], transaction_id=data.get("transaction_id", ""), at=data.get("at"),
                actor=Actor.from_request(request),
            )  # fmt: skip
        except RedemptionError as exc:
            if exc.reasons == [rules.COUPON_NOT_FOUND]:
                self.note_unknown(request, data["code"], store_ids=[guessing.guard_store_id(data["store"])])
            # Member care reads the member's refused redemptions ("Why not?"): one INSERT, on refusal only. A
            # refused validate stays one statement and is not kept.
            till_refusal_record(member=data["member"], store=data["store"], action=TillRefusal.Action.REDEEM,
                                code=data["code"], reasons=exc.reasons or [exc.code],
                                actor=Actor.from_request(request))  # fmt: skip
            raise
        body = redemption_body(row, code=row.coupon.code, member=member, store=store)
        return LeanJsonResponse(body, status=status.HTTP_201_CREATED)


class RedemptionReverseApi(APIView):
    roles = POS_ONLY

    @extend_schema(request=None, responses=RedemptionOutputSerializer)
    @idempotent
    def post(self, request, pk):
        row = get_object_or_404(CouponRedemption.objects.select_related("store", "member", "coupon"), pk=pk)
        ensure_store_permitted(request.user, row.store)
        code, member, store = row.coupon.code, row.member.external_id, row.store.code
        row = redemption.redemption_reverse(redemption=row, actor=Actor.from_request(request))
        return Response(redemption_body(row, code=code, member=member, store=store))
