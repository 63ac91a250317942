"""The liability dataset: coupon liability moving month by month (see exports/reports/liability.py).

A row is a month, a series and a currency: coupons issued that month and their face value, redemptions made that
month (not reversed) and the discounts given, coupons whose expiry date fell that month unused (breakage, swept
or not) and coupons revoked that month. Issued, expired and revoked are in the series' currency (a percentage
series carries no fixed value, so 0); redemptions in the currency they were made in. The month's change in what
is owed is issued minus redeemed (single-use), expired and revoked; `GET /api/v1/reports/liability` answers the balance
as of any date. Months are calendar months in UTC.
"""

import re

from coupons.models import Coupon
from exports.datasets import Column, Dataset, Filter, FilterValueError, integer_value, register_dataset, text_value

MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
ISSUED, EXPIRED, REVOKED = Coupon.Status.ISSUED, Coupon.Status.EXPIRED, Coupon.Status.REVOKED


def month_value(value) -> list[object]:
    if not isinstance(value, str) or not MONTH.match(value):
        raise FilterValueError("Expected a month as YYYY-MM.")
    return [value]


def _month(column: str) -> str:
    # Timestamps as text start with YYYY-MM on both databases (PostgreSQL's sessions run in UTC).
    return f"SUBSTR(CAST({column} AS TEXT), 1, 7)"


_SERIES = "coupons_coupon c JOIN coupons_couponseries s ON s.id = c.series_id"
_MOVES = f"""
    SELECT {_month("c.issued_at")} AS month, c.series_id, s.discount_currency AS currency,
           1 AS issued, 0 AS redeemed, 0 AS redeemed_value, 0 AS expired, 0 AS revoked
      FROM {_SERIES} WHERE c.issued_at IS NOT NULL
    UNION ALL
    SELECT {_month("r.redeemed_at")}, r.series_id, r.currency, 0, 1, r.discount_amount, 0, 0
      FROM coupons_couponredemption r WHERE NOT r.is_reversed
    UNION ALL
    SELECT {_month("c.expires_at")}, c.series_id, s.discount_currency, 0, 0, 0, 1, 0
      FROM {_SERIES} WHERE c.issued_at IS NOT NULL
       AND (c.status = '{EXPIRED}' OR (c.status = '{ISSUED}' AND c.expires_at < CURRENT_TIMESTAMP))
    UNION ALL
    SELECT {_month("c.last_status_change_on")}, c.series_id, s.discount_currency, 0, 0, 0, 0, 1
      FROM {_SERIES} WHERE c.status = '{REVOKED}' AND c.issued_at IS NOT NULL
"""
_SOURCE = f"""(
    SELECT m.month, m.series_id, m.currency, SUM(m.issued) AS issued_count, SUM(m.redeemed) AS redeemed_count,
           SUM(m.redeemed_value) AS redeemed_value, SUM(m.expired) AS expired_count, SUM(m.revoked) AS revoked_count
      FROM ({_MOVES}) m
     GROUP BY m.month, m.series_id, m.currency
) l JOIN coupons_couponseries s ON s.id = l.series_id"""
_FACE = "CASE WHEN s.discount_type = 'fixed' THEN s.discount_value ELSE 0 END"

register_dataset(
    Dataset(
        name="liability",
        label="Liability by month",
        source=" ".join(_SOURCE.split()),
        order_by="l.month, l.series_id, l.currency",
        columns=[
            Column("month", "l.month"),
            Column("series_id", "l.series_id"),
            Column("series_name", "s.name"),
            Column("currency", "l.currency"),
            Column("issued_count", "l.issued_count"),
            Column("issued_value", f"l.issued_count * {_FACE}"),
            Column("redeemed_count", "l.redeemed_count"),
            Column("redeemed_value", "l.redeemed_value"),
            Column("expired_count", "l.expired_count"),
            Column("expired_value", f"l.expired_count * {_FACE}"),
            Column("revoked_count", "l.revoked_count"),
        ],
        filters=[
            Filter("series", "l.series_id = %s", integer_value, "the series id"),
            Filter("currency", "l.currency = %s", text_value(max_length=3), "a currency code"),
            Filter("month_from", "l.month >= %s", month_value, "from this month (YYYY-MM)"),
            Filter("month_to", "l.month <= %s", month_value, "up to this month (YYYY-MM)"),
        ],
    )
)
