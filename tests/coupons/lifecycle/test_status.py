from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from config.actors import Actor
from coupons.exceptions import CouponTransitionError
from coupons.lifecycle.expiry_sweep import coupons_expire_due
from coupons.lifecycle.status import (
    coupon_created_event_record,
    coupon_event,
    coupon_move_statement,
    coupon_reinstate,
    coupon_transition,
    coupons_move_statement,
    coupons_transition,
)
from coupons.lifecycle.transitions import TRANSITIONS
from coupons.models import Coupon, CouponEvent, CouponRedemption
from coupons.redemption import statements as till
from tests.conftest import ON_POSTGRES
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system()


def test_transition_moves_and_records_an_event():
    coupon = CouponFactory()
    moved = coupon_transition(coupon=coupon, to=Coupon.Status.REDEEMED, actor=ACTOR, reason="till 4")
    assert moved.status == "redeemed"
    event = CouponEvent.objects.get(coupon=coupon)
    assert (event.old_status, event.new_status, event.reason) == ("issued", "redeemed", "till 4")


@pytest.mark.parametrize(("old", "new"), [("expired", "issued"), ("revoked", "issued"), ("redeemed", "revoked")])
def test_transition_refuses_moves_outside_the_table(old, new):
    coupon = CouponFactory(status=old)
    with pytest.raises(CouponTransitionError):
        coupon_transition(coupon=coupon, to=new, actor=ACTOR)
    assert not CouponEvent.objects.exists()


def test_transition_with_a_stale_status_is_refused():
    coupon = CouponFactory()
    Coupon.objects.filter(pk=coupon.pk).update(status="revoked")
    with pytest.raises(CouponTransitionError) as caught:
        coupon_transition(coupon=coupon, to="redeemed", actor=ACTOR)
    assert caught.value.reasons == ["revoked"]


def test_transition_table_has_final_states():
    assert TRANSITIONS["expired"] == set() and TRANSITIONS["revoked"] == set()


# --- the one-row writer: the re-issue move, and the columns it owns --------------------------------


def test_transition_out_of_revoked_only_as_a_reissue():
    coupon = CouponFactory(status="revoked")
    with pytest.raises(CouponTransitionError):
        coupon_transition(coupon=coupon, to="issued", actor=ACTOR)
    moved = coupon_transition(coupon=coupon, to="issued", actor=ACTOR, reissue=True, reason="re-issued")
    assert moved.status == "issued"
    assert list(CouponEvent.objects.values_list("old_status", "new_status")) == [("revoked", "issued")]


@pytest.mark.parametrize(("old", "new"), [("expired", "issued"), ("redeemed", "revoked"), ("issued", "unissued")])
def test_reissue_allows_no_other_move_outside_the_table(old, new):
    with pytest.raises(CouponTransitionError):
        coupon_transition(coupon=CouponFactory(status=old), to=new, actor=ACTOR, reissue=True)


def test_transition_sets_the_status_time_and_other_fields_in_one_move():
    coupon = CouponFactory(status="unissued", member=None)
    member, at = MemberFactory(), timezone.now() - timedelta(hours=1)
    coupon_transition(coupon=coupon, to="issued", actor=ACTOR, at=at, member=member, issued_at=at)
    coupon.refresh_from_db()
    assert (coupon.status, coupon.member_id, coupon.issued_at, coupon.last_status_change_on) == (
        "issued", member.pk, at, at,
    )  # fmt: skip
    assert CouponEvent.objects.get(coupon=coupon).at == at


@pytest.mark.parametrize("column", ["status", "last_status_change_on"])
def test_transition_refuses_to_be_handed_the_columns_it_sets(column):
    with pytest.raises(ValueError):
        coupon_transition(coupon=CouponFactory(), to="redeemed", actor=ACTOR, **{column: timezone.now()})
    assert Coupon.objects.get().status == "issued"


# --- the set-based writer -------------------------------------------------------------------------


