"""API shapes of a coupon series: its settings in, its settings and counts out."""

from rest_framework import serializers

from config import ranges
from coupons.models import CouponSeries
from members.models import OrgEntity
from offers.models import Offer


class CodeGenerationSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=CouponSeries.CodeMode.choices)
    length = serializers.IntegerField(**ranges.COUPON_CODE_LENGTH.bounds, required=False, allow_null=True)
    charset = serializers.ChoiceField(choices=CouponSeries.Charset.choices, required=False)
    code = serializers.CharField(max_length=64, required=False)
    sample_code = serializers.CharField(max_length=10, required=False)


class DiscountSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=CouponSeries.DiscountType.choices)
    value = serializers.DecimalField(**ranges.MONEY.bounds)
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True)


class ExpirySerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=CouponSeries.ExpiryMode.choices)
    days = serializers.IntegerField(**ranges.DAYS.bounds, required=False, allow_null=True)
    months = serializers.IntegerField(**ranges.MONTHS.bounds, required=False, allow_null=True)


class IssualSerializer(serializers.Serializer):
    max_per_member = serializers.IntegerField(**ranges.POSITIVE_COUNT.bounds, required=False, allow_null=True)
    min_gap_days = serializers.IntegerField(**ranges.DAYS.bounds, required=False, allow_null=True)
    on_rematch = serializers.ChoiceField(choices=CouponSeries.OnRematch.choices, required=False)
    series_limit = serializers.IntegerField(**ranges.COUNT.bounds, required=False, allow_null=True)
    limit_notify_remaining = serializers.IntegerField(**ranges.COUNT.bounds, required=False, allow_null=True)
    limit_notify_emails = serializers.ListField(child=serializers.EmailField(), required=False)
    exclude_recipients_of = serializers.PrimaryKeyRelatedField(
        queryset=CouponSeries.objects.all(), many=True, required=False
    )
    exclude_window_days = serializers.IntegerField(**ranges.DAYS.bounds, required=False, allow_null=True)
    resend_sms_template = serializers.CharField(required=False, allow_blank=True)


class ReminderSerializer(serializers.Serializer):
    days_before_expiry = serializers.IntegerField(**ranges.DAYS.bounds)
    channel = serializers.ChoiceField(choices=["sms", "email"])
    time = serializers.TimeField(format="%H:%M")


class StartSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=CouponSeries.StartMode.choices)
    days = serializers.IntegerField(**ranges.DAYS.bounds, required=False, allow_null=True)
    date = serializers.DateField(required=False, allow_null=True)


class StoresSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=OrgEntity.Type.choices)
    codes = serializers.ListField(child=serializers.CharField(max_length=64), allow_empty=False)


class NewMembersSerializer(serializers.Serializer):
    registered_from = serializers.DateField(required=False, allow_null=True)
    registered_to = serializers.DateField(required=False, allow_null=True)
    max_transactions = serializers.IntegerField(**ranges.COUNT.bounds, required=False, allow_null=True)


class StackingSerializer(serializers.Serializer):
    exclusive = serializers.BooleanField(required=False)
    priority = serializers.IntegerField(**ranges.PRIORITY.bounds, required=False)


class RedemptionSerializer(serializers.Serializer):
    allow_anyone = serializers.BooleanField(required=False)
    start = StartSerializer(required=False, allow_null=True)
    multi_use = serializers.BooleanField(required=False)
    max_per_member = serializers.IntegerField(**ranges.POSITIVE_COUNT.bounds, required=False, allow_null=True)
    stores = StoresSerializer(required=False, allow_null=True)
    min_bill = serializers.DecimalField(**ranges.MONEY.bounds, required=False, allow_null=True)
    max_bill = serializers.DecimalField(**ranges.MONEY.bounds, required=False, allow_null=True)
    days_of_week = serializers.ListField(
        child=serializers.IntegerField(**ranges.DAY_OF_WEEK.bounds), required=False, allow_null=True
    )
    days_of_month = serializers.ListField(
        child=serializers.IntegerField(**ranges.DAY_OF_MONTH.bounds), required=False, allow_null=True
    )
    hours = serializers.ListField(child=serializers.IntegerField(**ranges.HOUR.bounds), required=False, allow_null=True)
    min_gap_days = serializers.IntegerField(**ranges.DAYS.bounds, required=False, allow_null=True)
    series_limit = serializers.IntegerField(**ranges.COUNT.bounds, required=False, allow_null=True)
    new_members = NewMembersSerializer(required=False, allow_null=True)
    skus = serializers.ListField(
        child=serializers.CharField(max_length=64, allow_blank=False),
        min_length=ranges.SKU_LIST_LENGTH.min,
        max_length=ranges.SKU_LIST_LENGTH.max,
        required=False,
        allow_null=True,
    )
    stacking = StackingSerializer(required=False, allow_null=True)
    on_return = serializers.ChoiceField(choices=CouponSeries.OnReturn.choices, required=False)


