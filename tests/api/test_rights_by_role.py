"""The API contract's "Rights by role" table, walked over every endpoint the URL conf serves.

Each endpoint names its row of the table; the row says which roles may call it. The walk fails when an
endpoint is added without a row, when a view declares other roles than its row, and when a call by a
role outside the row is not refused with 403 (or one inside it is).
"""

from types import SimpleNamespace

import pytest
from django.urls import URLPattern, URLResolver

from config.api.permissions import roles_for
from config.api.roles import Role
from config.urls import api_v1

POS, CARE, MARKETER = Role.POS, Role.MEMBER_CARE, Role.MARKETER

# The rows of the table in API_CONTRACT.md, in its order.
SETUP = frozenset({MARKETER})
MEMBER_WRITES = frozenset({CARE, MARKETER})
ONE_MEMBER = frozenset({POS, CARE, MARKETER})
LISTS_FOR_ALL = frozenset({POS, CARE, MARKETER})  # offers and coupon series only
LISTS = frozenset({CARE, MARKETER})
COUPON_BY_CODE = frozenset({POS, CARE, MARKETER})
CLAIM_AND_REDEEM = frozenset({POS, CARE})
ISSUE = frozenset({POS, CARE, MARKETER})
AWARD_AND_RESEND = frozenset({CARE, MARKETER})
TILL = frozenset({POS})

ENDPOINTS = {
    # set-up (reading set-up objects is set-up too, except the lists the table opens wider)
    ("GET", "segments"): SETUP,
    ("POST", "segments"): SETUP,
    ("GET", "org-entities"): SETUP,
    ("POST", "org-entities"): SETUP,
    ("POST", "offers"): SETUP,
    ("PATCH", "offers/<int:offer_id>"): SETUP,
    ("POST", "offers/<int:offer_id>/discontinue"): SETUP,
    ("GET", "rewards"): SETUP,
    ("POST", "rewards"): SETUP,
    ("GET", "rewards/<int:reward_id>"): SETUP,
    ("POST", "certificate-codes/generate"): SETUP,
    ("POST", "certificate-codes/<str:code>/fulfill"): SETUP,
    ("POST", "coupon-series"): SETUP,
    ("PATCH", "coupon-series/<int:pk>"): SETUP,
    ("POST", "coupon-series/<int:pk>/uploads"): SETUP,
    ("POST", "coupon-series/<int:pk>/revoke"): SETUP,
    ("GET", "export-definitions"): SETUP,
    ("POST", "export-definitions"): SETUP,
    ("GET", "export-definitions/<int:pk>"): SETUP,
    ("PATCH", "export-definitions/<int:pk>"): SETUP,
    ("DELETE", "export-definitions/<int:pk>"): SETUP,
    ("POST", "export-definitions/<int:pk>/run"): SETUP,
    ("GET", "webhooks"): SETUP,
    ("POST", "webhooks"): SETUP,
    ("GET", "webhooks/<int:pk>"): SETUP,
    ("PATCH", "webhooks/<int:pk>"): SETUP,
    ("DELETE", "webhooks/<int:pk>"): SETUP,
    ("GET", "webhooks/<int:pk>/deliveries"): SETUP,
    ("POST", "webhook-deliveries/<int:pk>/retry"): SETUP,
    # create members, adjust points (and change a member's details)
    ("POST", "members"): MEMBER_WRITES,
    ("PATCH", "members/<str:external_id>"): MEMBER_WRITES,
    ("POST", "members/<str:external_id>/points"): MEMBER_WRITES,
    # one member by id and that member's offers, responses, coupons, codes and points
    ("GET", "members/<str:external_id>"): ONE_MEMBER,
    ("GET", "members/<str:external_id>/offers"): ONE_MEMBER,
    ("GET", "members/<str:external_id>/offers/<int:offer_id>"): ONE_MEMBER,
    ("GET", "members/<str:external_id>/offer-responses"): ONE_MEMBER,
    ("GET", "offer-responses/<int:response_id>"): ONE_MEMBER,
    ("GET", "members/<str:external_id>/coupons"): ONE_MEMBER,
    ("GET", "members/<str:external_id>/certificate-codes"): ONE_MEMBER,
    ("GET", "members/<str:external_id>/points"): ONE_MEMBER,
    # lists: offers and coupon series for every role (with one of each), the rest staff only
    ("GET", "offers"): LISTS_FOR_ALL,
    ("GET", "offers/<int:offer_id>"): LISTS_FOR_ALL,
    ("GET", "coupon-series"): LISTS_FOR_ALL,
    ("GET", "coupon-series/<int:pk>"): LISTS_FOR_ALL,
    ("GET", "members"): LISTS,
    ("GET", "offer-responses"): LISTS,
    ("GET", "certificate-codes"): LISTS,
    ("GET", "uploads/<int:pk>"): LISTS,
    ("GET", "uploads/<int:pk>/error-report"): LISTS,
    ("GET", "export-runs"): LISTS,
    ("GET", "export-runs/<int:pk>"): LISTS,
    ("GET", "export-runs/<int:pk>/file"): LISTS,
    ("GET", "audit-events"): LISTS,
    # reports
    ("GET", "reports/liability"): SETUP,
    # one coupon by code
    ("GET", "coupons/<str:code>"): COUPON_BY_CODE,
    ("GET", "coupons/<str:code>/image"): COUPON_BY_CODE,
    ("GET", "certificate-codes/<str:code>/image"): ONE_MEMBER,  # a till: the codes members hold
    # claim, activate, transition responses, redeem a reward
    ("POST", "members/<str:external_id>/offers/<int:offer_id>/claim"): CLAIM_AND_REDEEM,
    ("POST", "members/<str:external_id>/offers/<int:offer_id>/activate"): CLAIM_AND_REDEEM,
    ("POST", "offer-responses/<int:response_id>/transition"): CLAIM_AND_REDEEM,
    ("POST", "members/<str:external_id>/rewards/<int:reward_id>/redeem"): CLAIM_AND_REDEEM,
    # issue a coupon to a member
    ("POST", "coupon-series/<int:pk>/issue"): ISSUE,
    # award, reserve and assign rewards, resend or transfer a coupon
    ("POST", "rewards/<int:reward_id>/award"): AWARD_AND_RESEND,
    ("POST", "rewards/<int:reward_id>/reserve"): AWARD_AND_RESEND,
    ("POST", "reward-redemptions/<int:redemption_id>/assign"): AWARD_AND_RESEND,
    ("POST", "coupons/<str:code>/resend"): AWARD_AND_RESEND,
    ("POST", "coupons/<str:code>/transfer"): AWARD_AND_RESEND,
    # the till's own calls
    ("POST", "transactions"): TILL,
    ("POST", "transactions/<str:transaction_id>/returns"): TILL,
    ("POST", "offline-redemptions"): TILL,
    ("POST", "coupons/validate"): TILL,
    ("POST", "coupons/redeem"): TILL,
    ("POST", "coupon-redemptions/<int:pk>/reverse"): TILL,
    ("POST", "baskets/evaluate"): TILL,
    ("POST", "checkouts"): TILL,
    ("GET", "checkouts/<int:pk>"): TILL,
    ("POST", "checkouts/<int:pk>/commit"): TILL,
    ("POST", "checkouts/<int:pk>/cancel"): TILL,
}