def test_set_based_transition_moves_only_rows_in_the_from_status_with_one_event_each():
    issued = CouponFactory.create_batch(3)
    redeemed = CouponFactory(status="redeemed")
    at = timezone.now() - timedelta(minutes=5)
    moved = coupons_transition(ids=[c.pk for c in [*issued, redeemed]], from_status="issued", to="revoked",
                               actor=Actor.task("cleanup"), reason="revoked (test)", at=at)  # fmt: skip
    assert moved == 3
    assert set(Coupon.objects.filter(status="revoked").values_list("pk", flat=True)) == {c.pk for c in issued}
    assert set(Coupon.objects.filter(status="revoked").values_list("last_status_change_on", flat=True)) == {at}
    assert Coupon.objects.get(pk=redeemed.pk).status == "redeemed"
    events = CouponEvent.objects.all()
    assert sorted(events.values_list("coupon_id", flat=True)) == sorted(c.pk for c in issued)
    assert set(events.values_list("old_status", "new_status", "actor", "channel", "reason", "at")) == {
        ("issued", "revoked", "cleanup", "task", "revoked (test)", at)
    }


def test_set_based_transition_takes_a_queryset():
    series = CouponSeriesFactory()
    mine = CouponFactory.create_batch(2, series=series, status="unissued", member=None)
    CouponFactory(status="unissued", member=None)  # another series
    assert coupons_transition(queryset=Coupon.objects.filter(series=series), from_status="unissued",
                              to="revoked", actor=ACTOR) == 2  # fmt: skip
    assert set(Coupon.objects.filter(status="revoked").values_list("pk", flat=True)) == {c.pk for c in mine}
    assert CouponEvent.objects.count() == 2


@pytest.mark.parametrize(("old", "new"), [("expired", "issued"), ("revoked", "issued"), ("redeemed", "revoked")])
def test_set_based_transition_refuses_moves_outside_the_table(old, new):
    coupons = CouponFactory.create_batch(2, status=old)
    with pytest.raises(CouponTransitionError):
        coupons_transition(ids=[c.pk for c in coupons], from_status=old, to=new, actor=ACTOR)
    assert set(Coupon.objects.values_list("status", flat=True)) == {old}
    assert not CouponEvent.objects.exists()


def test_set_based_transition_of_nothing_moves_nothing_and_still_checks_the_table():
    assert coupons_transition(ids=[], from_status="issued", to="expired", actor=ACTOR) == 0
    with pytest.raises(CouponTransitionError):
        coupons_transition(ids=[], from_status="expired", to="issued", actor=ACTOR)


def test_set_based_transition_needs_ids_or_a_queryset_not_both():
    with pytest.raises(TypeError):
        coupons_transition(from_status="issued", to="expired", actor=ACTOR)
    with pytest.raises(TypeError):
        coupons_transition(ids=[1], queryset=Coupon.objects.all(), from_status="issued", to="expired", actor=ACTOR)


# --- the event builder, births, reinstatement ------------------------------------------------------


def test_event_builder_fits_long_names_and_records_a_missing_actor_as_the_system():
    long = Actor(name="n" * 300, channel="c" * 300)
    event = coupon_event(coupon_id=1, old="issued", new="redeemed", actor=long, reason="r" * 400)
    assert (len(event.actor), len(event.channel), len(event.reason)) == (100, 30, 255)
    assert event.pk is None  # unsaved: the caller saves it, or inserts many at once
    anonymous = coupon_event(coupon_id=1, old="", new="issued", actor=None)
    assert (anonymous.actor, anonymous.channel) == ("system", "system")


def test_created_event_is_for_a_status_a_coupon_is_born_in():
    issued = CouponFactory()
    event = coupon_created_event_record(coupon=issued, actor=ACTOR)
    assert (event.old_status, event.new_status, event.at) == ("", "issued", issued.last_status_change_on)
    with pytest.raises(CouponTransitionError):
        coupon_created_event_record(coupon=CouponFactory(status="redeemed"), actor=ACTOR)
    assert CouponEvent.objects.count() == 1


def test_reinstate_issues_a_redeemed_coupon_again():
    coupon = CouponFactory(status="redeemed")
    coupon_reinstate(coupon=coupon, actor=ACTOR)
    coupon.refresh_from_db()
    assert (coupon.status, coupon.is_reversed) == ("issued", True)
    assert list(CouponEvent.objects.values_list("old_status", "new_status", "reason")) == [
        ("redeemed", "issued", "redemption reversed")
    ]