class CouponSeriesInputSerializer(serializers.Serializer):
    offer = serializers.PrimaryKeyRelatedField(queryset=Offer.objects.all())
    name = serializers.CharField(max_length=200)
    issued_by = serializers.ChoiceField(choices=CouponSeries.IssuedBy.choices, required=False)
    code_generation = CodeGenerationSerializer()
    discount = DiscountSerializer(required=False)
    expiry = ExpirySerializer(required=False)
    specific_members_only = serializers.BooleanField(required=False)
    issual = IssualSerializer(required=False, allow_null=True)
    reminders = ReminderSerializer(many=True, required=False, allow_null=True)
    redemption = RedemptionSerializer(required=False, allow_null=True)

    def validate(self, attrs):
        """A setting sent in a PATCH replaces the whole setting, so its required parts are required then too.

        DRF's partial validation skips required fields at every depth: `{"expiry": {"days": 3}}` passed
        without its `mode`.
        """
        missing = {
            name: {part: [serializers.Field.default_error_messages["required"]] for part in absent}
            for name, field in self.fields.items()
            if isinstance(field, serializers.Serializer) and isinstance(attrs.get(name), dict)
            for absent in [[part for part, sub in field.fields.items() if sub.required and part not in attrs[name]]]
            if absent
        }
        if missing:
            raise serializers.ValidationError(missing)
        return attrs

    def to_fields(self) -> dict:
        """The nested contract shape as the service's flat, typed settings."""
        data = self.validated_data
        out: dict = {}
        for name in ("offer", "name", "issued_by", "specific_members_only"):
            if name in data:
                out[name] = data[name]
        if "code_generation" in data:
            gen = data["code_generation"]
            out["code_mode"] = gen["mode"]
            if gen["mode"] == "unique":
                out["code_length"] = gen.get("length")
                out["code_charset"] = gen.get("charset", "")
            elif gen["mode"] == "common":
                out["common_code"] = (gen.get("code") or "").upper()
            elif gen["mode"] == "randomized_common":
                out["sample_code"] = gen.get("sample_code") or ""
        if data.get("discount"):
            d = data["discount"]
            out.update(discount_type=d["type"], discount_value=d["value"], discount_currency=d.get("currency", ""))
        if data.get("expiry"):
            e = data["expiry"]
            out.update(expiry_mode=e["mode"], expiry_days=e.get("days"), expiry_months=e.get("months"))
        if "issual" in data:
            i = data["issual"] or {}
            for name in ("max_per_member", "min_gap_days", "series_limit", "limit_notify_remaining",
                         "exclude_window_days"):  # fmt: skip
                out[name] = i.get(name)
            out["on_rematch"] = i.get("on_rematch") or CouponSeries.OnRematch.DO_NOT_SEND
            out["limit_notify_emails"] = i.get("limit_notify_emails") or []
            out["exclude_recipients_of"] = i.get("exclude_recipients_of") or []
            out["resend_sms_template"] = i.get("resend_sms_template") or ""
        if "reminders" in data:
            out["reminders"] = data["reminders"] or []
        if "redemption" in data:
            out.update(self._redemption(data["redemption"] or {}))
        return out

    def _redemption(self, r: dict) -> dict:
        start = r.get("start") or {"mode": "on_issue"}
        stores = r.get("stores")
        new = r.get("new_members") or {}
        stacking = r.get("stacking") or {}
        skus = r.get("skus")
        store_rows = []
        if stores:
            found = {e.code: e for e in OrgEntity.objects.filter(code__in=stores["codes"], type=stores["type"])}
            missing = [code for code in stores["codes"] if code not in found]
            if missing:
                raise serializers.ValidationError({"redemption": {"stores": [f"Unknown {stores['type']}: {missing}"]}})
            store_rows = list(found.values())
        return dict(
            allow_anyone=r.get("allow_anyone", False),
            redemption_start_mode=start["mode"],
            redemption_start_days=start.get("days"),
            redemption_start_date=start.get("date"),
            multi_use=r.get("multi_use", False),
            redemption_max_per_member=r.get("max_per_member"),
            redemption_stores_type=stores["type"] if stores else "",
            redemption_stores=store_rows,
            min_bill=r.get("min_bill"),
            max_bill=r.get("max_bill"),
            days_of_week=r.get("days_of_week"),
            days_of_month=r.get("days_of_month"),
            hours=r.get("hours"),
            redemption_min_gap_days=r.get("min_gap_days"),
            redemption_series_limit=r.get("series_limit"),
            new_members_registered_from=new.get("registered_from"),
            new_members_registered_to=new.get("registered_to"),
            new_members_max_transactions=new.get("max_transactions"),
            redemption_skus=list(dict.fromkeys(skus)) if skus else None,
            stacking_exclusive=stacking.get("exclusive", False),
            stacking_priority=stacking.get("priority", 0),
            on_return=r.get("on_return") or CouponSeries.OnReturn.FORFEIT,
        )


