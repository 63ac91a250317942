"""How many more coupons a series can issue: the series limit and the codes its code space has left."""

from dataclasses import dataclass

from coupons.models import CouponSeries
from coupons.series.codes import series_code_space


@dataclass(frozen=True)
class SeriesCapacity:
    capacity: int | None  # codes the series can ever have; None: unbounded (a common code)
    issued: int
    redeemed: int
    remaining: int | None  # issuals still possible under capacity and series limit
    code_space: int | None
    guess_odds: float | None  # chance a random well-formed guess hits a live code
    guess_warning: bool


def series_capacity(series: CouponSeries, *, planned: int = 0) -> SeriesCapacity:
    """What a series can still issue, and how guessable its live codes are (with `planned` more issued)."""
    from coupons.series.codes import GUESS_WARNING_ODDS

    space = series_code_space(series)
    if space is not None:
        capacity = space.size
        used = series.next_code_index
    elif series.code_mode == CouponSeries.CodeMode.UPLOAD:
        capacity, used = series.code_count, series.issued_count
    else:
        capacity, used = None, series.issued_count
    bounds = []
    if capacity is not None:
        bounds.append(capacity - used)
    if series.series_limit is not None:
        bounds.append(series.series_limit - series.issued_count)
    remaining = max(0, min(bounds)) if bounds else None
    odds = None
    if space is not None:
        live = max(0, series.issued_count - series.redeemed_count) + planned
        odds = live / space.size
    return SeriesCapacity(
        capacity=capacity,
        issued=series.issued_count,
        redeemed=series.redeemed_count,
        remaining=remaining,
        code_space=space.size if space else None,
        guess_odds=odds,
        guess_warning=odds is not None and odds >= GUESS_WARNING_ODDS,
    )


def codes_left(series) -> int | None:
    space = series_code_space(series)
    if space is not None:
        return space.size - series.next_code_index
    if series.code_mode == CouponSeries.CodeMode.UPLOAD:
        return series.code_count - series.issued_count
    return None