@pytest.mark.parametrize("status", ["issued", "expired", "revoked"])
def test_reinstate_keeps_any_other_status_and_only_marks_the_coupon_reversed(status):
    coupon = CouponFactory(status=status)
    at = timezone.now()
    coupon_reinstate(coupon=coupon, actor=ACTOR, at=at)
    coupon.refresh_from_db()
    assert (coupon.status, coupon.is_reversed, coupon.last_status_change_on) == (status, True, at)
    assert not CouponEvent.objects.exists()


# --- the move as SQL, for the till and the sweep ---------------------------------------------------

ALL_STATUSES = list(Coupon.Status.values)
EVERY_PAIR = [(old, new) for old in ALL_STATUSES for new in ALL_STATUSES]


@pytest.mark.parametrize(("old", "new"), EVERY_PAIR)
def test_move_statements_are_made_exactly_for_the_moves_in_the_table(old, new):
    coupon = Coupon(pk=1, status=old)
    at = timezone.now()
    if new in TRANSITIONS[old]:
        statement = coupon_move_statement(coupon=coupon, to=new, actor=ACTOR, reason="r", at=at)
        assert statement.sql.startswith("moved AS (UPDATE coupons_coupon SET status = %s")
        assert statement.params[0] == new and old in statement.params
        coupons_move_statement(old=old, to=new, where="id = %s", where_params=[1], actor=ACTOR, reason="r", at=at)
    else:
        with pytest.raises(CouponTransitionError):
            coupon_move_statement(coupon=coupon, to=new, actor=ACTOR, reason="r", at=at)
        with pytest.raises(CouponTransitionError):
            coupons_move_statement(old=old, to=new, where="id = %s", where_params=[1], actor=ACTOR, reason="r", at=at)


@pytest.mark.postgres
@pytest.mark.parametrize(("old", "new"), [(old, new) for old, moves in TRANSITIONS.items() for new in moves])
def test_move_statement_moves_the_coupon_and_records_its_event_on_postgres(old, new):
    coupon = CouponFactory(status=old)
    other = CouponFactory(status=old)
    at = timezone.now()
    statement = coupon_move_statement(coupon=coupon, to=new, actor=ACTOR, reason="r", at=at, is_reversed=True)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {statement.sql}\nSELECT count(*) FROM moved", statement.params)
        assert cursor.fetchone()[0] == 1
        # run again: the coupon is no longer in `old`, so the compare-and-swap moves nothing
        cursor.execute(f"WITH {statement.sql}\nSELECT count(*) FROM moved", statement.params)
        assert cursor.fetchone()[0] == 0
    coupon.refresh_from_db()
    assert (coupon.status, coupon.last_status_change_on, coupon.is_reversed) == (new, at, True)
    assert Coupon.objects.get(pk=other.pk).status == old
    event = CouponEvent.objects.get()
    assert (event.coupon_id, event.old_status, event.new_status, event.reason, event.at) == (
        coupon.pk,
        old,
        new,
        "r",
        at,
    )
    statement.mirror_on(other)
    assert (other.status, other.last_status_change_on, other.is_reversed) == (new, at, True)


def test_the_expiry_sweep_takes_its_move_from_the_table(monkeypatch):
    CouponFactory(expires_at=timezone.now() - timedelta(days=1))
    monkeypatch.setitem(TRANSITIONS, "issued", {"redeemed", "revoked"})
    with pytest.raises(CouponTransitionError):
        coupons_expire_due(actor=ACTOR)
    assert Coupon.objects.get().status == "issued"


def test_the_tills_write_takes_its_move_from_the_table(monkeypatch, store):
    coupon = CouponFactory()
    redemption = CouponRedemption(coupon=coupon, series=coupon.series, member=coupon.member, store=store,
                                  bill_amount=Decimal("10"), discount_amount=Decimal("5"), currency="USD",
                                  redeemed_at=timezone.now(), actor="till", channel="pos")  # fmt: skip
    monkeypatch.setitem(TRANSITIONS, "issued", {"expired", "revoked"})
    if ON_POSTGRES:  # the statement is refused while it is made
        with pytest.raises(CouponTransitionError):
            till.redemption_write(redemption=redemption, to="redeemed", actor=ACTOR)
    else:  # the ORM path's one-row writer refuses, and the till answers as for a coupon no longer issued
        assert till.redemption_write_orm(redemption=redemption, to="redeemed", actor=ACTOR) == "already_redeemed"
    assert Coupon.objects.get().status == "issued"
    assert not CouponEvent.objects.exists() and not CouponRedemption.objects.exists()
