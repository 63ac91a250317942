"""The till's checkouts: open (hold), commit, cancel, read."""

from contextlib import suppress

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config import ranges
from config.actors import Actor
from config.api.idempotency import idempotent
from config.api.lean import LeanJsonResponse, LeanPostApiView
from config.api.permissions import ensure_store_permitted
from config.api.roles import POS_ONLY
from coupons.redemption.unknown_code_guard import TooManyUnknownCodes
from offers.api.serializers import TransactionOutputSerializer
from till.baskets.api import BasketTillApi
from till.baskets.serializers import (
    BasketEvaluateInputSerializer,
    BasketEvaluationOutputSerializer,
    basket_lines,
    basket_record,
)
from till.checkouts import selectors, services
from till.checkouts.models import Checkout


class CheckoutOpenInputSerializer(BasketEvaluateInputSerializer):
    transaction_id = serializers.CharField(max_length=100)


class CheckoutOutputSerializer(BasketEvaluationOutputSerializer):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text="held, committed, canceled or expired")
    expires_at = serializers.DateTimeField()
    transaction_id = serializers.CharField()
    member = serializers.CharField()
    store = serializers.CharField()


class CommitRedemptionOutputSerializer(serializers.Serializer):
    redemption_id = serializers.IntegerField()
    code = serializers.CharField()
    discount_amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class CheckoutCommitOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text="held, committed, canceled or expired")
    redemptions = CommitRedemptionOutputSerializer(many=True)
    completed_responses = serializers.ListField(child=serializers.IntegerField())
    transaction = TransactionOutputSerializer()


class CheckoutCancelOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text="held, committed, canceled or expired")


def checkout_body(checkout: Checkout) -> dict:
    return {
        "id": checkout.pk,
        "status": checkout.status,
        "expires_at": checkout.expires_at.isoformat(),
        "transaction_id": checkout.transaction_id,
        "member": checkout.member.external_id,
        "store": checkout.store.code,
        **checkout.evaluation,
    }


def checkout_of_client(request, pk: int) -> Checkout:
    """The checkout, 404 when there is none, 403 when it is another store's."""
    checkout = selectors.checkout_queryset().filter(pk=pk).first() if pk in ranges.OBJECT_ID else None
    if checkout is None:
        raise Http404
    ensure_store_permitted(request.user, checkout.store)
    return checkout


class CheckoutOpenApi(BasketTillApi):
    input_serializer = CheckoutOpenInputSerializer

    @extend_schema(request=CheckoutOpenInputSerializer, responses={201: CheckoutOutputSerializer})
    @idempotent
    def post(self, request):
        data = self.basket_input(request)
        ensure_store_permitted(request.user, data["store"])
        checkout = services.checkout_open(
            member=data["member"],
            store=data["store"],
            transaction_id=data["transaction_id"],
            lines=basket_lines(data),
            coupon_codes=data["coupon_codes"],
            offer_response_ids=data["offer_response_ids"],
            basket=basket_record(data),
            at=data.get("at"),
            actor=Actor.from_request(request),
        )
        body = checkout_body(checkout)
        with suppress(TooManyUnknownCodes):  # the checkout is open; the limit answers the next request
            self.note_unknown_codes(request, data["store"], body)
        return LeanJsonResponse(body, status=status.HTTP_201_CREATED)


class CheckoutDetailApi(APIView):
    roles = POS_ONLY

    @extend_schema(responses=CheckoutOutputSerializer)
    def get(self, request, pk):
        return Response(checkout_body(checkout_of_client(request, pk)))


class CheckoutCommitApi(LeanPostApiView):
    """The lean POST (`config.api.lean`): a commit comes with every payment, and DRF's request wrapper, negotiation
    and renderer cost more than the answer's own JSON."""

    roles = POS_ONLY

    @extend_schema(request=None, responses=CheckoutCommitOutputSerializer)
    @idempotent(in_statement=True)
    def post(self, request, pk):
        if pk not in ranges.OBJECT_ID:
            raise Http404
        try:
            # The checkout is read once, locked, and checked against the client's stores under the lock.
            body = services.checkout_commit(
                checkout_id=pk,
                actor=Actor.from_request(request),
                permit=lambda checkout: ensure_store_permitted(request.user, checkout.store),
            )
        except Checkout.DoesNotExist:
            raise Http404 from None
        return LeanJsonResponse(body)


class CheckoutCancelApi(APIView):
    roles = POS_ONLY

    @extend_schema(request=None, responses=CheckoutCancelOutputSerializer)
    def post(self, request, pk):
        checkout = services.checkout_cancel(
            checkout_id=checkout_of_client(request, pk).pk, actor=Actor.from_request(request)
        )
        return Response({"id": checkout.pk, "status": checkout.status})
