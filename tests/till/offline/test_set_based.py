"""The set-based offline batch against the row-at-a-time reference: the same batch, the same answers, row by row."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.actors import Actor
from coupons.models import Coupon, CouponEvent, CouponRedemption, CouponSeries
from coupons.redemption.services import coupon_redeem
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.members.factories import MemberFactory, OrgEntityFactory
from tests.till.offline.reference_offline import reference_batch_record
from till.offline import services
from till.offline.models import OfflineBatch, OfflineBatchChunk, OfflineConflict
from till.offline.services import OfflineRow, offline_batch_record
from webhooks.models import Event

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("till")


class Rollback(Exception):
    pass


def offline_row(coupon, *, hours_ago=2.0, member=None, bill="20.00", code=None):
    return OfflineRow(code=code or coupon.code, member=(member or coupon.member).external_id,
                      redeemed_at=timezone.now() - timedelta(hours=hours_ago), bill_amount=Decimal(bill),
                      transaction_id=f"T-{hours_ago}")  # fmt: skip


def tricky_batch(store):
    """Rows that exercise every rule an offline row can meet, in an order that is not the order they happened."""
    other_store = OrgEntityFactory(type="store", code="S-ELSEWHERE")
    now = timezone.now()
    plain = CouponFactory()
    expired_before = CouponFactory(expires_at=now - timedelta(hours=7))  # still issued: the sweep has not run
    expired_after = CouponFactory(expires_at=now - timedelta(hours=1))  # valid when the till redeemed it
    elsewhere_only = CouponSeriesFactory(redemption_stores_type="stores")
    elsewhere_only.redemption_stores.set([other_store])
    here_only = CouponSeriesFactory(redemption_stores_type="stores")
    here_only.redemption_stores.set([store])
    multi = CouponSeriesFactory(multi_use=True, redemption_max_per_member=2)
    gap = CouponSeriesFactory(multi_use=True, redemption_min_gap_days=1)
    limited = CouponSeriesFactory(redemption_series_limit=1)
    hours = CouponSeriesFactory(hours=[(now - timedelta(hours=3)).hour])
    euros = CouponSeriesFactory(discount_currency="EUR")  # no exchange rate into USD
    percent = CouponSeriesFactory(discount_type="percentage", discount_value=10)
    online = CouponFactory()
    coupon_redeem(code=online.code, member=online.member, store=other_store, bill_amount=Decimal("9"), actor=ACTOR)
    twice = CouponFactory()
    multi_coupon = CouponFactory(series=multi)
    gap_coupon = CouponFactory(series=gap)
    limited_first, limited_second = CouponFactory(series=limited), CouponFactory(series=limited)
    stranger = MemberFactory()
    rows = [
        offline_row(plain),
        offline_row(expired_before, hours_ago=6),
        offline_row(expired_after, hours_ago=2),
        offline_row(CouponFactory(), hours_ago=100),  # before the offline window
        offline_row(CouponFactory(series=elsewhere_only)),
        offline_row(CouponFactory(series=here_only)),
        offline_row(multi_coupon, hours_ago=3),
        offline_row(multi_coupon, hours_ago=2),
        offline_row(multi_coupon, hours_ago=1),  # the third: over the member's limit of two
        offline_row(gap_coupon, hours_ago=30),
        offline_row(gap_coupon, hours_ago=20),  # ten hours after the first: the gap is a day
        offline_row(online, hours_ago=7),  # redeemed online since
        offline_row(twice, hours_ago=1),  # later in time, earlier in the batch: loses to the row below
        offline_row(twice, hours_ago=4, code=f"  {twice.code.lower()} "),
        offline_row(plain, hours_ago=1, code="NO-SUCH-CODE"),
        None,  # a row whose cells did not parse
        OfflineRow(code=plain.code, member="NOBODY", redeemed_at=now - timedelta(hours=1), bill_amount=Decimal(5)),
        offline_row(CouponFactory(), member=stranger),
        offline_row(limited_first, hours_ago=5),
        offline_row(limited_second, hours_ago=4),  # the series' one redemption is taken
        offline_row(CouponFactory(series=hours), hours_ago=3),
        offline_row(CouponFactory(series=hours), hours_ago=5),  # not in the allowed hour
        offline_row(CouponFactory(series=euros)),
        offline_row(CouponFactory(series=percent), bill="33.33"),
        offline_row(CouponFactory(series=CouponSeriesFactory(min_bill=50)), bill="20.00"),
        offline_row(CouponFactory(redeemed=True)),
        offline_row(CouponFactory(revoked=True)),
    ]
    return rows


def outcome(body):
    """The answers and what they wrote, without the ids that differ from one run to the next."""
    redemptions = CouponRedemption.objects.select_related("coupon").in_bulk(
        [item["redemption_id"] for item in body["accepted"]]
    )
    accepted = [
        (item["index"], r.coupon.code, r.redeemed_at, r.bill_amount, r.discount_amount, r.currency, r.store_id,
         r.transaction_id, r.member_id)
        for item in body["accepted"]
        for r in [redemptions[item["redemption_id"]]]
    ]  # fmt: skip
    rejected = [(item["index"], item["code"], item["reasons"]) for item in body["rejected"]]
    batch = OfflineBatch.objects.get(batch_id=body["batch_id"])
    conflicts = [
        (c.row_index, c.code, c.member_id, c.coupon_id, c.offline_redeemed_at, c.online_store_id, c.online_redeemed_at,
         c.online_redemption.coupon.code if c.online_redemption_id else None)
        for c in OfflineConflict.objects.filter(batch=batch).order_by("row_index")
    ]  # fmt: skip
    statuses = dict(Coupon.objects.values_list("code", "status"))
    counters = dict(CouponSeries.objects.values_list("pk", "redeemed_count"))
    events = sorted(CouponEvent.objects.filter(reason="redeemed").values_list("coupon__code", "new_status"))
    hooks = Event.objects.filter(type="coupon.redeemed").count()
    return {"accepted": accepted, "rejected": rejected, "conflicts": conflicts, "statuses": statuses,
            "counters": counters, "events": events, "hooks": hooks}  # fmt: skip


def reference_outcome(*, batch_id, store, rows):
    """The `outcome` of the row-at-a-time reference recording the batch, rolled back so the batch can be recorded
    again."""
    with transaction.atomic():
        expected = outcome(reference_batch_record(batch_id=batch_id, store=store, rows=rows, actor=ACTOR))
        transaction.set_rollback(True)
    return expected


def test_set_based_batch_answers_as_the_row_at_a_time_reference(store):
    rows = tricky_batch(store)
    expected = reference_outcome(batch_id="B-CMP", store=store, rows=rows)
    assert not OfflineBatch.objects.exists()

    batch, created = offline_batch_record(batch_id="B-CMP", store=store, rows=rows, actor=ACTOR)

    assert created
    got = outcome(batch.response_body)
    for part in expected:
        assert got[part] == expected[part], part
    reasons = {item[0]: item[2] for item in got["rejected"]}
    assert reasons == {
        1: ["expired"], 3: ["time_out_of_range"], 4: ["store_not_allowed"], 8: ["member_redemption_limit_reached"],
        10: ["redemption_gap_not_met"], 11: ["already_redeemed"], 12: ["already_redeemed"], 14: ["coupon_not_found"],
        15: ["malformed_row"], 16: ["member_not_found"], 17: ["not_owner"], 19: ["series_redemption_limit_reached"],
        21: ["hour_not_allowed"], 22: ["exchange_rate_missing"], 24: ["bill_below_minimum"], 25: ["already_redeemed"],
        26: ["revoked"],
    }  # fmt: skip
    assert [conflict[0] for conflict in got["conflicts"]] == [11, 12, 25]
    assert (batch.total_rows, batch.accepted_count, batch.rejected_count) == (27, 10, 17)


def test_set_based_batch_over_several_chunks_answers_as_one(store, monkeypatch):
    """Chunks of three rows: the same code in two chunks, the member's limit across chunks."""
    rows = tricky_batch(store)
    expected = reference_outcome(batch_id="B-CHUNKS", store=store, rows=rows)
    monkeypatch.setattr(services, "CHUNK_ROWS", 3)

    batch, _ = offline_batch_record(batch_id="B-CHUNKS", store=store, rows=rows, actor=ACTOR)

    assert outcome(batch.response_body) == expected
    assert OfflineBatchChunk.objects.filter(batch=batch).count() == 9  # 27 rows, three a chunk


