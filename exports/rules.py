"""Pure checks on definitions: cron expressions, destinations, columns and filters."""

from dataclasses import dataclass

from celery.schedules import crontab

from exports.datasets import Dataset, FilterValueError

CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


@dataclass(frozen=True)
class CronFields:
    minute: str
    hour: str
    day_of_month: str
    month_of_year: str
    day_of_week: str


def parse_cron(expression: str) -> CronFields:
    """Five space-separated cron fields; raises ValueError saying what is wrong."""
    parts = expression.split()
    if len(parts) != 5:
        raise ValueError("A cron expression has five fields: minute hour day-of-month month day-of-week.")
    fields = CronFields(*parts)
    try:
        crontab(**{name: getattr(fields, name) for name in CRON_FIELDS})
    except (ValueError, TypeError) as exc:
        raise ValueError(f"Invalid cron expression: {exc}") from exc
    return fields


def destination_problem(destination: str) -> str | None:
    if not destination or destination.startswith("/") or "\\" in destination:
        return "Use a relative folder such as exports/members."
    if any(part in ("", ".", "..") for part in destination.strip("/").split("/")):
        return "Use a relative folder without '.' or '..' parts."
    return None


def column_problems(dataset: Dataset, columns: list) -> list[str]:
    problems = []
    seen = set()
    for name in columns:
        if not isinstance(name, str) or not dataset.has_column(name):
            problems.append(f"Unknown column {name!r}; {dataset.name} has {', '.join(dataset.column_names)}.")
        elif name in seen:
            problems.append(f"Column {name!r} is listed twice.")
        seen.add(name if isinstance(name, str) else repr(name))
    return problems


def filter_problems(dataset: Dataset, filters: dict) -> tuple[list[str], list[str]]:
    """(unknown filter messages, bad value messages)."""
    unknown, invalid = [], []
    for name, value in filters.items():
        if not dataset.has_filter(name):
            known = ", ".join(dataset.filter_names) or "none"
            unknown.append(f"Unknown filter {name!r}; {dataset.name} accepts {known}.")
            continue
        try:
            dataset.filter(name).parse(value)
        except FilterValueError as exc:
            invalid.append(f"Filter {name!r}: {exc}")
    return unknown, invalid
