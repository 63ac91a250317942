"""Recording a purchase: its statements (constant whatever the program's size) and the rows its one write leaves."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.actors import Actor
from members.models import Member, PointsEntry
from offers import services
from offers.models import EarningMechanism, Fulfillment, Offer, Transaction
from tests.members.factories import MemberFactory, OrgEntityFactory
from tests.offers.factories import ActivationFactory, EarningMechanismFactory, LimitFactory
from webhooks.models import Event

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("tests")
LINES = 20


def record(member, store, transaction_id, skus, total="30.00", at=None):
    return services.transaction_record(
        transaction_id=transaction_id, member=member, store=store, occurred_at=at, total_amount=Decimal(total),
        actor=ACTOR, items=[{"sku": sku, "quantity": 1, "unit_price": Decimal("1.50")} for sku in skus],
    )  # fmt: skip


def basket(matched):
    """A 20-line basket: `matched` SKUs live offers reward, the rest plain."""
    return [*matched, *(f"PLAIN-{n}" for n in range(LINES - len(matched)))]


def program(size, start=0):
    """`size` offers for SKUs no basket here sends."""
    offers = Offer.objects.bulk_create(Offer(external_id=f"FILL-{start + n}", name="Fill") for n in range(size))
    EarningMechanism.objects.bulk_create(
        EarningMechanism(offer=o, behavior_type="purchase_product", sku=f"OTHER-{o.pk}", award_type="points", points=1)
        for o in offers
    )


def work(captured) -> list[str]:
    """The statements of a capture, without the savepoint a test's transaction makes around each atomic block."""
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_a_purchase_of_plain_offers_is_a_lock_and_one_write_at_20_and_at_1000_offers():
    member, store = MemberFactory(), OrgEntityFactory(type="store")
    for n in range(5):
        EarningMechanismFactory(sku=f"SKU-{n}", points=10 + n)
    program(15)
    record(member, store, "WARM", ["SKU-0"])  # loads the index
    with CaptureQueriesContext(connection) as at_20:
        body, created = record(member, store, "T-20", basket([f"SKU-{n}" for n in range(5)]))
    assert created and len(body["awards"]) == 5

    program(980, 15)
    assert Offer.objects.count() == 1000
    record(member, store, "WARM-2", ["SKU-0"])  # the version moved: the index is loaded again
    with CaptureQueriesContext(connection) as at_1000:
        body, created = record(member, store, "T-1000", basket([f"SKU-{n}" for n in range(5)]))
    assert created and len(body["awards"]) == 5

    assert len(work(at_1000)) == len(work(at_20))
    if connection.vendor == "postgresql":
        # The member locked with the rules' version; the row, fulfillments, points, count and event in one write.
        assert len(work(at_1000)) == 2
    # No offer here has a limit or an opt-in: the member's counts decide nothing and are not read.
    assert not any("offers_activation" in sql for sql in work(at_1000))


def test_the_counts_are_read_for_the_offers_they_decide_and_the_limits_taken_in_one_statement():
    member, store = MemberFactory(), OrgEntityFactory(type="store")
    limited = LimitFactory(offer=EarningMechanismFactory(sku="SKU-L", points=5).offer, max_count=10)
    per_member = LimitFactory(offer=EarningMechanismFactory(sku="SKU-M", points=7).offer, scope="member", max_count=1)
    opt_in = EarningMechanismFactory(sku="SKU-O", points=9, offer__requires_activation=True).offer
    ActivationFactory(offer=opt_in, member=member)
    EarningMechanismFactory(sku="SKU-P", points=11)
    program(50)
    record(member, store, "WARM", ["NOTHING"])
    with CaptureQueriesContext(connection) as captured:
        body, _ = record(member, store, "T-1", basket(["SKU-L", "SKU-M", "SKU-O", "SKU-P"]))
    assert sorted(award["points"] for award in body["awards"]) == [5, 7, 9, 11]
    counts = [sql for sql in work(captured) if "offers_activation" in sql]
    assert len(counts) == 1
    assert sum(f"{offer.pk}" in counts[0].split("IN (")[1] for offer in (limited.offer, per_member.offer)) == 2
    if connection.vendor == "postgresql":
        assert len(work(captured)) == 4  # lock, counts, the global limit, the write

    # The per-member limit is reached: the next purchase earns the other three, the global limit counted again.
    body, _ = record(member, store, "T-2", basket(["SKU-L", "SKU-M", "SKU-O", "SKU-P"]))
    assert sorted(award["points"] for award in body["awards"]) == [5, 9, 11]
    limited.refresh_from_db()
    assert limited.used_count == 2


