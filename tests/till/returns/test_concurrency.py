"""Returns of the same lines racing each other on PostgreSQL never return more than was bought."""

from decimal import Decimal

import pytest

from members.models import PointsEntry
from tests.concurrency import results_of, run_callers
from till.returns.models import ReturnLine
from till.returns.services import return_record

from .conftest import TILL

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_returns_racing_for_the_same_lines_never_over_return(buy, offers_for_basket, store):
    member = buy()

    def give_back(n):
        return lambda: return_record(transaction_id="T-1", store=store, return_id=f"R-{n}",
                                     lines=[{"line_ref": "1", "quantity": 3}], actor=TILL)  # fmt: skip

    outcomes = run_callers([give_back(n) for n in range(6)])

    answers = results_of(outcomes)
    assert sorted(answer for answer in answers if isinstance(answer, str)) == ["return_exceeds_purchase"] * 5
    assert sum(ReturnLine.objects.values_list("quantity", flat=True)) == 3
    member.refresh_from_db()
    assert member.points_balance == 90 - 30 - 50  # three milk, and the spend award the rest no longer earns
    assert PointsEntry.objects.filter(member=member, kind="return").count() == 1


def test_the_same_return_sent_twice_at_once_is_recorded_once(buy, offers_for_basket, store):
    member = buy()

    def give_back():
        return return_record(transaction_id="T-1", store=store, return_id="R-SAME",
                             lines=[{"line_ref": "2", "quantity": 2}], actor=TILL)  # fmt: skip

    outcomes = run_callers([give_back, give_back, give_back])

    assert [outcome.error for outcome in outcomes] == [None, None, None]
    bodies = [outcome.result[0] for outcome in outcomes]
    assert sorted(outcome.result[1] for outcome in outcomes) == [False, False, True]
    assert bodies[0] == bodies[1] == bodies[2]
    member.refresh_from_db()
    assert member.points_balance == 40  # the spend award, once
    assert Decimal(sum(ReturnLine.objects.values_list("quantity", flat=True))) == 2
