"""What can be exported: a registry of datasets that the apps owning the data register.

A dataset is a SQL source (a FROM clause with its joins), the columns a definition may choose
(name → SQL expression) and the filters it may set (name → SQL condition + a value parser). Plain
SQL, not a queryset, because the same statement feeds PostgreSQL's `COPY (SELECT …) TO STDOUT`
and a chunked cursor on SQLite, and because column expressions (aggregates of related rows) are
easier to keep streaming-friendly in SQL.

An app registers its datasets from an `export_datasets.py` module, which `ExportsConfig.ready()`
imports for every installed app:

    from exports.datasets import Column, Dataset, Filter, register_dataset
    register_dataset(Dataset(name="coupons", source="coupons_coupon c", order_by="c.id", columns=[...]))
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

# The datasets the API contract names; each is registered by the app that owns its tables.
CONTRACT_DATASETS = ("offer_responses", "coupons", "coupon_redemptions", "certificate_codes", "members")


class FilterValueError(ValueError):
    """A filter value that does not parse; the message says what was expected."""


@dataclass(frozen=True)
class Column:
    name: str
    # SQL for every database, or {vendor: SQL} where the databases differ ("postgresql", "sqlite").
    expression: str | dict[str, str]

    def sql(self, vendor: str) -> str:
        if isinstance(self.expression, str):
            return self.expression
        return self.expression.get(vendor) or self.expression["default"]


@dataclass(frozen=True)
class Filter:
    name: str
    # A SQL condition with one `%s` per parameter that `parse` returns.
    condition: str
    parse: Callable[[object], Sequence[object]]
    help_text: str = ""


@dataclass(frozen=True)
class Dataset:
    name: str
    source: str  # FROM clause, joins included
    order_by: str  # a stable order, so files compare run to run
    columns: Sequence[Column]
    filters: Sequence[Filter] = ()
    where: str = ""  # a condition every export of this dataset applies
    label: str = ""
    _columns_by_name: dict = field(init=False, repr=False, compare=False)
    _filters_by_name: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_columns_by_name", {column.name: column for column in self.columns})
        object.__setattr__(self, "_filters_by_name", {item.name: item for item in self.filters})

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def filter_names(self) -> list[str]:
        return [item.name for item in self.filters]

    def column(self, name: str) -> Column:
        return self._columns_by_name[name]

    def filter(self, name: str) -> Filter:
        return self._filters_by_name[name]

    def has_column(self, name: str) -> bool:
        return name in self._columns_by_name

    def has_filter(self, name: str) -> bool:
        return name in self._filters_by_name


_registry: dict[str, Dataset] = {}


def register_dataset(dataset: Dataset) -> Dataset:
    """Register (or re-register, e.g. on autoreload) a dataset under its name."""
    _registry[dataset.name] = dataset
    return dataset


def unregister_dataset(name: str) -> None:
    _registry.pop(name, None)


def dataset_get(name: str) -> Dataset | None:
    return _registry.get(name)


def dataset_names() -> list[str]:
    """Every name a definition may use: the contract's plus any other registered one."""
    return sorted(set(CONTRACT_DATASETS) | set(_registry))


def registered_datasets() -> list[Dataset]:
    return [_registry[name] for name in sorted(_registry)]


# Value parsers for filters -------------------------------------------------------------------


def choice_value(*choices: str) -> Callable[[object], list[object]]:
    def parse(value):
        if value not in choices:
            raise FilterValueError(f"Expected one of {', '.join(choices)}.")
        return [value]

    return parse


def text_value(*, max_length: int = 200) -> Callable[[object], list[object]]:
    def parse(value):
        if not isinstance(value, str) or not value or len(value) > max_length:
            raise FilterValueError(f"Expected a non-empty string of at most {max_length} characters.")
        return [value]

    return parse


def integer_value(value) -> list[object]:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FilterValueError("Expected an integer.")
    return [value]


def datetime_value(value) -> list[object]:
    """An ISO 8601 timestamp, or a date (midnight UTC)."""
    parsed = None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value) or parse_date(value)
        except ValueError:
            parsed = None
    if parsed is None:
        raise FilterValueError("Expected an ISO 8601 date or timestamp.")
    if isinstance(parsed, date) and not isinstance(parsed, datetime):
        parsed = datetime(parsed.year, parsed.month, parsed.day)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return [parsed]