def test_the_one_write_leaves_the_rows_the_separate_writes_did():
    member, store = MemberFactory(points_balance=40), OrgEntityFactory(type="store")
    offers = [EarningMechanismFactory(sku=f"SKU-{n}", points=10 * (n + 1)).offer for n in range(3)]
    at = timezone.now().replace(microsecond=0)
    body, created = record(member, store, "T-ROWS", basket(["SKU-0", "SKU-1", "SKU-2"]), total="30.00", at=at)

    assert created
    assert body == {
        "transaction_id": "T-ROWS",
        "awards": [{"offer_id": o.pk, "points": 10 * (n + 1)} for n, o in enumerate(offers)],
        "points_balance": 100,
    }
    row = Transaction.objects.get(transaction_id="T-ROWS")
    assert row.response_body == body and row.occurred_at == at and row.actor == ACTOR.name
    assert list(Fulfillment.objects.filter(transaction=row).order_by("id").values_list("offer_id", "points")) == [
        (o.pk, 10 * (n + 1)) for n, o in enumerate(offers)
    ]
    assert list(
        PointsEntry.objects.filter(member=member).order_by("id").values_list("points", "balance_after", "reason")
    ) == [(10, 50, f"Offer {offers[0].external_id}"), (20, 70, f"Offer {offers[1].external_id}"),
          (30, 100, f"Offer {offers[2].external_id}")]  # fmt: skip
    assert set(PointsEntry.objects.filter(member=member).values_list("reference", "kind", "actor")) == {
        ("T-ROWS", "earn", ACTOR.name)
    }
    stored = Member.objects.get(pk=member.pk)
    assert (stored.points_balance, stored.transaction_count) == (100, 1)
    assert member.points_balance == 100
    event = Event.objects.get(type="transaction.recorded")
    assert event.object_type == "transaction" and event.object_id == str(row.pk)
    assert event.data == {**body, "member_external_id": member.external_id, "store": store.code,
                          "total_amount": "30.00", "occurred_at": at.isoformat()}  # fmt: skip


def test_a_purchase_that_earns_nothing_counts_the_purchase_and_writes_its_event():
    member, store = MemberFactory(points_balance=3), OrgEntityFactory(type="store")
    body, created = record(member, store, "T-NONE", basket([]))
    assert created and body == {"transaction_id": "T-NONE", "awards": [], "points_balance": 3}
    stored = Member.objects.get(pk=member.pk)
    assert (stored.points_balance, stored.transaction_count) == (3, 1)
    assert not PointsEntry.objects.exists() and not Fulfillment.objects.exists()
    assert Event.objects.filter(type="transaction.recorded").count() == 1


def test_a_repeat_found_by_the_write_rolls_back_the_limits_it_counted():
    member, store = MemberFactory(), OrgEntityFactory(type="store")
    limit = LimitFactory(offer=EarningMechanismFactory(sku="SKU-L", points=5).offer, max_count=3)
    first, created = record(member, store, "T-R", ["SKU-L"])
    again, created_again = record(member, store, "T-R", ["SKU-L"])
    assert (created, created_again) == (True, False)
    assert again == first
    limit.refresh_from_db()
    assert limit.used_count == 1
    stored = Member.objects.get(pk=member.pk)
    assert (stored.points_balance, stored.transaction_count) == (5, 1)
    assert Fulfillment.objects.count() == 1 and Event.objects.filter(type="transaction.recorded").count() == 1


def test_a_repeat_is_answered_although_its_awards_would_now_pass_the_balance_bound():
    from config.ranges import POINTS_BALANCE

    member, store = MemberFactory(), OrgEntityFactory(type="store")
    EarningMechanismFactory(sku="SKU-1", points=10)
    first, _ = record(member, store, "T-B", ["SKU-1"])
    Member.objects.filter(pk=member.pk).update(points_balance=POINTS_BALANCE.max)
    again, created = record(member, store, "T-B", ["SKU-1"])
    assert (again, created) == (first, False)
