"""The member 360 in the admin: a read page with tabs and "Why not?", a separate profile form, search by each
identifier, and the actions member care takes, each one message in words and only with the permission."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from config.actors import Actor
from coupons.models import Coupon, CouponResend
from members.models import Member, PointsEntry
from members.services import points_adjust, till_refusal_record
from offers.models import Activation, OfferResponse
from offers.responses.services import offer_response_claim
from rewards.models import RewardRedemption
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.members.factories import MemberFactory
from tests.offers.factories import OfferFactory
from tests.rewards.factories import CertificateCodeFactory, RewardFactory

pytestmark = pytest.mark.django_db

CARE = Actor("care", "admin")


def page_of(member):
    return reverse("admin:members_member_change", args=[member.pk])


def act(client, member, action, **data):
    """Post the action and follow its redirect to the member's page, where its message is shown."""
    return client.post(reverse("admin:members_member_act", args=[member.pk, action]), data, follow=True)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def staff_client(client, *permissions):
    user = get_user_model().objects.create_user("agent", password="pw", is_staff=True)
    for name in ("members.view_member", *permissions):
        app_label, codename = name.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    client.force_login(user)
    return client


# --- the read page and the profile form ---------------------------------------------------------------------


def test_member_page_reads_first_with_every_tab_and_an_edit_button(admin_client):
    member = MemberFactory(first_name="Ines", last_name="Silva", points=120)

    response = admin_client.get(page_of(member))

    html = response.content.decode()
    assert "adminform" not in response.context
    for key in ("offers", "responses", "coupons", "rewards", "points", "history"):
        assert f'id="member-tab-panel-{key}"' in html
    assert reverse("admin:members_member_edit", args=[member.pk]) in html
    assert '<strong class="points-balance-summary">120</strong>' in html
    assert 'id="why-not"' in html


