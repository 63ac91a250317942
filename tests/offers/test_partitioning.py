"""Offer responses as hash partitions on the member on PostgreSQL (migration offers 0008)."""

import pytest
from django.db import IntegrityError, connection, transaction

from config.partitioning import PARTITIONS, is_partitioned, partitions_of
from offers.models import OfferResponse, OfferResponseEvent
from offers.responses.selectors import member_offer_responses
from tests.members.factories import MemberFactory
from tests.offers.factories import OfferFactory, OfferResponseFactory
from tests.partitions import migrate_to, partition_holding, plan_of, scans

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

TABLE = "offers_offerresponse"
BEFORE = ("offers", "0007_offer_rules_version")
PARTITIONED = ("offers", "0008_partitioned_offer_responses")


def references_to_responses() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid = '{TABLE}'::regclass")
        return cursor.fetchone()[0]


def event_of(response):
    return OfferResponseEvent.objects.create(
        response=response, from_status="", to_status=response.status, actor="system", channel="test"
    )


def test_offer_responses_are_hash_partitioned_on_the_member():
    with connection.cursor() as cursor:
        assert is_partitioned(cursor, TABLE)
        assert len(partitions_of(cursor, TABLE)) == PARTITIONS
        cursor.execute(f"SELECT pg_get_partkeydef('{TABLE}'::regclass)")
        assert cursor.fetchone()[0] == "HASH (member_id)"


def test_a_members_responses_are_read_from_one_partition():
    member = MemberFactory()
    responses = [OfferResponseFactory(member=member) for _ in range(3)] + [OfferResponseFactory() for _ in range(20)]
    queryset = member_offer_responses(member=member)
    sql, params = queryset.query.sql_with_params()
    read = {node["Relation Name"] for node in scans(plan_of(sql, params)) if node["Relation Name"].startswith(TABLE)}
    assert read == {partition_holding(TABLE, id=responses[0].pk)}
    assert sorted(queryset.values_list("pk", flat=True)) == sorted(response.pk for response in responses[:3])


def test_one_open_response_per_member_and_offer_still_holds():
    response = OfferResponseFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        OfferResponseFactory(member=response.member, offer=response.offer)
    OfferResponseFactory(member=response.member, offer=response.offer, completed=True)


def test_the_migration_converts_a_table_holding_rows_and_back():
    migrate_to(BEFORE)
    with connection.cursor() as cursor:
        assert not is_partitioned(cursor, TABLE)
    offer = OfferFactory()
    responses = [OfferResponseFactory(offer=offer) for _ in range(12)]
    events = [event_of(response) for response in responses[:4]]
    before = sorted(OfferResponse.objects.values_list("id", "member_id", "offer_id", "status"))

    migrate_to(PARTITIONED)

    with connection.cursor() as cursor:
        assert is_partitioned(cursor, TABLE)
        assert len(partitions_of(cursor, TABLE)) == PARTITIONS
    assert references_to_responses() == 0
    assert sorted(OfferResponse.objects.values_list("id", "member_id", "offer_id", "status")) == before
    assert list(OfferResponseEvent.objects.order_by("id").values_list("response_id", flat=True)) == [
        event.response_id for event in events
    ]
    assert OfferResponseFactory(offer=offer).pk > max(response.pk for response in responses)
    with pytest.raises(IntegrityError), transaction.atomic():
        OfferResponseFactory(member=responses[0].member, offer=offer)

    migrate_to(BEFORE)
    with connection.cursor() as cursor:
        assert not is_partitioned(cursor, TABLE)
    assert references_to_responses() == 1  # the events point at their response again
    assert OfferResponse.objects.count() == len(responses) + 1
    migrate_to(PARTITIONED)
