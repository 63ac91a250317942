"""Members: points adjustments, transaction counts and list pages at and past their ranges, read back."""

import pytest
from django.urls import reverse

from config import ranges
from members.models import Member, PointsEntry
from tests.admin_imports import import_confirm, import_review
from tests.extremes import inside, outside
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def adjust(client, external_id, points):
    return client.post(f"/api/v1/members/{external_id}/points", {"points": points, "reason": "x"}, format="json")


@pytest.mark.parametrize("points", outside(ranges.POINTS_ADJUSTMENT))
def test_points_adjustment_outside_its_range_is_400_and_moves_nothing(member_care, points):
    MemberFactory(external_id="M-1", points=5)

    response = adjust(member_care, "M-1", points)

    assert response.status_code == 400, response.json()
    assert list(response.json()["errors"]) == ["points"]
    assert Member.objects.values_list("points_balance", flat=True).get(external_id="M-1") == 5
    assert PointsEntry.objects.count() == 1


def test_points_adjustment_at_its_bounds_is_stored_exactly(member_care):
    MemberFactory(external_id="M-1")
    top = ranges.POINTS_ADJUSTMENT.max

    assert adjust(member_care, "M-1", top).status_code == 201
    assert adjust(member_care, "M-1", ranges.POINTS_ADJUSTMENT.min).status_code == 201

    assert list(PointsEntry.objects.order_by("id").values_list("points", "balance_after")) == [(top, top), (-top, 0)]
    assert Member.objects.values_list("points_balance", flat=True).get(external_id="M-1") == 0


def test_points_credit_past_the_balance_bound_is_refused_409(member_care):
    member = MemberFactory(external_id="M-1")
    Member.objects.filter(pk=member.pk).update(points_balance=ranges.POINTS_BALANCE.max - 1)

    assert adjust(member_care, "M-1", 1).status_code == 201
    response = adjust(member_care, "M-1", 1)

    assert response.status_code == 409
    assert response.json()["reasons"] == ["points_balance_limit"]
    assert Member.objects.values_list("points_balance", flat=True).get(pk=member.pk) == ranges.POINTS_BALANCE.max


@pytest.mark.parametrize("count", outside(ranges.COUNT))
def test_member_create_transaction_count_outside_its_range_is_400(member_care, count):
    response = member_care.post("/api/v1/members", {"external_id": "M-9", "transaction_count": count}, format="json")

    assert response.status_code == 400, response.json()
    assert list(response.json()["errors"]) == ["transaction_count"]
    assert not Member.objects.exists()


@pytest.mark.parametrize("count", inside(ranges.COUNT))
def test_member_create_transaction_count_at_its_bounds_is_stored_exactly(member_care, count):
    response = member_care.post("/api/v1/members", {"external_id": "M-9", "transaction_count": count}, format="json")

    assert response.status_code == 201, response.json()
    assert Member.objects.values_list("transaction_count", flat=True).get(external_id="M-9") == count


@pytest.mark.parametrize("count", [2**31, 2**32 + 5, -1])
def test_member_patch_transaction_count_outside_its_range_is_400(member_care, count):
    MemberFactory(external_id="M-1")

    response = member_care.patch("/api/v1/members/M-1", {"transaction_count": count}, format="json")

    assert response.status_code == 400
    assert Member.objects.values_list("transaction_count", flat=True).get(external_id="M-1") == 0


@pytest.mark.parametrize(
    "query, parameter",
    [("page_size=0", "page_size"), ("page_size=501", "page_size"), ("page_size=-1", "page_size"),
     (f"page_size={2**63}", "page_size"), ("page_size=ten", "page_size"), ("page=0", "page"), ("page=-1", "page"),
     (f"page={2**63}", "page"), ("page=1e400", "page")],
)  # fmt: skip
def test_list_page_parameters_outside_their_range_are_400_naming_them(member_care, query, parameter):
    MemberFactory()

    response = member_care.get(f"/api/v1/members?{query}")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == [parameter]


def test_list_page_past_the_last_is_still_404(member_care):
    MemberFactory()

    assert member_care.get("/api/v1/members?page=2").status_code == 404


def test_member_admin_form_refuses_a_transaction_count_outside_its_range(admin_client):
    member = MemberFactory(external_id="M-1")
    url = reverse("admin:members_member_edit", args=[member.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "segments"}
    data.update(registered_at_0="2024-01-01", registered_at_1="00:00:00", transaction_count=str(2**32 + 5))

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "transaction_count" in response.context["adminform"].form.errors
    assert Member.objects.values_list("transaction_count", flat=True).get(pk=member.pk) == 0


HEADER = "external_id,email,mobile,user_id,first_name,last_name,birth_date,registered_at,status,transaction_count\n"


def import_preview(admin_client, capture, content):
    return import_review(admin_client, capture, "admin:members_member_import", content, name="m.csv")


@pytest.mark.parametrize("cell", [str(2**31), str(2**32 + 5), str(2**63), "-1", "1.5", "inf", "nan", "1e400", "12abc"])
def test_member_import_transaction_count_outside_its_range_is_a_row_error(
    admin_client, django_capture_on_commit_callbacks, cell
):
    content = HEADER + f"M-1,a@example.com,+15550000001,u1,Ana,Ng,,2024-01-01T00:00:00Z,active,{cell}\n"

    review = import_preview(admin_client, django_capture_on_commit_callbacks, content)

    assert review.status == "succeeded"  # a row error, not a crash
    assert [(issue.row, issue.field) for issue in review.issues.all()] == [(1, "transaction_count")]
    assert review.errors == 1  # nothing to confirm: the import stops at the review
    assert not Member.objects.exists()


@pytest.mark.parametrize("cell, stored", [("2000000000", 2_000_000_000), ("12.0", 12), ("0", 0)])
def test_member_import_transaction_count_in_range_is_stored_exactly(
    admin_client, django_capture_on_commit_callbacks, cell, stored
):
    content = HEADER + f"M-1,a@example.com,+15550000001,u1,Ana,Ng,,2024-01-01T00:00:00Z,active,{cell}\n"
    review = import_preview(admin_client, django_capture_on_commit_callbacks, content)

    import_confirm(admin_client, django_capture_on_commit_callbacks, review)

    assert Member.objects.values_list("transaction_count", flat=True).get(external_id="M-1") == stored
