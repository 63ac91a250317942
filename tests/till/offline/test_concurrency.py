"""The same offline batch sent twice at once on PostgreSQL: every code redeemed once, the second answer the first's."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from config.actors import Actor
from coupons.models import Coupon, CouponRedemption
from members.models import OrgEntity
from tests.concurrency import run_callers
from tests.coupons.factories import CouponSeriesFactory
from tests.members.factories import MemberFactory, OrgEntityFactory
from till.offline.models import OfflineBatch, OfflineConflict
from till.offline.services import OfflineRow, offline_batch_record

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROWS = 10_000


def test_offline_batch_sent_twice_at_once_redeems_each_code_once():
    store = OrgEntityFactory(type=OrgEntity.Type.STORE, code="S-RACE")
    series = CouponSeriesFactory()
    member = MemberFactory()
    now = timezone.now()
    Coupon.objects.bulk_create(
        Coupon(series=series, code=f"RACE{n:06d}", member=member, status=Coupon.Status.ISSUED, issued_at=now)
        for n in range(ROWS)
    )
    at = now - timedelta(hours=1)
    rows = [
        OfflineRow(f"RACE{n:06d}", member.external_id, at + timedelta(milliseconds=n), Decimal("20.00"))
        for n in range(ROWS)
    ]

    def send():
        return offline_batch_record(batch_id="B-RACE", store=store, rows=rows, actor=Actor.system("till"))

    outcomes = run_callers([send, send])

    assert [outcome.error for outcome in outcomes] == [None, None]
    (first, first_created), (second, second_created) = (outcome.result for outcome in outcomes)
    assert sorted([first_created, second_created]) == [False, True]
    assert first.response_body == second.response_body
    assert len(first.response_body["accepted"]) == ROWS
    assert first.response_body["rejected"] == []
    assert OfflineBatch.objects.count() == 1
    assert CouponRedemption.objects.count() == ROWS
    assert CouponRedemption.objects.values("coupon").distinct().count() == ROWS
    assert Coupon.objects.filter(status=Coupon.Status.REDEEMED).count() == ROWS
    assert not OfflineConflict.objects.exists()
