import pytest

from config.actors import Actor
from members.exceptions import PointsError
from members.models import Member, PointsEntry
from members.services import points_post
from tests.concurrency import run_concurrently
from tests.members.factories import MemberFactory


@pytest.mark.django_db
def test_spend_beyond_balance_is_refused_and_writes_nothing():
    member = MemberFactory(points=50)
    with pytest.raises(PointsError) as caught:
        points_post(member=member, points=-51, kind="spend", actor=Actor.system())
    assert caught.value.code == "insufficient_points"
    member.refresh_from_db()
    assert member.points_balance == 50
    assert PointsEntry.objects.filter(member=member).count() == 1


@pytest.mark.django_db
def test_spending_exactly_the_balance_leaves_zero():
    member = MemberFactory(points=50)
    entry = points_post(member=member, points=-50, kind="spend", actor=Actor.system())
    assert entry.balance_after == 0
    assert Member.objects.get(pk=member.pk).points_balance == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_overspend_leaves_balance_at_zero_never_below():
    member = MemberFactory(points=100)

    def spend(index):
        points_post(member=Member.objects.get(pk=member.pk), points=-10, kind="spend", actor=Actor.system())
        return "spent"

    outcomes = run_concurrently(12, spend)  # the refused ones raise insufficient_points

    assert outcomes.count("spent") == 10
    assert outcomes.count("insufficient_points") == 2
    member.refresh_from_db()
    assert member.points_balance == 0
    assert sum(PointsEntry.objects.filter(member=member).values_list("points", flat=True)) == 0
