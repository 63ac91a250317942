"""The coupons dataset for exports (see exports/datasets.py)."""

from coupons.models import Coupon
from exports.datasets import Column, Dataset, Filter, choice_value, datetime_value, integer_value, register_dataset

register_dataset(
    Dataset(
        name="coupons",
        label="Coupons",
        # Coupons keep no database foreign keys to series or members, hence the LEFT JOIN for members.
        source="coupons_coupon c JOIN coupons_couponseries s ON s.id = c.series_id "
               "LEFT JOIN members_member m ON m.id = c.member_id",
        order_by="c.id",
        columns=[
            Column("id", "c.id"),
            Column("code", "c.code"),
            Column("series_id", "c.series_id"),
            Column("series_name", "s.name"),
            Column("member_external_id", "m.external_id"),
            Column("status", "c.status"),
            Column("is_common", "c.is_common"),
            Column("issued_at", "c.issued_at"),
            Column("expires_at", "c.expires_at"),
            Column("redeemable_from", "c.redeemable_from"),
            Column("is_reversed", "c.is_reversed"),
            Column("last_status_change_on", "c.last_status_change_on"),
        ],
        filters=[
            Filter("status", "c.status = %s", choice_value(*Coupon.Status.values), "a coupon status"),
            Filter("series", "c.series_id = %s", integer_value, "the series id"),
            Filter("issued_from", "c.issued_at >= %s", datetime_value, "issued at or after (ISO 8601)"),
            Filter("issued_to", "c.issued_at < %s", datetime_value, "issued before (ISO 8601)"),
            Filter("expires_from", "c.expires_at >= %s", datetime_value, "expiring at or after (ISO 8601)"),
            Filter("expires_to", "c.expires_at < %s", datetime_value, "expiring before (ISO 8601)"),
        ],
    )
)  # fmt: skip

register_dataset(
    Dataset(
        name="coupon_redemptions",
        label="Coupon redemptions",
        source="coupons_couponredemption r JOIN coupons_coupon c ON c.id = r.coupon_id "
               "JOIN coupons_couponseries s ON s.id = r.series_id "
               "JOIN members_member m ON m.id = r.member_id JOIN members_orgentity o ON o.id = r.store_id",
        order_by="r.id",
        columns=[
            Column("id", "r.id"),
            Column("code", "c.code"),
            Column("series_id", "r.series_id"),
            Column("series_name", "s.name"),
            Column("member_external_id", "m.external_id"),
            Column("store", "o.code"),
            Column("bill_amount", "r.bill_amount"),
            Column("discount_amount", "r.discount_amount"),
            Column("currency", "r.currency"),
            Column("transaction_id", "r.transaction_id"),
            Column("redeemed_at", "r.redeemed_at"),
            Column("is_reversed", "r.is_reversed"),
            Column("reversed_at", "r.reversed_at"),
        ],
        filters=[
            Filter("series", "r.series_id = %s", integer_value, "the series id"),
            Filter("redeemed_from", "r.redeemed_at >= %s", datetime_value, "redeemed at or after (ISO 8601)"),
            Filter("redeemed_to", "r.redeemed_at < %s", datetime_value, "redeemed before (ISO 8601)"),
            # The admin list's own filter values: 1 reversed, 0 not reversed.
            Filter("reversed", "r.is_reversed = (%s = '1')", choice_value("0", "1"), "1 reversed, 0 not"),
        ],
    )
)  # fmt: skip
