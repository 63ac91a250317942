"""Admin exports (django-import-export) of every Resource neutralise formula cells in spreadsheet formats."""

import csv
import io
import json

import pytest
from django.urls import reverse

from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def export(admin_client, fmt):
    url = reverse("admin:members_member_export")
    form = admin_client.get(url).context["form"]
    selected = {name: "on" for name, field in form.fields.items() if getattr(field, "is_selectable_field", False)}
    index = next(value for value, label in form.fields["format"].choices if str(label).lower() == fmt)
    response = admin_client.post(url, {"format": index, "resource": 0, **selected})
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def members_with_formulas():
    MemberFactory(external_id="M-1", first_name="=HYPERLINK(\"http://x.example\")", last_name="@SUM(A1)",
                  transaction_count=3)  # fmt: skip
    MemberFactory(external_id="M-2", first_name="-12.50", last_name="+Plus", transaction_count=4)


@pytest.mark.parametrize(("fmt", "delimiter"), [("csv", ","), ("tsv", "\t")])
def test_admin_export_in_a_spreadsheet_format_neutralises_formula_cells(admin_client, members_with_formulas, fmt,
                                                                        delimiter):  # fmt: skip
    rows = {row["external_id"]: row for row in csv.DictReader(io.StringIO(export(admin_client, fmt)),
                                                               delimiter=delimiter)}  # fmt: skip
    assert (rows["M-1"]["first_name"], rows["M-1"]["last_name"]) == ('\'=HYPERLINK("http://x.example")', "'@SUM(A1)")
    assert (rows["M-2"]["first_name"], rows["M-2"]["last_name"]) == ("-12.50", "'+Plus")
    assert rows["M-1"]["transaction_count"] == "3"


def test_admin_export_as_json_keeps_values_exactly(admin_client, members_with_formulas):
    rows = {row["external_id"]: row for row in json.loads(export(admin_client, "json"))}
    assert rows["M-1"]["first_name"] == '=HYPERLINK("http://x.example")'
