"""The offers' rules index: what a purchase earns, read from memory, exactly as the full scan decided it."""

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F, Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.actors import Actor
from members.models import Member
from offers import rules, rules_index, selectors, services
from offers.models import (
    Activation,
    Audience,
    EarningMechanism,
    Fulfillment,
    Offer,
    OfferLimit,
    OfferRulesVersion,
    Transaction,
)
from tests.members.factories import MemberFactory, OrgEntityFactory, SegmentFactory
from tests.offers.factories import EarningMechanismFactory, LimitFactory

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("tests")
counter = iter(range(1, 1_000_000))


def record(member, store, items, total="10.00", at=None):
    body, _ = services.transaction_record(
        transaction_id=f"T-{next(counter)}", member=member, store=store, occurred_at=at or timezone.now(),
        total_amount=Decimal(total), actor=ACTOR,
        items=[{"sku": sku, "quantity": quantity, "unit_price": Decimal("1.00")} for sku, quantity in items],
    )  # fmt: skip
    return body


def other_offers(count, start):
    """Offers for SKUs no basket here sends: the program grows, the basket's matches do not."""
    offers = Offer.objects.bulk_create(Offer(external_id=f"FILL-{start + n}", name="Fill") for n in range(count))
    EarningMechanism.objects.bulk_create(
        EarningMechanism(offer=o, behavior_type="purchase_product", sku=f"OTHER-{o.pk}", award_type="points", points=1)
        for o in offers
    )
    OfferLimit.objects.bulk_create(OfferLimit(offer=o, scope="global", kind="fulfillment", max_count=9) for o in offers)


def version():
    return OfferRulesVersion.objects.values_list("version", flat=True).first()


def test_a_purchase_costs_the_same_queries_at_20_and_at_1000_offers(django_assert_num_queries):
    member, store = MemberFactory(), OrgEntityFactory(type="store")
    for sku in ("MILK", "BREAD"):
        LimitFactory(offer=EarningMechanismFactory(sku=sku, points=10).offer, max_count=1000)
    other_offers(18, 0)
    record(member, store, [("MILK", 1)])  # loads the index
    with CaptureQueriesContext(connection) as at_20:
        assert len(record(member, store, [("MILK", 1), ("BREAD", 1)])["awards"]) == 2

    other_offers(980, 18)
    assert Offer.objects.count() == 1000
    record(member, store, [("MILK", 1)])  # the version moved: the index is loaded again
    with django_assert_num_queries(len(at_20)) as at_1000:
        assert len(record(member, store, [("MILK", 1), ("BREAD", 1)])["awards"]) == 2

    reads = [q["sql"] for q in at_1000.captured_queries if q["sql"].startswith("SELECT")]
    assert sum("offers_offerrulesversion" in sql for sql in reads) == 1
    assert not any('FROM "offers_offer" ' in sql and "IN (" not in sql for sql in reads)


def test_the_version_moves_with_each_change_that_decides_an_award_and_not_with_an_award():
    member, store = MemberFactory(), OrgEntityFactory(type="store")
    offer = EarningMechanismFactory(sku="MILK", points=10).offer
    limit = LimitFactory(offer=offer, max_count=5)
    seen = [version()]

    def moved():
        seen.append(version())
        return seen[-1] != seen[-2]

    assert record(member, store, [("MILK", 1)])["awards"] == [{"offer_id": offer.pk, "points": 10}]
    assert not moved()  # an award moves the running total only
    assert OfferLimit.objects.get(pk=limit.pk).used_count == 1
    OfferLimit.objects.filter(pk=limit.pk).update(max_count=6)
    assert moved()
    EarningMechanism.objects.filter(offer=offer).update(points=20)
    assert moved()
    Audience.objects.create(offer=offer, type="age", min_age=18)
    assert moved()
    services.offer_discontinue(offer=offer, actor=ACTOR)
    assert moved()