def served_endpoints(patterns=api_v1, prefix=""):
    """(method, route) → view class for every API route and every method its view implements."""
    found = {}
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found.update(served_endpoints(pattern.url_patterns, route))
        elif isinstance(pattern, URLPattern):
            view = pattern.callback.view_class
            for method in ("get", "post", "patch", "put", "delete"):
                if hasattr(view, method):
                    found[(method.upper(), route)] = view
    return found


def sample_path(route):
    for kind, value in (("int", "999999"), ("str", "NOPE")):
        while f"<{kind}:" in route:
            start = route.index(f"<{kind}:")
            route = route[:start] + value + route[route.index(">", start) + 1 :]
    return f"/api/v1/{route}"


def test_every_endpoint_served_has_a_row_and_every_row_an_endpoint():
    assert set(served_endpoints()) == set(ENDPOINTS)


@pytest.mark.parametrize(("method", "route"), sorted(ENDPOINTS))
def test_each_view_declares_the_roles_of_its_row(method, route):
    view = served_endpoints()[(method, route)]()
    assert roles_for(view, SimpleNamespace(method=method)) == ENDPOINTS[(method, route)]


@pytest.mark.django_db
@pytest.mark.parametrize("role", [POS, CARE, MARKETER])
def test_each_role_is_refused_exactly_the_calls_outside_its_rows(make_api_client, store, role):
    client = make_api_client(role, stores=[store] if role == POS else [])
    wrong = []
    for (method, route), allowed in sorted(ENDPOINTS.items()):
        response = client.generic(method, sample_path(route), "{}", content_type="application/json")
        refused = response.status_code == 403 and response.json()["code"] == "permission_denied"
        if refused == (role in allowed):
            wrong.append((method, route, response.status_code))
    assert wrong == []
