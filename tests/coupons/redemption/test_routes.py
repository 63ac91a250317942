"""One real request through every route of the till's map (`coupons.redemption`), told apart by its statements.

SQLite has no compare-and-swap or CTE route; the PostgreSQL run (CI's first) takes every route, the ORM's too.
"""

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from coupons.models import Coupon, CouponEvent, CouponRedemption, CouponSeries
from coupons.redemption import routes
from coupons.redemption.routes import Route
from tests.coupons.factories import CouponFactory
from tests.coupons.redemption.till_requests import REDEEM, VALIDATE, body

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cached_clients")]


def run(pos, path, data, **kwargs):
    """The answer and the SQL of one request, the client already authenticated once (and so cached)."""
    pos.options(path)
    with CaptureQueriesContext(connection) as captured:
        response = pos.post(path, data, **kwargs)
    return response, [query["sql"] for query in captured.captured_queries]


def is_tills_read(sql):
    return "FROM (SELECT 1 AS one) one" in sql


def is_cte_write(sql):
    return sql.startswith("WITH ") and "INSERT INTO coupons_couponredemption" in sql


def is_orm_move(sql):
    return sql.startswith('UPDATE "coupons_coupon" SET "status"')


def redeemed(coupon, response):
    assert response.status_code == 201, response.content
    assert CouponRedemption.objects.filter(coupon=coupon, pk=response.json()["redemption_id"]).exists()
    assert CouponSeries.objects.get(pk=coupon.series_id).redeemed_count == 1


def drf(pos, store, monkeypatch):
    coupon = CouponFactory()
    response, statements = run(pos, REDEEM, body(coupon, store), format="multipart")
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")
    assert not any(is_tills_read(sql) for sql in statements)
    assert Coupon.objects.get(pk=coupon.pk).status == "issued"


@override_settings(COUPON_UNKNOWN_CODES_PER_MINUTE=1)
def blocked(pos, store, monkeypatch):
    coupon = CouponFactory()
    pos.post(VALIDATE, body(coupon, store, code="GUESS"), format="json")  # the client's one unknown code
    response, statements = run(pos, REDEEM, body(coupon, store), format="json")
    assert (response.status_code, response.json()["code"]) == (429, "too_many_unknown_codes")
    read, which = statements
    assert is_tills_read(read) and which.startswith('SELECT "key" FROM api_attemptwindow')
    assert not CouponRedemption.objects.exists()


def validate(pos, store, monkeypatch):
    coupon = CouponFactory()
    response, statements = run(pos, VALIDATE, body(coupon, store), format="json")
    assert response.json()["valid"] is True
    assert response.json()["coupon"]["id"] == coupon.pk
    (read,) = statements
    assert is_tills_read(read) and "coupons_coupon c" in read


def unknown_code(pos, store, monkeypatch):
    coupon = CouponFactory()
    response, statements = run(pos, REDEEM, body(coupon, store, code="NO-SUCH-CODE"), format="json")
    assert (response.status_code, response.json()["code"]) == (409, "coupon_not_found")
    assert is_tills_read(statements[0])
    assert any(sql.startswith("INSERT INTO api_attemptwindow") for sql in statements)  # counted
    assert not any(is_cte_write(sql) or is_orm_move(sql) or "FOR UPDATE" in sql for sql in statements)


def redeem_swap(pos, store, monkeypatch):
    coupon = CouponFactory()
    response, statements = run(pos, REDEEM, body(coupon, store), format="json")
    redeemed(coupon, response)
    read, write = statements
    assert is_tills_read(read) and is_cte_write(write) and "status = " in write
    assert CouponEvent.objects.filter(coupon=coupon, new_status="redeemed").count() == 1


def redeem_locked(pos, store, monkeypatch):
    coupon = CouponFactory(series__multi_use=True)
    response, statements = run(pos, REDEEM, body(coupon, store), format="json")
    redeemed(coupon, response)
    assert is_tills_read(statements[0])
    locked = [i for i, sql in enumerate(statements) if "FOR UPDATE OF c" in sql]
    written = [i for i, sql in enumerate(statements) if is_cte_write(sql)]
    assert len(locked) == len(written) == 1 and locked[0] < written[0]
    assert Coupon.objects.get(pk=coupon.pk).status == "issued"  # multi-use


def redeem_orm(pos, store, monkeypatch):
    # PostgreSQL takes this route too when told its database has no data-modifying CTEs
    monkeypatch.setattr(routes, "writes_in_one_statement", lambda: False)
    coupon = CouponFactory()
    response, statements = run(pos, REDEEM, body(coupon, store), format="json")
    redeemed(coupon, response)
    assert is_tills_read(statements[0])
    assert sum(is_orm_move(sql) for sql in statements) == 1
    assert any(sql.startswith('INSERT INTO "coupons_couponredemption"') for sql in statements)
    assert not any(is_cte_write(sql) for sql in statements)
    assert CouponEvent.objects.filter(coupon=coupon, new_status="redeemed").count() == 1


CASES = {
    Route.DRF: drf,
    Route.BLOCKED: blocked,
    Route.VALIDATE: validate,
    Route.UNKNOWN_CODE: unknown_code,
    Route.REDEEM_SWAP: redeem_swap,
    Route.REDEEM_LOCKED: redeem_locked,
    Route.REDEEM_ORM: redeem_orm,
}
POSTGRES_ONLY = {Route.REDEEM_SWAP, Route.REDEEM_LOCKED}


def test_every_route_of_the_map_has_a_case():
    assert set(CASES) == set(Route)


@pytest.mark.parametrize("case", [
    pytest.param(case, id=route.value, marks=[pytest.mark.postgres] if route in POSTGRES_ONLY else [])
    for route, case in CASES.items()
])  # fmt: skip
def test_a_request_takes_its_route(case, pos, store, monkeypatch):
    case(pos, store, monkeypatch)