def test_the_next_purchase_sees_a_change_made_after_the_index_was_loaded():
    member, store = MemberFactory(birth_date=date(1990, 1, 1)), OrgEntityFactory(type="store")
    offer = EarningMechanismFactory(sku="MILK", points=10).offer
    assert record(member, store, [("MILK", 1)])["awards"] == [{"offer_id": offer.pk, "points": 10}]

    EarningMechanism.objects.filter(offer=offer).update(points=30)
    assert record(member, store, [("MILK", 1)])["awards"] == [{"offer_id": offer.pk, "points": 30}]
    Audience.objects.create(offer=offer, type="age", max_age=20)
    assert record(member, store, [("MILK", 1)])["awards"] == []
    Audience.objects.filter(offer=offer).delete()
    Offer.objects.filter(pk=offer.pk).update(expire_at=timezone.now() - timedelta(seconds=1),
                                             publish_at=timezone.now() - timedelta(days=1))  # fmt: skip
    assert record(member, store, [("MILK", 1)])["awards"] == []


# --- the index against the full scan it replaced, on random programs and baskets --------------------

SKUS = ("MILK", "BREAD", "EGGS", "TEA")


def full_scan(*, member, at, time_zone, items, total_amount):
    """What transaction_record awarded before the index: every live offer the basket can match, read with its
    components, through membership_offer_list, then the earning rule."""
    live = selectors.global_status_q(rules.VISIBLE, at=at) | selectors.global_status_q(rules.GLOBAL_LIMIT, at=at)
    can_match = Q(earning_mechanism__behavior_type="purchase_product",
                  earning_mechanism__sku__in={item.sku for item in items}) | Q(
        earning_mechanism__behavior_type="spend", earning_mechanism__min_amount__lte=total_amount)  # fmt: skip
    offers = selectors.offer_queryset().filter(live, can_match).order_by("pk")
    awards = []
    for view in selectors.membership_offer_list(member=member, at=at, offers=offers, time_zone=time_zone):
        if not view.state.eligible:
            continue
        mechanism = view.offer.earning_mechanism
        facts = rules.EarningFacts(
            behavior_type=mechanism.behavior_type, award_type=mechanism.award_type, sku=mechanism.sku,
            min_quantity=mechanism.min_quantity, min_amount=mechanism.min_amount, points=mechanism.points,
            points_per_unit=mechanism.points_per_unit,
        )  # fmt: skip
        points = rules.earned_points(facts, total_amount=total_amount, items=items)
        if points > 0:
            awards.append((view.offer.pk, points))
    return awards


def random_program(rng, member, segments, store):
    now = timezone.now()
    when = [None, now - timedelta(days=2), now - timedelta(hours=1), now + timedelta(hours=1), now + timedelta(days=2)]
    tx = Transaction.objects.create(transaction_id=f"SEED-{next(counter)}", member=member, store=store,
                                    occurred_at=now, total_amount=Decimal("1"), actor="t", channel="t")  # fmt: skip
    for _ in range(rng.randint(15, 40)):
        publish, expire = rng.choice(when), rng.choice(when)
        if publish and expire and expire <= publish:
            expire = None
        offer = Offer.objects.create(
            external_id=f"R-{next(counter)}", name="Random", publish_at=publish, expire_at=expire,
            discontinued_at=rng.choice([None, None, None, now - timedelta(hours=1), now + timedelta(hours=1)]),
            requires_activation=rng.random() < 0.3,
        )  # fmt: skip
        if rng.random() < 0.9:
            spend = rng.random() < 0.3
            per_unit = rng.random() < 0.4
            EarningMechanism.objects.create(
                offer=offer, behavior_type="spend" if spend else "purchase_product",
                sku="" if spend else rng.choice(SKUS), min_quantity=rng.choice([None, 1, 2, 3]),
                min_amount=rng.choice([None, Decimal("0"), Decimal("5"), Decimal("20"), Decimal("50.5")]) if spend
                else None,
                award_type="points_per_unit" if per_unit else "points",
                points=None if per_unit else rng.randint(1, 50),
                points_per_unit=rng.randint(1, 5) if per_unit else None,
            )  # fmt: skip
        for scope in ("global", "member"):
            for kind in ("fulfillment", "activation"):
                if rng.random() < 0.25:
                    max_count = rng.randint(1, 3)
                    used = rng.randint(0, 3) if scope == "global" else 0
                    OfferLimit.objects.create(offer=offer, scope=scope, kind=kind, max_count=max_count, used_count=used)
        if rng.random() < 0.3:
            low, high = rng.choice([(None, 30), (18, None), (18, 65), (40, 65), (None, 17)])
            Audience.objects.create(offer=offer, type="age", min_age=low, max_age=high)
        if rng.random() < 0.3:
            Audience.objects.create(offer=offer, type="segment", segment=rng.choice(segments))
        if rng.random() < 0.3:
            Activation.objects.create(offer=offer, member=member, actor="t", channel="t")
        if rng.random() < 0.3:
            Fulfillment.objects.create(offer=offer, member=member, transaction=tx, points=1, occurred_at=now)


