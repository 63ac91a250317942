"""When an issued coupon expires and when it may first be redeemed (pure date arithmetic).

"End of day" and "month end" are read in the program's time zone (settings.TIME_ZONE): a coupon issued
on 12 November with 0 days expires at the last instant of 12 November; with 0 month ends, at the last
instant of 30 November; with 1 month end, of 31 December. Every expiry is capped by the offer's end.
"""

import calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

END_OF_DAY = time(23, 59, 59, 999999)


def _zone():
    return ZoneInfo(settings.TIME_ZONE)


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, END_OF_DAY, tzinfo=_zone())


def add_month_ends(day: date, months: int) -> date:
    """The last day of the month `months` months after `day`'s month."""
    month_index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, calendar.monthrange(year, month + 1)[1])


def offer_end(offer_expire_at: datetime | None, offer_usage_end: datetime | None) -> datetime | None:
    ends = [moment for moment in (offer_expire_at, offer_usage_end) if moment is not None]
    return min(ends) if ends else None


def coupon_expires_at(
    *, mode: str, issued_at: datetime, days: int | None, months: int | None, offer_ends_at: datetime | None
) -> datetime | None:
    """The expiry of a coupon issued at `issued_at`; None means it never expires."""
    local_day = issued_at.astimezone(_zone()).date()
    if mode == "days_from_issue":
        own = end_of_day(local_day + timedelta(days=days or 0))
    elif mode == "month_ends_from_issue":
        own = end_of_day(add_month_ends(local_day, months or 0))
    else:  # with_offer
        return offer_ends_at
    return min(own, offer_ends_at) if offer_ends_at is not None else own


def coupon_redeemable_from(*, mode: str, issued_at: datetime, days: int | None, start_date: date | None) -> datetime:
    """Redemption start (seed: N days after issue counts dates only; from a date plus N days)."""
    local_day = issued_at.astimezone(_zone()).date()
    if mode == "days_after_issue":
        return datetime.combine(local_day + timedelta(days=days or 0), time.min, tzinfo=_zone())
    if mode == "from_date":
        after_issue = datetime.combine(local_day + timedelta(days=days or 0), time.min, tzinfo=_zone())
        if days == 0 or days is None:
            after_issue = issued_at
        if start_date is None:
            return after_issue
        return max(datetime.combine(start_date, time.min, tzinfo=_zone()), after_issue)
    return issued_at
