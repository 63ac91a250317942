"""The money view: what the program owes in coupons and points as of a date, and what it no longer owes.

As of a date means at the end of that day (midnight after it, in `TIME_ZONE`), read from what the rows say
happened and when, not from today's statuses:
- a coupon counts once it was issued (`issued_at` before that moment);
- it was redeemed then if a redemption happened before it and had not been reversed before it (a reversal after
  the date leaves it redeemed as of the date); a multi-use coupon stays open however often it is used;
- it was revoked then if it is revoked now and was revoked before it (revoked is final, so the time of its last
  status change is the time of the revoke; a revoked code issued again by an upload has a new `issued_at`);
- otherwise it had expired if its expiry date had passed (breakage, whether or not the sweep had run), and
  else it was open.
Open and expired values are the fixed discounts of those coupons in the series' currency; a percentage coupon
carries no fixed value and counts with value 0. Redeemed values are the discounts given, in the currency of the
redemption. So a row is a series and a currency: the series' own currency carries its open and expired
figures, and each currency it was redeemed in carries those redemptions.

Read from the day closes (exports/reports/liability_closes.py): a closed day is a few rows; a later day is the
newest close carried forward with the coupons and redemptions that changed since; a day before the first close is
read from every coupon. So the report costs what changed since the last close, not the size of the program.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings

from config.db_router import reads_may_lag
from coupons.models import CouponSeries
from exports.reports.liability_closes import figures_as_of
from exports.reports.liability_figures import EXPIRED, OPEN, REVOKED, ZERO, end_of_day, live_redemptions

__all__ = ["SeriesLiability", "end_of_day", "liability_report", "live_redemptions"]


@dataclass
class SeriesLiability:
    series: int
    series_name: str
    currency: str | None
    issued_open_count: int = 0
    issued_open_value: Decimal = ZERO
    redeemed_count: int = 0
    redeemed_value: Decimal = ZERO
    expired_count: int = 0
    expired_value: Decimal = ZERO
    revoked_count: int = 0


# Aggregates over every coupon and the whole ledger: read from the replica, seconds behind at worst.
@reads_may_lag()
def liability_report(*, as_of: date, currency: str | None = None) -> dict:
    figures = figures_as_of(as_of)
    wanted = currency.upper() if currency else None
    series_ids = {pk for pk, counts in figures.coupons.items() if any(counts.values())}
    series_ids |= {pk for (pk, _), (count, value) in figures.redemptions.items() if count or value}
    series = {
        row["id"]: row
        for row in CouponSeries.objects.filter(pk__in=series_ids).values(
            "id", "name", "discount_type", "discount_value", "discount_currency"
        )
    }
    rows: dict[tuple[int, str | None], SeriesLiability] = {}

    def row_for(series_id: int, row_currency: str | None) -> SeriesLiability:
        key = (series_id, row_currency or None)
        if key not in rows:
            rows[key] = SeriesLiability(series=series_id, series_name=series[series_id]["name"], currency=key[1])
        return rows[key]

    for series_id, counts in figures.coupons.items():
        of = series.get(series_id)
        if of is None or not any(counts.values()) or (wanted and (of["discount_currency"] or "").upper() != wanted):
            continue
        row = row_for(series_id, of["discount_currency"])
        face = of["discount_value"] if of["discount_type"] == "fixed" else ZERO
        row.issued_open_count, row.issued_open_value = counts[OPEN], face * counts[OPEN]
        row.expired_count, row.expired_value = counts[EXPIRED], face * counts[EXPIRED]
        row.revoked_count = counts[REVOKED]
    for (series_id, row_currency), (count, value) in figures.redemptions.items():
        if series_id not in series or not (count or value) or (wanted and row_currency.upper() != wanted):
            continue
        row = row_for(series_id, row_currency)
        row.redeemed_count, row.redeemed_value = count, value
    point_value = Decimal(settings.POINT_VALUE)
    return {
        "as_of": as_of,
        "coupons": [rows[key] for key in sorted(rows, key=lambda key: (key[0], key[1] or ""))],
        "points": {
            "outstanding": figures.points,
            "value": (point_value * figures.points).quantize(Decimal("0.01")),
            "currency": settings.POINT_VALUE_CURRENCY or None,
        },
    }
