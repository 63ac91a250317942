"""A commit counts its redemptions on their series last, in one statement, and a limit it would pass refuses it."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coupons.models import Coupon, CouponRedemption, CouponSeries
from offers.models import Transaction
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from till.checkouts.models import Checkout, CheckoutHold

pytestmark = pytest.mark.django_db


def test_commit_counts_each_series_once_for_its_coupons(open_checkout, commit, basket, member):
    first = CouponFactory(member=member, series__discount_value=Decimal("1"))
    second = CouponFactory(member=member, series__discount_value=Decimal("2"))
    opened = open_checkout(basket([second.code, first.code]))
    answer = commit(opened["id"])
    assert answer.status_code == 200, answer.json()
    assert [row["code"] for row in answer.json()["redemptions"]] == sorted(
        [first.code, second.code], key=lambda code: Coupon.objects.get(code=code).series_id
    )
    assert set(CouponSeries.objects.filter(pk__in=[first.series_id, second.series_id]).values_list(
        "redeemed_count", flat=True)) == {1}  # fmt: skip


def test_commit_passing_a_series_limit_is_refused_and_rolls_everything_back(open_checkout, commit, basket, member):
    series = CouponSeriesFactory(redemption_series_limit=1)
    coupon = CouponFactory(member=member, series=series)
    opened = open_checkout(basket([coupon.code]))
    # Another redemption of the series lands between the checkout's opening and its commit.
    CouponSeries.objects.filter(pk=series.pk).update(redeemed_count=1)
    answer = commit(opened["id"], **{"Idempotency-Key": "limit-1"})
    assert (answer.status_code, answer.json()["code"]) == (409, "series_redemption_limit_reached")
    assert Coupon.objects.get(pk=coupon.pk).status == "issued"
    assert not CouponRedemption.objects.exists()
    assert not Transaction.objects.exists()
    assert Checkout.objects.get(pk=opened["id"]).status == "held"
    assert CheckoutHold.objects.filter(checkout_id=opened["id"], released_at__isnull=True).count() == 1
    assert CouponSeries.objects.get(pk=series.pk).redeemed_count == 1
    # The refusal is the key's answer.
    assert commit(opened["id"], **{"Idempotency-Key": "limit-1"}).json() == answer.json()


def test_the_series_counter_is_the_commits_last_statement(open_checkout, commit, basket, member):
    coupons = [CouponFactory(member=member, series__discount_value=Decimal(n)) for n in (1, 2, 3)]
    opened = open_checkout(basket([coupon.code for coupon in coupons]))
    with CaptureQueriesContext(connection) as captured:
        answer = commit(opened["id"], **{"Idempotency-Key": "last-1"})
    assert answer.status_code == 200, answer.json()
    statements = [query["sql"] for query in captured.captured_queries]
    counters = [n for n, sql in enumerate(statements) if "SET redeemed_count" in sql or 'SET "redeemed_count"' in sql]
    assert len(counters) == (1 if connection.vendor == "postgresql" else 3)
    writes_after = [sql for sql in statements[counters[-1] + 1 :] if not sql.startswith(("RELEASE", "COMMIT"))]
    if connection.vendor == "postgresql":
        assert writes_after == []
    assert set(CouponSeries.objects.filter(pk__in=[c.series_id for c in coupons]).values_list(
        "redeemed_count", flat=True)) == {1}  # fmt: skip
    assert commit(opened["id"], **{"Idempotency-Key": "last-1"}).json() == answer.json()