def test_edit_profile_is_its_own_page_and_saves_back_to_the_read_page(admin_client):
    member = MemberFactory(external_id="M-1", first_name="Old")
    url = reverse("admin:members_member_edit", args=[member.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "segments"}
    data.update(first_name="New", registered_at_0="2024-01-01", registered_at_1="00:00:00")

    response = admin_client.post(url, data)

    assert response.status_code == 302
    assert Member.objects.get(pk=member.pk).first_name == "New"


def test_a_viewer_sees_no_edit_button_and_no_action_forms(client):
    member = MemberFactory()
    CouponFactory(member=member)
    viewer = staff_client(client)

    html = viewer.get(page_of(member)).content.decode()

    assert reverse("admin:members_member_edit", args=[member.pk]) not in html
    assert "data-action=" not in html


def test_a_member_id_past_64_bits_is_not_found_not_an_error(admin_client):
    url = reverse("admin:members_member_act", args=[str(2**64), "resend"])

    assert admin_client.post(url, {"coupon": "1"}).status_code == 404


# --- search --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("term", ["+15557770000", "15557770000", "FIND.Me@Example.com", "M-77", "u-77", "Zoë Ok"])
def test_member_search_finds_by_each_identifier_and_by_name(admin_client, term):
    MemberFactory(external_id="M-77", email="find.me@example.com", mobile="+15557770000", user_id="u-77",
                  first_name="Zoë", last_name="Okafor")  # fmt: skip
    MemberFactory(external_id="M-88", first_name="Zoë", last_name="Rossi")

    results = admin_client.get(reverse("admin:members_member_changelist"), {"q": term}).context["cl"].result_list

    assert [member.external_id for member in results] == ["M-77"]


# --- actions -------------------------------------------------------------------------------------------------


def test_claim_an_offer_for_the_member(admin_client):
    member, offer = MemberFactory(), OfferFactory(name="Milk bonus")

    response = act(admin_client, member, "claim", offer=offer.pk)

    assert response.redirect_chain == [(page_of(member) + "#member-tab-offers", 302)]
    response_row = OfferResponse.objects.get(member=member, offer=offer)
    assert messages_of(response) == [f"Claimed Milk bonus for the member (response {response_row.pk})."]
    assert response_row.events.get().channel == "admin"


def test_claiming_an_expired_offer_says_why_in_words(admin_client):
    member, offer = MemberFactory(), OfferFactory(expire_at=timezone.now() - timedelta(days=1))

    response = act(admin_client, member, "claim", offer=offer.pk)

    assert messages_of(response) == ["Claim: The offer has expired."]
    assert not OfferResponse.objects.exists()


def test_activate_an_opt_in_offer(admin_client):
    member, offer = MemberFactory(), OfferFactory(opt_in=True, name="Coffee")

    response = act(admin_client, member, "activate", offer=offer.pk)

    assert messages_of(response) == ["Activated Coffee for the member."]
    assert Activation.objects.get(member=member, offer=offer).channel == "admin"


def test_cancel_a_response_of_the_member_only(admin_client):
    member, other = MemberFactory(), MemberFactory()
    mine = offer_response_claim(member=member, offer=OfferFactory(name="Bread"), actor=CARE)
    theirs = offer_response_claim(member=other, offer=OfferFactory(), actor=CARE)

    done = act(admin_client, member, "cancel_response", response=mine.pk)
    refused = act(admin_client, member, "cancel_response", response=theirs.pk)

    assert messages_of(done) == ["Canceled the response to Bread."]
    assert messages_of(refused) == ["Cancel: That response of this member no longer exists."]
    assert OfferResponse.objects.get(pk=mine.pk).status == "canceled"
    assert OfferResponse.objects.get(pk=theirs.pk).status == "pending"


def test_issue_a_coupon_of_a_series_then_the_limit_in_words(admin_client):
    member, series = MemberFactory(), CouponSeriesFactory(name="Spring", max_per_member=1)

    first = act(admin_client, member, "issue_coupon", series=series.pk)
    again = act(admin_client, member, "issue_coupon", series=series.pk)
    coupon = Coupon.objects.get(member=member)

    assert messages_of(first) == [f"Issued coupon {coupon.code} of Spring."]
    assert messages_of(again) == ["Issue a coupon: The member already holds as many coupons of this series as allowed."]
    assert coupon.events.get().actor == "admin"


def test_resend_a_coupon_and_refuse_a_revoked_one(admin_client):
    member = MemberFactory(mobile="+15550001111")
    issued, revoked = CouponFactory(member=member, code="CPN-A"), CouponFactory(member=member, revoked=True)

    done = act(admin_client, member, "resend", coupon=issued.pk)
    refused = act(admin_client, member, "resend", coupon=revoked.pk)

    assert messages_of(done) == ["Sent coupon CPN-A again to +15550001111."]
    assert messages_of(refused) == ["Resend: The coupon has been revoked."]
    assert CouponResend.objects.get().actor_channel == "admin"


def test_transfer_a_coupon_to_another_member_by_external_id(admin_client):
    member, other = MemberFactory(), MemberFactory(external_id="M-TO")
    coupon = CouponFactory(member=member, code="CPN-T")

    unknown = act(admin_client, member, "transfer", coupon=coupon.pk, to_member="M-NOBODY")
    done = act(admin_client, member, "transfer", coupon=coupon.pk, to_member="M-TO")

    assert messages_of(unknown) == ["Transfer: No member has that external id."]
    assert messages_of(done) == [f"Transferred coupon CPN-T to {other}."]
    assert Coupon.objects.get(pk=coupon.pk).member_id == other.pk


def test_award_a_reward_and_say_when_no_code_is_left(admin_client):
    member, reward = MemberFactory(), RewardFactory(name="Cinema")
    CertificateCodeFactory(reward=reward, code="CINE0001")

    done = act(admin_client, member, "award_reward", reward=reward.pk)
    empty = act(admin_client, member, "award_reward", reward=reward.pk)

    assert messages_of(done) == ["Awarded Cinema: certificate code CINE0001."]
    assert messages_of(empty) == ["Award: No unused certificate code is left for this reward or in the bank."]
    assert RewardRedemption.objects.get().channel == "admin"


def test_adjust_points_requires_a_reason_and_refuses_zero_and_overdrafts(admin_client):
    member = MemberFactory(points=100)

    no_reason = act(admin_client, member, "adjust_points", points="50", reason="")
    zero = act(admin_client, member, "adjust_points", points="0", reason="typo")
    overdraft = act(admin_client, member, "adjust_points", points="-500", reason="clawback")
    done = act(admin_client, member, "adjust_points", points="-40", reason="returned goods")

    assert messages_of(no_reason) == ["Adjust points: This field is required."]
    assert messages_of(zero) == ["Adjust points: An adjustment cannot be zero points."]
    assert messages_of(overdraft) == ["Adjust points: The member does not have enough points."]
    assert messages_of(done) == ["Adjusted points by -40: the balance is 60."]
    entry = PointsEntry.objects.filter(member=member).order_by("-id").first()
    assert (entry.points, entry.reason, entry.actor, entry.channel) == (-40, "returned goods", "admin", "admin")


@pytest.mark.parametrize("value", [str(2**63), str(-(2**63)), "1e400", "\x00", "9" * 400])
def test_extreme_ids_and_points_are_a_message_never_an_error(admin_client, value):
    member = MemberFactory(points=10)

    for action, field in (("resend", "coupon"), ("issue_coupon", "series"), ("award_reward", "reward"),
                          ("adjust_points", "points"), ("claim", "offer")):  # fmt: skip
        response = act(admin_client, member, action, **{field: value, "reason": "x"})
        assert response.status_code == 200
        assert len(messages_of(response)) == 1


def test_actions_need_their_permission_and_a_post(client):
    member = MemberFactory(points=10)
    coupon = CouponFactory(member=member)
    agent = staff_client(client, "coupons.add_couponresend")

    assert act(agent, member, "adjust_points", points="5", reason="x").status_code == 403
    assert messages_of(act(agent, member, "resend", coupon=coupon.pk))[0].startswith("Sent coupon")
    assert agent.get(reverse("admin:members_member_act", args=[member.pk, "resend"])).status_code == 405
    assert act(agent, member, "no_such_action").status_code == 403
    html = agent.get(page_of(member)).content.decode()
    assert 'data-action="resend"' in html and 'data-action="adjust_points"' not in html


# --- "Why not?" on the page ----------------------------------------------------------------------------------


def test_why_not_panel_answers_in_words_with_the_code_beside(admin_client):
    member = MemberFactory()
    offer = OfferFactory(name="Old sale", expire_at=timezone.now() - timedelta(days=1))

    html = admin_client.get(page_of(member), {"subject": f"offer:{offer.pk}"}).content.decode()

    assert 'id="why-not-answer"' in html
    assert '<li data-code="expired">The offer has expired. <code>expired</code></li>' in html


def test_why_not_panel_for_a_coupon_at_a_store_and_bill(admin_client, store):
    coupon = CouponFactory(series=CouponSeriesFactory(min_bill=20))

    html = admin_client.get(
        page_of(coupon.member), {"subject": f"coupon:{coupon.pk}", "store": store.code, "bill": "5", "at": ""}
    ).content.decode()

    assert 'data-code="bill_below_minimum"' in html and "The bill is below the series&#x27; minimum." in html


@pytest.mark.parametrize(
    "params",
    [
        {"subject": f"offer:{2**63}"},
        {"subject": "coupon:1\x00"},
        {"subject": "nothing"},
        {"subject": "offer:1", "store": "NOPE"},
        {"subject": "reward:1", "at": "not a time"},
        {"subject": "reward:1", "bill": "1e400"},
    ],
)
def test_why_not_panel_refuses_odd_questions_with_a_sentence(admin_client, params):
    RewardFactory()
    response = admin_client.get(page_of(MemberFactory()), params)

    assert response.status_code == 200
    assert 'class="m360-no why-not-errors"' in response.content.decode()


def test_member_page_queries_do_not_grow_with_the_members_rows(admin_client):
    member = MemberFactory(points=1000)

    def add_rows():
        CouponFactory(member=member)
        points_adjust(member=member, points=5, reason="goodwill", actor=CARE)
        offer_response_claim(member=member, offer=OfferFactory(), actor=CARE)
        till_refusal_record(member=member, store=None, action="redeem", code="X", reasons=["expired"], actor=CARE)

    def page_queries():
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(page_of(member)).status_code == 200
        return len(captured)

    add_rows()
    page_queries()
    few = page_queries()
    for _ in range(5):
        add_rows()

    assert page_queries() == few
