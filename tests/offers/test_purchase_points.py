"""The points a purchase earns: one move of the balance and its ledger lines, on every database."""

import pytest
from django.db import transaction

from config import ranges
from config.actors import Actor
from members.exceptions import PointsError
from members.models import Member, PointsEntry
from members.services import points_earn_many
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("tests")


def test_points_earn_many_writes_each_line_with_the_balance_it_left():
    member = MemberFactory(points=5)

    entries = points_earn_many(member=member, lines=[(10, "Offer A"), (3, "Offer B")], actor=ACTOR, reference="T-1")

    assert member.points_balance == 18
    assert Member.objects.get(pk=member.pk).points_balance == 18
    stored = list(PointsEntry.objects.filter(member=member, kind="earn").order_by("pk").values_list(
        "pk", "points", "balance_after", "kind", "reason", "reference", "shortfall", "actor", "channel"
    ))  # fmt: skip
    assert stored == [
        (entries[0].pk, 10, 15, "earn", "Offer A", "T-1", 0, ACTOR.name, ACTOR.channel),
        (entries[1].pk, 3, 18, "earn", "Offer B", "T-1", 0, ACTOR.name, ACTOR.channel),
    ]
    assert [(entry.points, entry.balance_after) for entry in entries] == [(10, 15), (3, 18)]


def test_points_earn_many_past_the_balance_limit_writes_nothing():
    member = MemberFactory()
    Member.objects.filter(pk=member.pk).update(points_balance=ranges.POINTS_BALANCE.max - 5)

    with pytest.raises(PointsError) as refused, transaction.atomic():  # the caller's transaction is refused whole
        points_earn_many(member=member, lines=[(3, "Offer A"), (3, "Offer B")], actor=ACTOR)

    assert refused.value.reasons == ["points_balance_limit"]
    assert Member.objects.get(pk=member.pk).points_balance == ranges.POINTS_BALANCE.max - 5
    assert not PointsEntry.objects.filter(member=member).exists()
