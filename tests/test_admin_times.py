"""The back office shows every time in the program's time zone, with the zone named."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from config.admin_display import datetime_in_zone

WINTER_MORNING = datetime(2026, 12, 3, 8, 14, tzinfo=UTC)
SUMMER_MORNING = datetime(2026, 7, 3, 8, 14, tzinfo=UTC)


def test_datetime_in_zone_renders_a_utc_time_in_the_programs_zone_with_its_name(settings):
    settings.TIME_ZONE = "Europe/Paris"
    assert datetime_in_zone(WINTER_MORNING) == "3 Dec 2026, 09:14 CET"
    assert datetime_in_zone(SUMMER_MORNING) == "3 Jul 2026, 10:14 CEST"


def test_datetime_in_zone_names_utc_and_an_offset_where_the_zone_has_no_abbreviation(settings):
    assert datetime_in_zone(WINTER_MORNING) == "3 Dec 2026, 08:14 UTC"
    settings.TIME_ZONE = "America/Sao_Paulo"
    assert datetime_in_zone(WINTER_MORNING) == "3 Dec 2026, 05:14 -03"
    assert datetime_in_zone(None) == "—"


@pytest.mark.django_db
def test_admin_list_and_change_page_show_times_in_the_programs_zone(admin_client, settings):
    settings.TIME_ZONE = "Europe/Paris"
    event = AuditEvent.objects.create(at=WINTER_MORNING, actor="maria", channel="admin", action="create",
                                      object_type="offers.offer", object_id="1", object_repr="Winter sale")  # fmt: skip
    for page in (
        reverse("admin:audit_auditevent_changelist"),
        reverse("admin:audit_auditevent_change", args=[event.pk]),
    ):
        html = admin_client.get(page).content.decode()
        assert "3 Dec 2026, 09:14 CET" in html
        assert "08:14" not in html
