"""Exports write every date and time in ISO 8601 with its offset, whichever database and path wrote the file."""

import csv
import io
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.core.files.storage import default_storage
from django.db import connection

from config.actors import Actor
from exports import services
from exports.datasets import dataset_get
from exports.streaming import datetime_columns, write_csv
from tests.coupons.factories import CouponFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")
PARIS_WINTER = timezone(timedelta(hours=1))


def parsed(rows, column):
    index = rows[0].index(column)
    return [datetime.fromisoformat(row[index]) if row[index] else None for row in rows[1:]]


def test_export_run_writes_datetimes_in_iso_8601_with_an_offset():
    CouponFactory(code="WIN-1", expires_at=datetime(2026, 12, 31, 23, 30, tzinfo=PARIS_WINTER))
    columns = ["code", "issued_at", "expires_at"]
    definition = services.export_definition_create(
        name="Coupons", dataset="coupons", filters={}, columns=columns, actor=ACTOR
    )
    run_id = services.export_run_create(definition=definition, actor=ACTOR).pk
    run = services.export_run_execute(run_id=run_id, actor=ACTOR)
    with default_storage.open(run.file.name, "rb") as handle:
        rows = list(csv.reader(io.TextIOWrapper(handle, encoding="utf-8", newline="")))

    [expires_at] = parsed(rows, "expires_at")
    assert expires_at.tzinfo is not None and expires_at.utcoffset() == timedelta(0)
    assert expires_at == datetime(2026, 12, 31, 22, 30, tzinfo=UTC)
    assert all(value.tzinfo is not None for value in parsed(rows, "issued_at"))


def write(dataset, columns, method="auto"):
    out = io.BytesIO()
    write_csv(dataset=dataset_get(dataset), columns=columns, filters={}, out=out, on_progress=lambda rows: None,
              method=method)  # fmt: skip
    return list(csv.reader(io.StringIO(out.getvalue().decode())))


def test_export_leaves_an_empty_datetime_empty_and_other_columns_as_they_are():
    MemberFactory(external_id="2026-01-02 03:04:05", registered_at=datetime(2026, 3, 4, 5, 6, 7, 8, tzinfo=UTC))
    rows = write("members", ["external_id", "registered_at"])
    assert rows[1] == ["2026-01-02 03:04:05", "2026-03-04T05:06:07.000008+00:00"]


def test_export_datetime_columns_are_the_ones_selecting_a_datetime_field():
    columns = ["code", "issued_at", "expires_at", "series_name", "member_external_id"]
    assert datetime_columns(dataset_get("coupons"), columns, connection.vendor) == {"issued_at", "expires_at"}


@pytest.mark.postgres
@pytest.mark.parametrize("method", ["copy", "cursor"])
def test_export_on_postgresql_writes_the_same_iso_8601_text_by_copy_and_by_cursor(method):
    MemberFactory(external_id="M-1", registered_at=datetime(2026, 3, 4, 6, 6, 7, tzinfo=PARIS_WINTER))
    rows = write("members", ["external_id", "registered_at"], method=method)
    assert rows[1] == ["M-1", "2026-03-04T05:06:07.000000+00:00"]