def test_interrupted_batch_goes_on_where_it_stopped(store, monkeypatch):
    coupons = [CouponFactory() for _ in range(6)]
    rows = [offline_row(coupon, hours_ago=6 - n) for n, coupon in enumerate(coupons)]
    rows.append(offline_row(coupons[0], hours_ago=0.5))  # the first code again: a conflict
    monkeypatch.setattr(services, "CHUNK_ROWS", 2)
    batch, _ = services.offline_batch_open(batch_id="B-CUT", store=store, rows=rows, actor=ACTOR, source="api")
    seen = []

    def stop_after_two_chunks(answered):
        seen.append(answered)
        if answered == 4:
            raise Rollback

    with pytest.raises(Rollback):
        services.offline_batch_judge(batch=batch, rows=rows, actor=ACTOR, progress=stop_after_two_chunks)
    assert CouponRedemption.objects.count() == 4
    assert OfflineBatch.objects.get().response_body is None

    again, created = offline_batch_record(batch_id="B-CUT", store=store, rows=rows, actor=ACTOR)

    assert not created
    assert seen == [2, 4]
    assert [item["index"] for item in again.response_body["accepted"]] == [0, 1, 2, 3, 4, 5]
    assert again.response_body["rejected"] == [{"index": 6, "code": coupons[0].code, "reasons": ["already_redeemed"]}]
    assert CouponRedemption.objects.count() == 6
    assert OfflineConflict.objects.get().online_redemption.coupon == coupons[0]


def test_set_based_batch_statements_do_not_grow_with_its_rows(store):
    def statements(count, batch_id):
        coupons = [CouponFactory(series=series) for _ in range(count)]
        rows = [offline_row(coupon) for coupon in coupons]
        with CaptureQueriesContext(connection) as queries:
            batch, _ = offline_batch_record(batch_id=batch_id, store=store, rows=rows, actor=ACTOR)
        assert batch.accepted_count == count
        return len(queries)

    series = CouponSeriesFactory()
    assert statements(5, "B-FEW") == statements(60, "B-MANY")
