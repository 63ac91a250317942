import pytest
from django.urls import reverse

from members.models import Member
from tests.admin_imports import import_confirm, import_review, job_page
from tests.members.factories import MemberFactory, SegmentFactory

pytestmark = pytest.mark.django_db

HEADER = (
    "external_id,email,mobile,user_id,first_name,last_name,birth_date,registered_at,status,transaction_count,segments\n"
)


def upload(admin_client, capture, content: str):
    return import_review(admin_client, capture, "admin:members_member_import", content)


def test_import_with_bad_rows_reports_each_and_writes_nothing(admin_client, django_capture_on_commit_callbacks):
    SegmentFactory(code="vip")
    content = HEADER + (
        "M-1,good@example.com,+15550000001,u1,Ana,Ng,1990-01-01,2024-01-01T00:00:00Z,active,0,vip\n"
        "M-2,not-an-email,+15550000002,u2,Ben,Ng,1990-01-01,2024-01-01T00:00:00Z,active,0,\n"
        "M-3,c@example.com,12,u3,Cy,Ng,1990-01-01,2024-01-01T00:00:00Z,active,0,\n"
        "M-4,d@example.com,+15550000004,u4,Di,Ng,not-a-date,2024-01-01T00:00:00Z,active,0,\n"
        "M-5,e@example.com,+15550000005,u5,Ed,Ng,1990-01-01,2024-01-01T00:00:00Z,sleeping,0,\n"
    )
    review = upload(admin_client, django_capture_on_commit_callbacks, content)

    assert (review.status, review.errors) == ("succeeded", 4)
    page = job_page(admin_client, review)
    assert "Enter a valid email address." in page
    assert "Mobile: 7-15 digits" in page
    assert "not-a-date" in page and "Value could not be parsed" in page
    assert "sleeping" in page
    assert "Confirm import" not in page
    assert not Member.objects.exists()


def test_import_of_good_file_creates_and_updates_members(admin_client, django_capture_on_commit_callbacks):
    SegmentFactory(code="vip")
    MemberFactory(external_id="M-1", first_name="Old")
    content = HEADER + (
        "M-1,a@example.com,+15550000001,u1,New,Ng,1990-01-01,2024-01-01T00:00:00Z,active,2,vip\n"
        "M-2,b@example.com,+15550000002,u2,Ben,Ng,,2024-01-01T00:00:00Z,inactive,0,\n"
    )
    review = upload(admin_client, django_capture_on_commit_callbacks, content)
    assert (review.status, review.errors) == ("succeeded", 0)
    imported = import_confirm(admin_client, django_capture_on_commit_callbacks, review)
    assert imported.status == "succeeded"
    assert Member.objects.get(external_id="M-1").first_name == "New"
    assert list(Member.objects.get(external_id="M-1").segments.values_list("code", flat=True)) == ["vip"]
    assert Member.objects.get(external_id="M-2").status == "inactive"


def test_member_search_by_external_id_email_and_mobile(admin_client):
    MemberFactory(external_id="M-77", email="find.me@example.com", mobile="+15557770000")
    MemberFactory(external_id="M-88")
    changelist = reverse("admin:members_member_changelist")
    for term in ("M-77", "find.me@example.com", "+15557770000"):
        page = admin_client.get(changelist, {"q": term}).content.decode()
        assert "M-77" in page and "M-88" not in page


def test_member_page_shows_points_tab(admin_client):
    member = MemberFactory(external_id="M-1", points=300)
    page = admin_client.get(reverse("admin:members_member_change", args=[member.pk])).content.decode()
    assert 'id="member-tab-panel-points"' in page
    assert '<strong class="points-balance">300</strong>' in page
    assert "test balance" in page
