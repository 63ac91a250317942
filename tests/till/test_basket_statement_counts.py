"""The till's basket calls cost the same statements whatever the program's size (20 or 1,000 live offers) and
the basket's (3 or 30 lines, each line earning an award): evaluate, checkout open, commit and POST /transactions.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from members.models import PointsEntry
from offers.models import EarningMechanism, Fulfillment, Offer, OfferLimit
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

# Evaluate: the API client and its stores (uncached in tests), the till's read, the coupons, the member's offer
# counts with the offer index's version (their segments too when a matched offer requires some; these do not).
EVALUATE_STATEMENTS = 5
# PostgreSQL, the API client uncached and every atomic block a savepoint (the test's transaction). Checkout open (14
# before): evaluate's reads and the coupons' series' setup, then one statement for the checkout, its event, its
# coupons' holds and its hold rows. Commit (24 before, 23 while the purchase took eight statements): the checkout
# locked and its holds released in one statement, the purchase's recording in its single write, the held coupons
# read and redeemed in one statement each, the status move with its event, the idempotency row, the series'
# counters.
CHECKOUT_OPEN_STATEMENTS = 12
COMMIT_STATEMENTS = 18


def offers_make(count: int) -> None:
    """`count` live product offers: SKU-0 … SKU-29 rewarded by the first 30 (each with a global fulfillment limit
    of room), the others rewarding SKUs no basket sends."""
    existing = Offer.objects.filter(external_id__startswith="COUNT-").count()
    offers = Offer.objects.bulk_create(
        Offer(external_id=f"COUNT-{existing + n}", name="Count", expire_at=timezone.now() + timedelta(days=30))
        for n in range(count)
    )
    EarningMechanism.objects.bulk_create(
        EarningMechanism(offer=offer, behavior_type="purchase_product", award_type="points", points=5, min_quantity=1,
                         sku=f"SKU-{existing + n}" if existing + n < 30 else f"NONE-{existing + n}")
        for n, offer in enumerate(offers)
    )  # fmt: skip
    OfferLimit.objects.bulk_create(
        OfferLimit(offer=offer, scope="global", kind="fulfillment", max_count=1_000_000)
        for n, offer in enumerate(offers)
        if existing + n < 30
    )


def lines(count: int) -> list[dict]:
    return [{"line_ref": str(n), "sku": f"SKU-{n}", "quantity": 1, "unit_price": "3.50"} for n in range(count)]


def items(count: int) -> list[dict]:
    return [{key: line[key] for key in ("sku", "quantity", "unit_price")} for line in lines(count)]


def basket_for(member, store, line_count: int, codes=(), **extra) -> dict:
    return {"member": member.external_id, "store": store.code, "lines": lines(line_count), "coupon_codes": list(codes),
            **extra}  # fmt: skip


def coupons_for(member) -> list[str]:
    return [CouponFactory(member=member, series=CouponSeriesFactory()).code for _ in range(3)]


def counted(call):
    with CaptureQueriesContext(connection) as queries:
        answer = call()
    return answer, len(queries)


SIZES = [(20, 3), (20, 30), (1000, 3), (1000, 30)]


def measured(pos, store, measure) -> dict:
    """`measure(member, line_count, awards)` for every program and basket size, in growing program order (awards:
    how many the basket earns); the statements of each. A call after the offers change loads the index (and a
    program's first purchase reads what later ones find cached): it warms up, uncounted."""
    made, found = 0, {}
    for offers, line_count in SIZES:
        if offers > made:
            offers_make(offers - made)
            made = offers
            measure(MemberFactory(), 1, 1)
        found[(offers, line_count)] = measure(MemberFactory(), line_count, min(offers, line_count))
    return found


def test_evaluate_statements_do_not_grow_with_offers_or_lines(pos, store):
    def measure(member, line_count, awards):
        body = basket_for(member, store, line_count, coupons_for(member))
        first = pos.post("/api/v1/baskets/evaluate", body, format="json")  # a series' first use reads its setup once
        response, statements = counted(lambda: pos.post("/api/v1/baskets/evaluate", body, format="json"))
        assert response.json() == first.json()
        assert response.status_code == 200, response.json()
        assert len(response.json()["awards"]) == awards
        assert [coupon["applies"] for coupon in response.json()["coupons"]] == [True, True, True]
        return statements

    found = measured(pos, store, measure)
    assert set(found.values()) == {EVALUATE_STATEMENTS}, found


def test_checkout_open_and_commit_statements_do_not_grow_with_offers_or_lines(pos, store):
    def measure(member, line_count, awards):
        body = {**basket_for(member, store, line_count, coupons_for(member)), "transaction_id": f"T-{member.pk}"}
        opened, open_statements = counted(lambda: pos.post("/api/v1/checkouts", body, format="json"))
        assert opened.status_code == 201, opened.json()
        url = f"/api/v1/checkouts/{opened.json()['id']}/commit"
        committed, commit_statements = counted(lambda: pos.post(url, HTTP_IDEMPOTENCY_KEY=f"K-{member.pk}"))
        assert committed.status_code == 200, committed.json()
        assert len(committed.json()["transaction"]["awards"]) == awards
        assert Fulfillment.objects.filter(member=member).count() == awards
        return open_statements, commit_statements

    found = measured(pos, store, measure)
    assert len(set(found.values())) == 1, found
    if connection.vendor == "postgresql":
        assert set(found.values()) == {(CHECKOUT_OPEN_STATEMENTS, COMMIT_STATEMENTS)}, found


def test_transaction_statements_do_not_grow_with_offers_or_lines(pos, store):
    def measure(member, line_count, awards):
        body = {"transaction_id": f"P-{member.pk}", "member": member.external_id, "store": store.code,
                "total_amount": f"{3.5 * line_count:.2f}",
                "items": items(line_count)}  # fmt: skip
        response, statements = counted(lambda: pos.post("/api/v1/transactions", body, format="json"))
        assert response.status_code == 201, response.json()
        assert len(response.json()["awards"]) == awards
        assert response.json()["points_balance"] == 5 * awards
        entries = list(PointsEntry.objects.filter(member=member).order_by("pk").values_list("balance_after", flat=True))
        assert entries == [5 * n for n in range(1, awards + 1)]  # each line's balance, as if posted in turn
        return statements

    found = measured(pos, store, measure)
    assert len(set(found.values())) == 1, found


def test_a_purchase_counts_each_global_limit_once_and_skips_the_offers_at_their_limit(pos, store):
    offers_make(3)
    OfferLimit.objects.filter(offer__external_id="COUNT-1").update(max_count=1, used_count=1)
    member = MemberFactory()
    body = {"transaction_id": "LIMITS", "member": member.external_id, "store": store.code, "total_amount": "10.50",
            "items": items(3)}  # fmt: skip
    response = pos.post("/api/v1/transactions", body, format="json")
    assert response.status_code == 201, response.json()
    awarded = {award["offer_id"] for award in response.json()["awards"]}
    assert awarded == set(Offer.objects.filter(external_id__in=["COUNT-0", "COUNT-2"]).values_list("pk", flat=True))
    assert dict(OfferLimit.objects.values_list("offer__external_id", "used_count")) == {
        "COUNT-0": 1,
        "COUNT-1": 1,
        "COUNT-2": 1,
    }
