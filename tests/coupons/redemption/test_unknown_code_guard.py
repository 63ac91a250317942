"""A till's request checks the unknown-code block once, whichever way it ends."""

import json

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from tests.coupons.factories import CouponFactory
from tests.coupons.redemption.till_requests import REDEEM, VALIDATE, body
from tests.members.factories import OrgEntityFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cached_clients")]


def block_checks(pos, path, content, content_type="application/json"):
    """The answer, and the statements of the request that read the client's unknown-code limit."""
    pos.options(path)  # the client is cached from here on
    with CaptureQueriesContext(connection) as captured:
        response = pos.generic("POST", path, content, content_type=content_type)
    key = f"pos-client:{pos.api_client.pk}"
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT") and key in q["sql"]]
    return response, reads


def tills_read(sql):
    return "FROM (SELECT 1 AS one) one" in sql


def guards_read(sql):
    return sql.startswith('SELECT "key" FROM api_attemptwindow')


def requests(store):
    coupon, foreign = CouponFactory(), OrgEntityFactory(code="S-ELSEWHERE")
    yield "valid", VALIDATE, json.dumps(body(coupon, store)), 200
    yield "redeemed", REDEEM, json.dumps(body(CouponFactory(), store)), 201
    refusing = CouponFactory(series__min_bill=100)
    yield "a rule refuses", REDEEM, json.dumps(body(refusing, store)), 409
    yield "unknown code", REDEEM, json.dumps(body(coupon, store, code="NOPE")), 409
    yield "input error", REDEEM, json.dumps(body(coupon, store, bill_amount="many")), 400
    yield "store outside the client's scope", VALIDATE, json.dumps(body(coupon, foreign)), 403


def test_a_request_the_tills_read_answers_checks_the_block_in_that_read_only(pos, store):
    for name, path, content, status in requests(store):
        response, reads = block_checks(pos, path, content)
        assert response.status_code == status, (name, response.content)
        assert len(reads) == 1 and tills_read(reads[0]), name


def test_a_request_ended_before_the_tills_read_checks_the_block_once(pos):
    response, reads = block_checks(pos, REDEEM, b"{not json")
    assert response.status_code == 400
    assert len(reads) == 1 and guards_read(reads[0])


def test_drfs_path_checks_the_block_once(pos, store):
    response, reads = block_checks(pos, REDEEM, b"code=X", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert len(reads) == 1 and guards_read(reads[0])


@override_settings(COUPON_UNKNOWN_CODES_PER_MINUTE=1)
@pytest.mark.parametrize("content", [b"{not json", None], ids=["before the read", "seen by the read"])
def test_a_blocked_client_is_told_after_one_check(pos, store, content):
    coupon = CouponFactory()
    pos.post(VALIDATE, body(coupon, store, code="GUESS"), format="json")  # the client's limit, reached
    response, reads = block_checks(pos, VALIDATE, content or json.dumps(body(coupon, store)))
    assert (response.status_code, response.json()["code"]) == (429, "too_many_unknown_codes")
    # the till's read only says a limit is reached; the guard's one read says whose
    assert [tills_read(sql) for sql in reads] == ([] if content else [True]) + [False]
    assert guards_read(reads[-1])
