"""The members list's search by name: a word finds the members whose first or last name starts with it, whatever
its case, through the name indexes on PostgreSQL (members/migrations/0007)."""

import pytest
from django.contrib import admin
from django.db import connection

from members.models import Member

pytestmark = pytest.mark.django_db
NAMES = [("Kim", "Lee"), ("kimberly", "Ng"), ("Ana", "KIMURA"), ("Akim", "Ras"), ("Ben", "Kimball"), ("Cy", "Dak")]


def search(term):
    model_admin = admin.site._registry[Member]
    queryset, may_have_duplicates = model_admin.get_search_results(None, Member.objects.all(), term)
    return queryset, may_have_duplicates


def members(count_per_name=1):
    Member.objects.bulk_create(
        Member(external_id=f"M-{n}-{i}", first_name=first, last_name=last)
        for n in range(count_per_name)
        for i, (first, last) in enumerate(NAMES)
    )


@pytest.mark.parametrize("term", ["Kim", "kim", "KIM", " Kim "])
def test_member_search_finds_first_or_last_names_starting_with_the_word_in_any_case(term):
    members()

    found, may_have_duplicates = search(term)

    assert sorted(found.values_list("first_name", "last_name")) == [
        ("Ana", "KIMURA"), ("Ben", "Kimball"), ("Kim", "Lee"), ("kimberly", "Ng"),
    ]  # fmt: skip
    assert may_have_duplicates is False


def test_member_search_by_two_words_needs_both():
    members()
    found, _ = search("kim lee")
    assert list(found.values_list("external_id", flat=True)) == ["M-0-0"]


@pytest.mark.postgres
def test_member_name_search_uses_the_name_indexes_on_postgresql():
    Member.objects.bulk_create(
        Member(external_id=f"X-{n}", first_name=f"Name{n}", last_name=f"Surname{n}") for n in range(3000)
    )
    members()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE members_member")
    found, _ = search("Kim")
    page = found.order_by("-pk")[:100]  # as the list asks for its first page

    plan = page.explain()

    assert "members_member_first_name_prefix_idx" in plan and "members_member_last_name_prefix_idx" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert found.count() == 4