class CouponSeriesOutputSerializer(serializers.Serializer):
    def to_representation(self, s: CouponSeries) -> dict:
        from coupons.series.capacity import series_capacity

        cap = series_capacity(s)
        gen: dict = {"mode": s.code_mode}
        if s.code_mode == "unique":
            gen.update(length=s.code_length, charset=s.code_charset)
        elif s.code_mode == "common":
            gen["code"] = s.common_code
        elif s.code_mode == "randomized_common":
            # The sample code is not kept: only its fixed half and the shape of the rest.
            gen.update(fixed_part=s.code_prefix, random_length=s.code_length, charset=s.code_charset)
        stores = list(s.redemption_stores.all())
        return {
            "id": s.pk,
            "offer": s.offer_id,
            "name": s.name,
            "issued_by": s.issued_by,
            "code_generation": gen,
            "discount": {"type": s.discount_type, "value": str(s.discount_value), "currency": s.discount_currency},
            "expiry": {"mode": s.expiry_mode, "days": s.expiry_days, "months": s.expiry_months},
            "specific_members_only": s.specific_members_only,
            "issual": {
                "max_per_member": s.max_per_member,
                "min_gap_days": s.min_gap_days,
                "on_rematch": s.on_rematch,
                "series_limit": s.series_limit,
                "limit_notify_remaining": s.limit_notify_remaining,
                "limit_notify_emails": s.limit_notify_emails,
                "exclude_recipients_of": [x.pk for x in s.exclude_recipients_of.all()],
                "exclude_window_days": s.exclude_window_days,
                "resend_sms_template": s.resend_sms_template,
            },
            "reminders": [
                {"days_before_expiry": r.days_before_expiry, "channel": r.channel, "time": r.time.strftime("%H:%M")}
                for r in s.reminders.all()
            ],
            "redemption": {
                "allow_anyone": s.allow_anyone,
                "start": {"mode": s.redemption_start_mode, "days": s.redemption_start_days,
                          "date": s.redemption_start_date.isoformat() if s.redemption_start_date else None},
                "multi_use": s.multi_use,
                "max_per_member": s.redemption_max_per_member,
                "stores": {"type": s.redemption_stores_type, "codes": [e.code for e in stores]} if stores else None,
                "min_bill": None if s.min_bill is None else str(s.min_bill),
                "max_bill": None if s.max_bill is None else str(s.max_bill),
                "days_of_week": s.days_of_week,
                "days_of_month": s.days_of_month,
                "hours": s.hours,
                "min_gap_days": s.redemption_min_gap_days,
                "series_limit": s.redemption_series_limit,
                "skus": s.redemption_skus,
                "stacking": {"exclusive": s.stacking_exclusive, "priority": s.stacking_priority},
                "on_return": s.on_return,
                "new_members": None
                if s.new_members_registered_from is None
                and s.new_members_registered_to is None
                and s.new_members_max_transactions is None
                else {
                    "registered_from": s.new_members_registered_from,
                    "registered_to": s.new_members_registered_to,
                    "max_transactions": s.new_members_max_transactions,
                },
            },
            "capacity": cap.capacity,
            "issued": cap.issued,
            "redeemed": cap.redeemed,
            "remaining": cap.remaining,
            "code_space": cap.code_space,
            "guess_odds": cap.guess_odds,
            "guess_warning": cap.guess_warning,
        }  # fmt: skip


class SeriesOrgFilterSerializer(serializers.Serializer):
    """`?org_entity_type=zone&org_entity_ids=Z-NORTH,Z-SOUTH`: one type per request, both or neither."""

    org_entity_type = serializers.ChoiceField(choices=OrgEntity.Type.choices, required=False)
    org_entity_ids = serializers.CharField(required=False, allow_blank=False, max_length=10_000)

    def validate(self, data):
        if ("org_entity_type" in data) != ("org_entity_ids" in data):
            raise serializers.ValidationError("Give org_entity_type and org_entity_ids together.")
        if "org_entity_ids" in data:
            ids = [value.strip() for value in data["org_entity_ids"].split(",") if value.strip()]
            if not ids:
                raise serializers.ValidationError({"org_entity_ids": ["A comma-separated list of entity ids."]})
            data["org_entity_ids"] = ids
        return data
