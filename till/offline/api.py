"""`POST /api/v1/offline-redemptions`: what a till redeemed while it was offline.

A batch carries up to 100,000 rows, a body of about 15 MB: the endpoint takes bodies up to `MAX_BODY_BYTES`
(`max_body_bytes`, read by the API's request guard), beyond the API's usual limit, and answers 413 past it.
Its rows are read by `offline_rows_validate`: a row the serializer would take as it is goes through a plain
check (DRF's field by field costs about 35 µs a row, a second for 30,000 rows); any other row through the
serializer, whose errors the answer carries, as they would be for the whole list.
"""

import re
from datetime import datetime
from decimal import Decimal

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from config import ranges
from config.actors import Actor
from config.api.fields import AwareDateTimeField
from config.api.idempotency import idempotent
from config.api.lean import validate_fields
from config.api.parsers import RequestTooLarge, parse_json
from config.api.permissions import ensure_store_permitted
from config.api.roles import POS_ONLY
from members.models import OrgEntity
from till.offline import services


class OfflineRedemptionInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64)
    member = serializers.CharField(max_length=64, help_text="The member's external id.")
    redeemed_at = AwareDateTimeField(help_text="When the till redeemed it; within the offline window.")
    bill_amount = serializers.DecimalField(**ranges.MONEY.bounds)
    transaction_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class OfflineBatchInputSerializer(serializers.Serializer):
    batch_id = serializers.CharField(max_length=100)
    store = serializers.SlugRelatedField(
        slug_field="code", queryset=OrgEntity.objects.filter(type__in=[OrgEntity.Type.STORE, OrgEntity.Type.TILL])
    )
    redemptions = serializers.ListField(
        child=OfflineRedemptionInputSerializer(),
        min_length=ranges.OFFLINE_BATCH_ROWS.min,
        max_length=ranges.OFFLINE_BATCH_ROWS.max,
    )


class OfflineAcceptedOutputSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    redemption_id = serializers.IntegerField()


class OfflineRejectedOutputSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    code = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())


class OfflineBatchOutputSerializer(serializers.Serializer):
    batch_id = serializers.CharField()
    accepted = OfflineAcceptedOutputSerializer(many=True)
    rejected = OfflineRejectedOutputSerializer(many=True)


MAX_BODY_BYTES = 40 * 1024 * 1024  # 100,000 rows of long codes, members and transaction ids fit
# A bill the serializer takes as it is: digits within the money range's, at most two decimals, no sign.
WHOLE_DIGITS = ranges.MONEY.max_digits - ranges.MONEY.decimal_places
PLAIN_AMOUNT = re.compile(rf"\d{{1,{WHOLE_DIGITS}}}(\.\d{{1,2}})?")
CENTS = Decimal("0.01")
LIMITS = {"code": 64, "member": 64, "transaction_id": 100}


def offline_rows_validate(items) -> list[services.OfflineRow]:
    """The batch's rows, or a 400 with the serializer's errors for the rows it refuses."""
    field = OfflineBatchInputSerializer._declared_fields["redemptions"]
    if type(items) is not list or not ranges.OFFLINE_BATCH_ROWS.min <= len(items) <= ranges.OFFLINE_BATCH_ROWS.max:
        field.run_validation(items)  # raises the list's own error
    rows, errors = [], {}
    for index, item in enumerate(items):
        row = _plain_row(item)
        if row is None:
            try:
                row = services.OfflineRow(**field.child.run_validation(item))
            except exceptions.ValidationError as exc:
                errors[index] = exc.detail
        rows.append(row)
    if errors:
        raise exceptions.ValidationError({"redemptions": errors})
    return rows


def _plain_row(item) -> services.OfflineRow | None:
    """The row when it is plainly valid (strings within their lengths, an aware ISO 8601 time, a plain amount);
    None for anything else, which the serializer then judges."""
    if type(item) is not dict:
        return None
    code, member, at, bill = item.get("code"), item.get("member"), item.get("redeemed_at"), item.get("bill_amount")
    transaction_id = item.get("transaction_id", "")
    if not (type(code) is type(member) is type(at) is type(transaction_id) is str and type(bill) in (str, int)):
        return None
    code, member, transaction_id = code.strip(), member.strip(), transaction_id.strip()
    texts = {"code": code, "member": member, "transaction_id": transaction_id}
    if not code or not member or any(len(texts[name]) > limit for name, limit in LIMITS.items()):
        return None
    if type(bill) is int:
        bill = str(bill)
    if not PLAIN_AMOUNT.fullmatch(bill):
        return None
    try:
        redeemed_at = parse_datetime(at)
    except ValueError:
        return None
    if not isinstance(redeemed_at, datetime) or redeemed_at.tzinfo is None:
        return None
    return services.OfflineRow(code=code, member=member, redeemed_at=redeemed_at,
                               bill_amount=Decimal(bill).quantize(CENTS), transaction_id=transaction_id)  # fmt: skip


class OfflineBatchParser(BaseParser):
    """The API's JSON reader (`parse_json`) with the endpoint's own body limit instead of the API's: DRF's JSON
    parser reads `request.body`, which Django bounds by DATA_UPLOAD_MAX_MEMORY_SIZE."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        view = (parser_context or {}).get("view")
        limit = getattr(view, "max_body_bytes", MAX_BODY_BYTES)
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise RequestTooLarge(f"An offline batch's body may be at most {limit} bytes.")
        return parse_json(body)


class OfflineRedemptionsApi(APIView):
    roles = POS_ONLY
    max_body_bytes = MAX_BODY_BYTES  # also read by the API's request guard (config.middleware)
    parser_classes = [OfflineBatchParser]

    @extend_schema(request=OfflineBatchInputSerializer, responses=OfflineBatchOutputSerializer)
    @idempotent
    def post(self, request):
        with services.collection_paused():  # 100,000 rows read, checked and judged: see the service
            return self._record(request)

    def _record(self, request):
        data, errors = validate_fields(OfflineBatchInputSerializer, request.data, skip=("redemptions",))
        if errors:
            raise exceptions.ValidationError(errors)
        rows = offline_rows_validate(request.data.get("redemptions"))
        ensure_store_permitted(request.user, data["store"])
        batch, _created = services.offline_batch_record(
            batch_id=data["batch_id"], store=data["store"], rows=rows, actor=Actor.from_request(request)
        )
        return Response(batch.response_body)
