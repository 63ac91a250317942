"""The till's keyed redemption on PostgreSQL: its statement's writes, the series counter last, and what the
Idempotency-Key's row costs (no foreign-key check, one index of its own beside the key's)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.actors import Actor
from config.api.models import IdempotencyRecord
from config.api.services import api_client_create
from coupons.models import CouponRedemption, CouponSeries
from coupons.redemption import rules
from tests.coupons.factories import CouponFactory
from webhooks import events
from webhooks.models import Event

from .till_requests import REDEEM, body

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _redemption_statement(captured) -> str:
    [sql] = [query["sql"] for query in captured.captured_queries if query["sql"].startswith("WITH moved")]
    return sql


def test_the_series_counter_is_the_keyed_redemptions_last_write(pos, store, cached_clients):
    coupon = CouponFactory()
    series = coupon.series
    with CaptureQueriesContext(connection) as captured:
        response = pos.post(REDEEM, body(coupon, store), format="json", HTTP_IDEMPOTENCY_KEY="till-order")

    assert response.status_code == 201
    answer = _redemption_statement(captured).rsplit("\nSELECT ", 1)[1]
    # The answer's subqueries run the CTEs in this order; the coupon's event, which nothing reads, runs after them.
    assert re.findall(r"FROM (\w+)\)", answer) == ["moved", "redemption", "webhook_event", "keyed", "counted"]
    series.refresh_from_db()
    assert series.redeemed_count == 1 == CouponRedemption.objects.filter(series=series).count()
    assert (
        IdempotencyRecord.objects.get(key="till-order").response_body["redemption_id"]
        == response.json()["redemption_id"]
    )


def test_a_limit_that_refuses_last_leaves_nothing_written_and_stores_the_refusal(
    pos, store, cached_clients, monkeypatch
):
    coupon = CouponFactory()
    CouponSeries.objects.filter(pk=coupon.series_id).update(redemption_series_limit=1, redeemed_count=1)
    # As if another till took the last redemption between this one's read and its write: the rules pass, and the
    # counter, written after the redemption row, its webhook event and the key, refuses.
    monkeypatch.setattr(rules, "redemption_reasons", lambda facts: [])

    response = pos.post(REDEEM, body(coupon, store), format="json", HTTP_IDEMPOTENCY_KEY="till-limit")

    assert response.status_code == 409
    assert response.json()["code"] == "series_redemption_limit_reached"
    coupon.refresh_from_db()
    assert coupon.status == "issued"
    assert not CouponRedemption.objects.filter(coupon=coupon).exists()
    assert not Event.objects.filter(type=events.COUPON_REDEEMED).exists()
    assert CouponSeries.objects.get(pk=coupon.series_id).redeemed_count == 1
    assert IdempotencyRecord.objects.get(key="till-limit").response_status == 409


def test_the_idempotency_record_has_no_foreign_key_check_and_no_client_index():
    table = IdempotencyRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT contype FROM pg_constraint WHERE conrelid = %s::regclass", [table])
        kinds = sorted(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table])
        indexes = sorted(row[0].split(" USING ", 1)[1] for row in cursor.fetchall())
    assert kinds == ["c", "p", "u"]  # the status check, the key, the (client, key) unique: no foreign key
    assert indexes == ["brin (created_at)", "btree (client_id, key)", "btree (id)"]


def test_deleting_a_client_still_deletes_its_idempotency_records():
    client, _ = api_client_create(name="care-gone", role="member_care", store_codes=[], actor=Actor.system("test"))
    IdempotencyRecord.objects.create(client=client, key="k", fingerprint="f", response_status=201)
    client.delete()
    assert not IdempotencyRecord.objects.filter(key="k").exists()
