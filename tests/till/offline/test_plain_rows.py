"""The judging's short cut for the common row: it accepts only what the redemption rules accept.

`_plainly_allowed` skips building a row's facts when the row is plainly fine; a row it does not take goes
through `rules.redemption_reasons` as before. The property test throws facts of every kind at it and checks that
whenever it says yes the rules find nothing; the comparison test runs rows on each side of its boundaries
through the set-based batch and the row-at-a-time reference.
"""

import gc
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from config.actors import Actor
from config.client_time import ClientTimeWindow
from coupons.models import CouponRedemption, CouponSeries
from coupons.redemption import rules
from members.models import Member
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.members.factories import MemberFactory
from tests.till.offline.test_set_based import offline_row, outcome, reference_outcome
from till.offline import judging, services
from till.offline.services import offline_batch_record

ACTOR = Actor.system("till")
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
WINDOW = ClientTimeWindow(earliest=NOW - timedelta(hours=72), latest=NOW + timedelta(minutes=5))
MEMBER_ID, STORE_ID, OTHER_STORE_ID = 7, 11, 12

moments = st.one_of(
    st.none(), st.integers(min_value=-100 * 3600, max_value=3600).map(lambda s: NOW + timedelta(seconds=s))
)
bills = st.one_of(st.none(), st.integers(min_value=0, max_value=5000).map(lambda cents: Decimal(cents) / 100))
small = st.one_of(st.none(), st.integers(min_value=0, max_value=3))


@st.composite
def cases(draw):
    series = CouponSeries(
        pk=draw(st.integers(min_value=1, max_value=3)),
        allow_anyone=draw(st.booleans()),
        multi_use=draw(st.booleans()),
        redemption_max_per_member=draw(small),
        redemption_stores_type=draw(st.sampled_from(["", "stores"])),
        min_bill=draw(bills),
        max_bill=draw(bills),
        days_of_week=draw(st.one_of(st.none(), st.lists(st.integers(0, 6), max_size=3))),
        days_of_month=draw(st.one_of(st.none(), st.lists(st.integers(1, 31), max_size=3))),
        hours=draw(st.one_of(st.none(), st.lists(st.integers(0, 23), max_size=3))),
        redemption_min_gap_days=draw(small),
        redemption_series_limit=draw(small),
        new_members_registered_from=draw(st.one_of(st.none(), st.just(NOW.date()))),
        new_members_registered_to=draw(st.one_of(st.none(), st.just(NOW.date()))),
        new_members_max_transactions=draw(small),
        discount_type="fixed",
        discount_value=Decimal(5),
    )
    series.redeemed_count = draw(st.integers(min_value=0, max_value=4))
    held_by = draw(st.one_of(st.none(), st.just(99)))
    coupon = judging._Coupon(
        pk=1, code="C1", member_id=draw(st.sampled_from([MEMBER_ID, MEMBER_ID + 1, None])), series_id=series.pk,
        status=draw(st.sampled_from(["issued", "redeemed", "expired", "revoked", "unissued"])),
        expires_at=draw(moments), redeemable_from=draw(moments), held_by_checkout=held_by,
        held_until=draw(moments) if held_by else None, is_reversed=False, series=series,
    )  # fmt: skip
    member = Member(pk=MEMBER_ID, external_id="M", transaction_count=draw(small) or 0,
                    registered_at=draw(st.one_of(st.none(), st.just(NOW - timedelta(days=400)))))  # fmt: skip
    at = draw(st.integers(min_value=-100 * 3600, max_value=3600).map(lambda s: NOW + timedelta(seconds=s)))
    bill = draw(st.integers(min_value=0, max_value=5000).map(lambda cents: Decimal(cents) / 100))
    allowed = draw(st.sampled_from([None, frozenset({STORE_ID}), frozenset({OTHER_STORE_ID})]))
    mine = draw(st.one_of(st.none(), st.tuples(st.integers(0, 3), moments.filter(lambda m: m is not None))))
    return series, coupon, member, services.OfflineRow("C1", "M", at, bill), allowed, mine


