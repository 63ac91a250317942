"""The range of every integer and decimal the product accepts, named once and reused everywhere.

Model field validators (so the admin and django-import-export's `clean_model_instances` refuse a value),
API serializer fields (so the API answers 400 naming the field, and the OpenAPI schema carries the
bounds) and the services that check settings all read these. docs/input_ranges.md is the table.

How the bounds were chosen:
- counts and limits stay below 2**31 (their columns are 32-bit), with headroom: 2,000,000,000;
- points stay far inside 64 bits, so a balance plus any one entry never overflows: balances up to
  10**15, one manual adjustment or reward cost up to 10**9, one offer's award rate up to 10**6;
- days and months are at most a hundred years, so the date arithmetic of issuance and redemption
  (issue date + days, month ends after issue, now - a window) never leaves the calendar;
- money is a decimal of 12 digits with 2 places, as its columns are, and never negative.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator


@dataclass(frozen=True)
class IntegerRange:
    min: int
    max: int

    def __contains__(self, value) -> bool:
        return self.min <= value <= self.max

    @property
    def bounds(self) -> dict:
        """`min_value` and `max_value`, as DRF's and Django's form IntegerFields take them."""
        return {"min_value": self.min, "max_value": self.max}

    def validators(self) -> list:
        return [MinValueValidator(self.min), MaxValueValidator(self.max)]

    def list_validator(self) -> "IntegerListValidator":
        """For a JSON list of integers each within this range."""
        return IntegerListValidator(self.min, self.max)

    def message(self) -> str:
        return f"Ensure this value is between {self.min:,} and {self.max:,}."


@dataclass(frozen=True)
class DecimalRange:
    max_digits: int
    decimal_places: int
    min: Decimal

    def __contains__(self, value) -> bool:
        return self.min <= value <= self.max

    @property
    def max(self) -> Decimal:
        whole = self.max_digits - self.decimal_places
        return Decimal(10**whole) - Decimal(1).scaleb(-self.decimal_places)

    @property
    def bounds(self) -> dict:
        """What DRF's DecimalField takes; the digits bound the maximum."""
        return {"max_digits": self.max_digits, "decimal_places": self.decimal_places, "min_value": self.min}

    def validators(self) -> list:
        return [MinValueValidator(self.min)]


COUNT_MAX = 2_000_000_000

# Counts and limits
COUNT = IntegerRange(0, COUNT_MAX)  # limits' max_count, series limits, transaction counts, notify thresholds
POSITIVE_COUNT = IntegerRange(1, COUNT_MAX)  # per-member maxima, a product's minimum quantity
QUANTITY = IntegerRange(1, 100_000)  # units of one basket line

# Points
POINTS_BALANCE = IntegerRange(0, 10**15)  # a member's balance, and the size of any one ledger entry
POINTS_ADJUSTMENT = IntegerRange(-1_000_000_000, 1_000_000_000)  # one manual adjustment (never 0)
REWARD_COST = IntegerRange(0, 1_000_000_000)  # a reward's cost in points
AWARD_POINTS = IntegerRange(1, 1_000_000)  # an offer's fixed award, or its points per unit

# Time
DAYS = IntegerRange(0, 36_500)  # about a hundred years
MONTHS = IntegerRange(0, 1_200)
DAY_OF_WEEK = IntegerRange(0, 6)  # 0 = Monday
DAY_OF_MONTH = IntegerRange(1, 31)
HOUR = IntegerRange(0, 23)
AGE = IntegerRange(0, 150)  # years

# Codes
COUPON_CODE_LENGTH = IntegerRange(4, 16)  # generated unique coupon codes
CERTIFICATE_CODE_LENGTH = IntegerRange(6, 32)
CERTIFICATE_CODES_PER_REQUEST = IntegerRange(1, 1_000_000)

# Lists
OBJECT_ID = IntegerRange(1, 2**63 - 1)  # a row's id: the bigint primary keys
PAGE = IntegerRange(1, COUNT_MAX)
PAGE_SIZE = IntegerRange(1, 500)

# Money
MONEY = DecimalRange(max_digits=12, decimal_places=2, min=Decimal("0"))  # amounts, prices, bills, discounts
PERCENTAGE = IntegerRange(0, 100)  # a percentage discount's value
PRIORITY = IntegerRange(-1_000_000, 1_000_000)  # a coupon series' stacking priority (higher is considered first)
SKU_LIST_LENGTH = IntegerRange(1, 10_000)  # the SKUs a coupon series may discount
BASKET_LINES = IntegerRange(1, 500)  # lines of one basket a till prices or checks out
BASKET_CODES = IntegerRange(0, 20)  # coupon codes, or offer responses, one basket may apply
RETURN_LINES = IntegerRange(1, 1_000)  # lines one return names
OFFLINE_BATCH_ROWS = IntegerRange(1, 100_000)  # redemptions one offline batch carries


class IntegerListValidator:
    """A JSON list of whole numbers each within the bounds (None: no restriction).

    Deconstructible, so a model field carrying it migrates like Django's own validators.
    """

    def __init__(self, minimum: int, maximum: int):
        self.minimum, self.maximum = minimum, maximum

    def __call__(self, value):
        if value is None:
            return
        if not isinstance(value, list) or not all(
            isinstance(item, int) and not isinstance(item, bool) and self.minimum <= item <= self.maximum
            for item in value
        ):
            raise ValidationError(
                f"A list of whole numbers from {self.minimum} to {self.maximum}.",
                code="invalid_list",
            )

    def __eq__(self, other):
        return isinstance(other, IntegerListValidator) and (self.minimum, self.maximum) == (
            other.minimum,
            other.maximum,
        )

    def deconstruct(self):
        return ("config.ranges.IntegerListValidator", (self.minimum, self.maximum), {})
