"""The visibility, eligibility and activation rules of seed 001, exhaustively, without a database."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from offers import rules
from offers.rules import BasketItem, EarningFacts, LimitFacts, MemberFacts, OfferFacts

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


def state(offer=None, member=None, at=NOW, today=TODAY):
    return rules.membership_offer_state(offer or OfferFacts(), member or MemberFacts(), at=at, today=today)


@pytest.mark.parametrize(
    "offer, expected",
    [
        (OfferFacts(), "visible"),
        (OfferFacts(discontinued_at=NOW - timedelta(seconds=1)), "discontinued"),
        (OfferFacts(publish_at=NOW + timedelta(seconds=1)), "unpublished"),
        (OfferFacts(expire_at=NOW - timedelta(seconds=1)), "expired"),
        (OfferFacts(limits=(LimitFacts("global", "fulfillment", 5, 5),)), "global_limit"),
        (OfferFacts(limits=(LimitFacts("global", "fulfillment", 5, 4),)), "visible"),
        (OfferFacts(limits=(LimitFacts("member", "fulfillment", 1, 0),)), "visible"),  # per-member: not global
    ],
)
def test_global_visible_status_each_value(offer, expected):
    assert rules.global_visible_status(offer, at=NOW) == expected


def test_global_visible_status_follows_seed_order_when_several_apply():
    everything = OfferFacts(
        discontinued_at=NOW - timedelta(days=1),
        publish_at=NOW + timedelta(days=1),
        expire_at=NOW + timedelta(days=2),
        limits=(LimitFacts("global", "fulfillment", 0, 0),),
    )
    assert rules.global_visible_status(everything, at=NOW) == "discontinued"
    assert (
        rules.global_visible_status(
            OfferFacts(publish_at=NOW + timedelta(days=1), expire_at=NOW + timedelta(days=2), limits=everything.limits),
            at=NOW,
        )
        == "unpublished"
    )
    assert rules.global_visible_status(OfferFacts(expire_at=NOW, limits=everything.limits), at=NOW) == "expired"


def test_publish_at_is_inclusive_and_expire_at_exclusive():
    assert rules.global_visible_status(OfferFacts(publish_at=NOW), at=NOW) == "visible"
    assert rules.global_visible_status(OfferFacts(publish_at=NOW), at=NOW - timedelta(microseconds=1)) == "unpublished"
    assert rules.global_visible_status(OfferFacts(expire_at=NOW), at=NOW - timedelta(microseconds=1)) == "visible"
    assert rules.global_visible_status(OfferFacts(expire_at=NOW), at=NOW) == "expired"


def test_publish_and_expire_compare_instants_across_time_zones():
    from zoneinfo import ZoneInfo

    # 09:00 in New York is 13:00 UTC in summer: an offer published at 13:00 UTC is live at 09:00 New York.
    publish = datetime(2026, 6, 15, 13, 0, tzinfo=UTC)
    at_new_york = datetime(2026, 6, 15, 9, 0, tzinfo=ZoneInfo("America/New_York"))
    assert rules.global_visible_status(OfferFacts(publish_at=publish), at=at_new_york) == "visible"
    assert rules.global_visible_status(OfferFacts(publish_at=publish), at=at_new_york - timedelta(seconds=1)) == (
        "unpublished"
    )
    # An expiry at local midnight in Los Angeles is 07:00 UTC.
    expire = datetime(2026, 6, 16, 0, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert rules.global_visible_status(
        OfferFacts(expire_at=expire), at=datetime(2026, 6, 16, 6, 59, 59, tzinfo=UTC)
    ) == ("visible")
    assert rules.global_visible_status(OfferFacts(expire_at=expire), at=datetime(2026, 6, 16, 7, 0, tzinfo=UTC)) == (
        "expired"
    )


def test_discontinued_takes_effect_at_its_instant():
    assert rules.global_visible_status(OfferFacts(discontinued_at=NOW), at=NOW) == "discontinued"
    assert rules.global_visible_status(OfferFacts(discontinued_at=NOW), at=NOW - timedelta(seconds=1)) == "visible"


@pytest.mark.parametrize(
    "offer, member, expected",
    [
        (
            OfferFacts(limits=(LimitFacts("member", "fulfillment", 2),)),
            MemberFacts(fulfillment_count=2),
            "member_limit",
        ),
        (OfferFacts(limits=(LimitFacts("member", "fulfillment", 2),)), MemberFacts(fulfillment_count=1), "visible"),
        (OfferFacts(age_ranges=((18, None),)), MemberFacts(birth_date=date(2010, 1, 1)), "age_restricted"),
        (OfferFacts(age_ranges=((18, None),)), MemberFacts(birth_date=None), "age_restricted"),
        (OfferFacts(age_ranges=((18, 30),)), MemberFacts(birth_date=date(1990, 1, 1)), "age_restricted"),
        (OfferFacts(age_ranges=((18, 40),)), MemberFacts(birth_date=date(1990, 1, 1)), "visible"),
        (
            OfferFacts(required_segment_ids=frozenset({1, 2})),
            MemberFacts(segment_ids=frozenset({1})),
            "missing_required_segments",
        ),
        (OfferFacts(required_segment_ids=frozenset({1, 2})), MemberFacts(segment_ids=frozenset({1, 2, 3})), "visible"),
    ],
)
def test_member_visible_status_each_per_member_value(offer, member, expected):
    assert rules.member_visible_status(offer, member, at=NOW, today=TODAY) == expected


def test_member_visible_status_per_member_order_is_limit_age_segments():
    offer = OfferFacts(
        limits=(LimitFacts("member", "fulfillment", 1),),
        age_ranges=((60, None),),
        required_segment_ids=frozenset({9}),
    )
    young = date(2000, 1, 1)
    assert (
        rules.member_visible_status(offer, MemberFacts(fulfillment_count=1, birth_date=young), at=NOW, today=TODAY)
        == "member_limit"
    )
    assert rules.member_visible_status(offer, MemberFacts(birth_date=young), at=NOW, today=TODAY) == "age_restricted"
    assert rules.member_visible_status(offer, MemberFacts(birth_date=date(1950, 1, 1)), at=NOW, today=TODAY) == (
        "missing_required_segments"
    )


@pytest.mark.parametrize(
    "global_fact, status",
    [
        ({"discontinued_at": NOW}, "discontinued"),
        ({"publish_at": NOW + timedelta(days=1)}, "unpublished"),
        ({"expire_at": NOW}, "expired"),
        (
            {"limits": (LimitFacts("global", "fulfillment", 1, 1), LimitFacts("member", "fulfillment", 1))},
            "global_limit",
        ),
    ],
)
def test_global_status_wins_over_every_member_status(global_fact, status):
    offer = OfferFacts(
        **{
            "limits": (LimitFacts("member", "fulfillment", 1),),
            "age_ranges": ((60, None),),
            "required_segment_ids": frozenset({9}),
            **global_fact,
        }
    )
    member = MemberFacts(fulfillment_count=1, birth_date=date(2000, 1, 1))
    assert rules.member_visible_status(offer, member, at=NOW, today=TODAY) == status


def test_age_counts_on_the_birthday():
    born = date(2008, 6, 15)
    assert rules.age_on(born, date(2026, 6, 14)) == 17
    assert rules.age_on(born, date(2026, 6, 15)) == 18
    offer = OfferFacts(age_ranges=((18, None),))
    member = MemberFacts(birth_date=born)
    assert rules.member_visible_status(offer, member, at=NOW, today=date(2026, 6, 14)) == "age_restricted"
    assert rules.member_visible_status(offer, member, at=NOW, today=date(2026, 6, 15)) == "visible"


def test_max_age_is_inclusive_until_the_next_birthday():
    offer = OfferFacts(age_ranges=((None, 25),))
    member = MemberFacts(birth_date=date(2000, 6, 15))
    assert rules.member_visible_status(offer, member, at=NOW, today=date(2026, 6, 14)) == "visible"  # 25
    assert rules.member_visible_status(offer, member, at=NOW, today=date(2026, 6, 15)) == "age_restricted"  # 26


def test_leap_day_birthday_counts_on_first_of_march():
    born = date(2008, 2, 29)
    assert rules.age_on(born, date(2026, 2, 28)) == 17
    assert rules.age_on(born, date(2026, 3, 1)) == 18
    assert rules.age_on(born, date(2028, 2, 29)) == 20


@pytest.mark.parametrize(
    "requires, activated, visible, expected",
    [
        # requires_activation, activated, visible → (eligible, activation_status, must_activate, activated)
        (False, False, True, (True, "does_not_require_activation", False, None)),
        (False, False, False, (False, "does_not_require_activation", False, None)),
        (True, False, True, (False, "requires_activation", True, False)),
        (True, True, True, (True, "activated", True, True)),
        (True, False, False, (False, "requires_activation", True, False)),
        (True, True, False, (False, "activated", True, True)),
    ],
)
def test_eligibility_and_activation_every_combination(requires, activated, visible, expected):
    offer = OfferFacts(requires_activation=requires, expire_at=None if visible else NOW)
    result = state(offer, MemberFacts(activated=activated, activation_count=int(activated)))
    assert (result.eligible, result.activation_status, result.must_activate, result.activated) == expected
    assert (result.visible_status == "visible") is visible


def test_global_activation_status_values():
    assert rules.activation_status(requires_activation=False) == "does_not_require_activation"
    assert rules.activation_status(requires_activation=True) == "requires_activation"


def test_fulfillment_count_is_passed_through():
    assert state(member=MemberFacts(fulfillment_count=7)).fulfillment_count == 7


@pytest.mark.parametrize("used, expected", [(2, "visible"), (3, "global_limit"), (4, "global_limit")])
def test_global_fulfillment_limit_at_the_boundary(used, expected):
    offer = OfferFacts(limits=(LimitFacts("global", "fulfillment", 3, used),))
    assert rules.global_visible_status(offer, at=NOW) == expected


@pytest.mark.parametrize("count, expected", [(2, "visible"), (3, "member_limit")])
def test_member_fulfillment_limit_at_the_boundary(count, expected):
    offer = OfferFacts(limits=(LimitFacts("member", "fulfillment", 3),))
    assert rules.member_visible_status(offer, MemberFacts(fulfillment_count=count), at=NOW, today=TODAY) == expected


def test_reached_activation_limit_hides_only_from_members_who_have_not_activated():
    offer = OfferFacts(requires_activation=True, limits=(LimitFacts("global", "activation", 2, 2),))
    assert rules.global_visible_status(offer, at=NOW) == "global_limit"
    assert state(offer, MemberFacts()).visible_status == "global_limit"
    activated = state(offer, MemberFacts(activated=True, activation_count=1))
    assert (activated.visible_status, activated.eligible) == ("visible", True)


def test_activation_limit_ignored_when_offer_does_not_require_activation():
    offer = OfferFacts(limits=(LimitFacts("global", "activation", 0, 0), LimitFacts("member", "activation", 0)))
    assert state(offer).visible_status == "visible"


def test_member_activation_limit_of_zero_hides_from_members_who_have_not_activated():
    offer = OfferFacts(requires_activation=True, limits=(LimitFacts("member", "activation", 0),))
    assert state(offer).visible_status == "member_limit"


def test_reason_explains_hidden_and_ineligible_offers():
    assert state(OfferFacts(expire_at=NOW)).reason == "The offer has expired."
    assert "activation" in state(OfferFacts(requires_activation=True)).reason
    assert state(OfferFacts()).reason == ""


def basket(*items):
    return tuple(BasketItem(sku, qty, Decimal("1.00")) for sku, qty in items)


@pytest.mark.parametrize(
    "mechanism, total, items, expected",
    [
        (
            EarningFacts("purchase_product", "points", sku="MILK", min_quantity=2, points=50),
            "5",
            basket(("MILK", 1)),
            0,
        ),
        (
            EarningFacts("purchase_product", "points", sku="MILK", min_quantity=2, points=50),
            "5",
            basket(("MILK", 1), ("MILK", 1)),
            50,
        ),
        (EarningFacts("purchase_product", "points", sku="MILK", points=50), "5", basket(("BREAD", 3)), 0),
        (
            EarningFacts("purchase_product", "points_per_unit", sku="MILK", points_per_unit=10),
            "5",
            basket(("MILK", 3)),
            30,
        ),
        (EarningFacts("spend", "points", min_amount=Decimal("50"), points=100), "49.99", (), 0),
        (EarningFacts("spend", "points", min_amount=Decimal("50"), points=100), "50.00", (), 100),
        (EarningFacts("spend", "points_per_unit", min_amount=Decimal("0"), points_per_unit=2), "10.99", (), 20),
        (EarningFacts("spend", "points_per_unit", min_amount=Decimal("0"), points_per_unit=2), "0", (), 0),
    ],
)
def test_earned_points_per_behavior_and_award(mechanism, total, items, expected):
    assert rules.earned_points(mechanism, total_amount=Decimal(total), items=items) == expected
