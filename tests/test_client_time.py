from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from config.client_time import ClientTimeOutOfRangeError, client_time_check, client_time_window

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_the_window_defaults_to_five_minutes_ahead_and_72_hours_behind():
    window = client_time_window(NOW)
    assert (window.earliest, window.latest) == (NOW - timedelta(hours=72), NOW + timedelta(minutes=5))


@override_settings(CLIENT_CLOCK_SKEW_SECONDS=30, OFFLINE_WINDOW_HOURS=2)
def test_the_window_follows_the_settings():
    window = client_time_window(NOW)
    assert (window.earliest, window.latest) == (NOW - timedelta(hours=2), NOW + timedelta(seconds=30))


@pytest.mark.parametrize("at", [NOW + timedelta(minutes=6), NOW - timedelta(hours=73)])
def test_the_check_refuses_with_one_reason_naming_the_field(at):
    with pytest.raises(ClientTimeOutOfRangeError) as refused:
        client_time_check(at, field="occurred_at", now=NOW)
    assert (refused.value.code, refused.value.reasons, refused.value.http_status) == (
        "time_out_of_range", ["time_out_of_range"], 409
    )  # fmt: skip
    assert "`occurred_at`" in refused.value.message


def test_the_check_passes_inside_the_window():
    client_time_check(NOW, field="at", now=NOW)
    client_time_check(NOW - timedelta(hours=72), field="at", now=NOW)
