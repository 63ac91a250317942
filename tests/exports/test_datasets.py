import pytest

from exports.datasets import CONTRACT_DATASETS, FilterValueError, dataset_get, dataset_names, datetime_value
from exports.rules import parse_cron
from exports.streaming import CsvRecordCounter


def test_members_dataset_is_registered_by_the_members_app():
    members = dataset_get("members")
    assert members is not None
    assert {"status", "segment", "registered_from", "registered_to"} == set(members.filter_names)
    assert set(CONTRACT_DATASETS) <= set(dataset_names())


def test_datetime_value_accepts_dates_and_timestamps_and_rejects_the_rest():
    assert datetime_value("2026-01-02")[0].isoformat() == "2026-01-02T00:00:00+00:00"
    assert datetime_value("2026-01-02T03:04:05+02:00")[0].utcoffset().total_seconds() == 7200
    for bad in ("2026-13-40", "soon", 5, None):
        with pytest.raises(FilterValueError):
            datetime_value(bad)


def test_parse_cron_accepts_five_valid_fields_only():
    assert parse_cron("*/15 8-18 * * mon-fri").hour == "8-18"
    for bad in ("* * * *", "60 * * * *", "* 24 * * *", "* * 32 * *", "* * * 13 *", "a b c d e"):
        with pytest.raises(ValueError):
            parse_cron(bad)


def test_csv_record_counter_ignores_newlines_inside_quoted_fields_across_chunks():
    counter = CsvRecordCounter()
    for chunk in (b'a,b\n1,"two\n', b'lines ""quoted""\n",3\n', b"4,5\n"):
        counter.feed(chunk)
    assert counter.records == 3