@settings(max_examples=500, deadline=None)
@given(cases())
def test_plain_rows_are_only_those_the_rules_allow(case):
    series, coupon, member, row, allowed, mine = case
    context = judging.BatchContext(batch=None, store=None, lineage_ids=frozenset({STORE_ID, 1}), currency="USD",
                                   window=WINDOW, now=NOW, zone=UTC, actor=ACTOR)  # fmt: skip
    state = judging._State(members={}, coupons={}, allowed={series.pk: allowed})
    if mine is not None:
        state.mine[(coupon.pk, member.pk)] = list(mine)

    plain = judging._plainly_allowed(context, state, coupon, member, row)

    reasons = rules.redemption_reasons(judging._facts(context, state, coupon, member, row))
    if plain:
        assert reasons == []


@pytest.mark.django_db
@pytest.mark.parametrize("chunk_rows", [1000, 2])
def test_rows_at_the_edges_of_the_short_cut_answer_as_the_reference(store, monkeypatch, chunk_rows):
    now = timezone.now()
    anyone = CouponSeriesFactory(allow_anyone=True)
    capped = CouponSeriesFactory(max_bill=Decimal("19.99"), min_bill=Decimal("20.00") - Decimal("0.01"))
    weekdays = CouponSeriesFactory(days_of_week=[(now - timedelta(hours=2)).weekday()])
    stranger = MemberFactory()
    starts_later = CouponFactory(redeemable_from=now - timedelta(hours=1))
    started = CouponFactory(redeemable_from=now - timedelta(hours=3))
    held = CouponFactory(held_by_checkout=5, held_until=now + timedelta(minutes=10))
    lapsed_hold = CouponFactory(held_by_checkout=6, held_until=now - timedelta(minutes=10))
    ends_at_the_row = CouponFactory(expires_at=now - timedelta(hours=2))
    rows = [
        offline_row(starts_later),  # two hours ago: before it may be redeemed
        offline_row(started),
        offline_row(CouponFactory(series=anyone), member=stranger),
        offline_row(CouponFactory(series=capped), bill="20.00"),  # above the maximum
        offline_row(CouponFactory(series=capped), bill="19.99"),
        offline_row(CouponFactory(series=weekdays)),
        offline_row(CouponFactory(series=weekdays), hours_ago=26),  # the day before
        offline_row(held),
        offline_row(lapsed_hold),
        offline_row(CouponFactory(), hours_ago=-0.01),  # half a minute ahead: within the clock skew
        offline_row(CouponFactory(), hours_ago=-1),  # an hour ahead
        offline_row(CouponFactory(), bill="0"),
    ]
    rows.append(services.OfflineRow(code=ends_at_the_row.code, member=ends_at_the_row.member.external_id,
                                    redeemed_at=ends_at_the_row.expires_at, bill_amount=Decimal("7.5"),
                                    transaction_id="tab\there, new\nline, back\\slash \\N"))  # fmt: skip
    expected = reference_outcome(batch_id="B-EDGES", store=store, rows=rows)
    monkeypatch.setattr(services, "CHUNK_ROWS", chunk_rows)

    batch, _ = offline_batch_record(batch_id="B-EDGES", store=store, rows=rows, actor=ACTOR)

    assert outcome(batch.response_body) == expected
    assert {item["index"] for item in batch.response_body["rejected"]} == {0, 3, 6, 7, 10}
    last = CouponRedemption.objects.get(coupon=ends_at_the_row)
    assert last.transaction_id == "tab\there, new\nline, back\\slash \\N"
    assert last.redeemed_at == ends_at_the_row.expires_at
    assert last.bill_amount == Decimal("7.50")


@pytest.mark.django_db
def test_collector_is_paused_while_a_batch_is_judged_and_resumed_after(store, monkeypatch):
    seen = []
    apply = services.offline_chunk_apply

    def spying(**kwargs):
        seen.append(gc.isenabled())
        return apply(**kwargs)

    monkeypatch.setattr(services, "offline_chunk_apply", spying)
    coupon = CouponFactory()

    offline_batch_record(batch_id="B-GC", store=store, rows=[offline_row(coupon)], actor=ACTOR)

    assert seen == [False]
    assert gc.isenabled()
    with pytest.raises(RuntimeError), services.collection_paused():
        raise RuntimeError
    assert gc.isenabled()
