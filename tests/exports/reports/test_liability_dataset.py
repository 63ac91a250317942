"""The `liability` export dataset: coupon liability moving month by month, exported like any dataset."""

import csv
import io

import pytest

from config.actors import Actor
from exports import services
from exports.datasets import FilterValueError, dataset_get
from tests.exports.factories import ExportDefinitionFactory

pytestmark = pytest.mark.django_db


def exported(filters=None):
    dataset = dataset_get("liability")
    definition = ExportDefinitionFactory(dataset="liability", columns=dataset.column_names, filters=filters or {})
    run = services.export_run_create(definition=definition, actor=Actor.system("tests"))
    run = services.export_run_execute(run_id=run.pk, actor=Actor.system("tests"))
    assert run.status == "succeeded", run.error
    with run.file.open("rb") as handle:
        return list(csv.DictReader(io.StringIO(handle.read().decode())))


def moves(rows):
    return {
        (row["month"], row["series_name"], row["currency"]): (
            int(row["issued_count"]), float(row["issued_value"]), int(row["redeemed_count"]),
            float(row["redeemed_value"]), int(row["expired_count"]), float(row["expired_value"]),
            int(row["revoked_count"]),
        )
        for row in rows
    }  # fmt: skip


def test_liability_dataset_by_month(history):
    assert moves(exported()) == {
        ("2026-01", "A", "USD"): (7, 35.0, 0, 0.0, 0, 0.0, 0),
        ("2026-01", "B", ""): (2, 0.0, 0, 0.0, 0, 0.0, 0),
        ("2026-01", "C", "EUR"): (2, 20.0, 0, 0.0, 0, 0.0, 0),
        ("2026-01", "M", "USD"): (1, 2.0, 0, 0.0, 0, 0.0, 0),
        # the redemption reversed in March is not in February's redemptions
        ("2026-02", "A", "USD"): (0, 0.0, 1, 5.0, 2, 10.0, 1),
        ("2026-02", "A", "EUR"): (0, 0.0, 1, 4.6, 0, 0.0, 0),
        ("2026-02", "B", "EUR"): (0, 0.0, 1, 3.2, 0, 0.0, 0),
        ("2026-02", "C", "EUR"): (0, 0.0, 0, 0.0, 1, 10.0, 0),
        ("2026-02", "M", "USD"): (0, 0.0, 2, 4.0, 0, 0.0, 0),
        ("2026-03", "A", "USD"): (1, 5.0, 0, 0.0, 0, 0.0, 0),
    }


def test_liability_dataset_filters(history):
    assert {row["month"] for row in exported({"month_from": "2026-02", "month_to": "2026-02"})} == {"2026-02"}
    assert {row["currency"] for row in exported({"currency": "EUR"})} == {"EUR"}
    assert {row["series_id"] for row in exported({"series": history["C"]})} == {str(history["C"])}


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "26-01", "2026-01-01", 202601])
def test_liability_dataset_refuses_a_bad_month(bad):
    with pytest.raises(FilterValueError) as refused:
        dataset_get("liability").filter("month_from").parse(bad)
    assert "YYYY-MM" in str(refused.value)