@pytest.mark.parametrize("seed", range(6))
def test_the_index_awards_what_the_full_scan_awarded(seed):
    rng = random.Random(seed)
    segments = [SegmentFactory(), SegmentFactory()]
    member = MemberFactory(birth_date=rng.choice([None, date(1960, 5, 1), date(1990, 5, 1), date(2005, 5, 1)]))
    member.segments.set(rng.sample(segments, rng.randint(0, 2)))
    store = OrgEntityFactory(type="store", time_zone=rng.choice(["UTC", "Pacific/Kiritimati", "America/Adak"]))
    random_program(rng, member, segments, store)
    OfferLimit.objects.filter(used_count__gt=F("max_count")).update(used_count=F("max_count"))
    member = Member.objects.get(pk=member.pk)
    compared = 0
    for _ in range(25):
        items = tuple(
            rules.BasketItem(sku=rng.choice((*SKUS, "NONE")), quantity=rng.randint(1, 3), unit_price=Decimal("1"))
            for _ in range(rng.randint(0, 4))
        )
        total = rng.choice([Decimal("0"), Decimal("4.99"), Decimal("5"), Decimal("20"), Decimal("50.49"),
                            Decimal("80")])  # fmt: skip
        at = timezone.now() + timedelta(minutes=rng.choice([-180, -30, 0, 30]))
        expected = full_scan(member=member, at=at, time_zone=store.time_zone, items=items, total_amount=total)
        indexed = selectors.membership_offers_earned(
            member=member, at=at, time_zone=store.time_zone, items=items, total_amount=total
        )
        assert [(award.offer_id, award.points) for award in indexed] == expected
        compared += bool(expected)
    assert compared  # some baskets did earn


def test_an_empty_program_and_a_basket_that_matches_nothing_read_only_the_version(django_assert_num_queries):
    member = MemberFactory()
    rules_index.offer_rules_index()
    with django_assert_num_queries(1):
        earned = selectors.membership_offers_earned(
            member=member, at=timezone.now(), time_zone="UTC", total_amount=Decimal("5"),
            items=(rules.BasketItem(sku="NOTHING", quantity=1, unit_price=Decimal("5")),),
        )  # fmt: skip
    assert earned == []


def test_an_evaluation_reads_the_version_with_the_counts_and_sees_every_change(django_assert_num_queries):
    member = MemberFactory()
    offer = EarningMechanismFactory(sku="MILK", points=10).offer
    milk = (rules.BasketItem(sku="MILK", quantity=1, unit_price=Decimal("1")),)

    def earned():
        awards = selectors.membership_offers_earned(
            member=member, at=timezone.now(), time_zone="UTC", items=milk, total_amount=Decimal("1")
        )
        return [(award.offer_id, award.points) for award in awards]

    assert earned() == [(offer.pk, 10)]  # loads the index
    with django_assert_num_queries(1):  # the member's counts, the version in the same statement
        assert earned() == [(offer.pk, 10)]

    EarningMechanism.objects.filter(offer=offer).update(points=30)
    assert earned() == [(offer.pk, 30)]
    other = EarningMechanismFactory(sku="MILK", points=5).offer
    assert earned() == [(offer.pk, 30), (other.pk, 5)]
    Offer.objects.filter(pk__in=[offer.pk, other.pk]).delete()  # no offer left to answer with the version
    assert earned() == []
