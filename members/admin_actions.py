"""What member care does from a member's page: each action a small POST form that calls the service which owns
the act, as the staff user through the admin channel, and answers with one message in words.

An action is offered, and taken, only when the user's Django permissions allow it.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from config import ranges
from config.actors import Actor
from config.errors import DomainError
from config.text import (
    COUPON_REASON_SENTENCES,
    OFFER_ACTION_REASON_SENTENCES,
    POINTS_REASON_SENTENCES,
    REWARD_REASON_SENTENCES,
    reason_sentence,
)
from coupons.issuance.services import coupon_issue
from coupons.lifecycle.transfer import coupon_transfer
from coupons.models import Coupon, CouponSeries
from coupons.notify.resend import coupon_resend
from offers import rules as offer_rules
from offers.models import Offer, OfferResponse
from offers.responses.services import offer_response_claim, offer_response_transition
from offers.services import offer_activate
from rewards.models import Reward
from rewards.services import reward_award

from .models import Member
from .services import points_adjust


def refusal_words(exc: DomainError) -> str:
    """A refusal as sentences: each reason's words, else the error's own message."""
    if not exc.reasons:
        return exc.message
    sentence_maps = (offer_rules.STATUS_EXPLANATIONS, OFFER_ACTION_REASON_SENTENCES, COUPON_REASON_SENTENCES,
                     REWARD_REASON_SENTENCES, POINTS_REASON_SENTENCES)  # fmt: skip
    return " ".join(reason_sentence(code, *sentence_maps) for code in exc.reasons)


class ObjectIdField(forms.IntegerField):
    """A row's id, bounded so a huge number is a form error and never reaches the database."""

    def __init__(self, **kwargs):
        super().__init__(widget=forms.HiddenInput, **ranges.OBJECT_ID.bounds, **kwargs)


class MemberForm(forms.Form):
    """An action's form, told the member it acts on so it can judge rows against them."""

    def __init__(self, *args, member: Member, **kwargs):
        super().__init__(*args, **kwargs)
        self.member = member


def row_form(field: str, rows: Callable[[Member], QuerySet], what: str) -> type[MemberForm]:
    """The form of an action on one row: its id, found among `rows(member)` (another member's row is not found)."""

    def clean(form):
        row = rows(form.member).filter(pk=form.cleaned_data[field]).first()
        if row is None:
            raise forms.ValidationError(f"That {what} no longer exists.")
        return row

    return type(f"{field.capitalize()}ActionForm", (MemberForm,), {field: ObjectIdField(), f"clean_{field}": clean})


OfferActionForm = row_form("offer", lambda member: Offer.objects.all(), "offer")
ResponseActionForm = row_form(
    "response",
    lambda member: OfferResponse.objects.select_related("offer", "member").filter(member=member),
    "response of this member",
)
SeriesActionForm = row_form("series", lambda member: CouponSeries.objects.all(), "coupon series")
CouponActionForm = row_form(
    "coupon",
    lambda member: Coupon.objects.select_related("series", "member").filter(member=member),
    "coupon of this member",
)
RewardActionForm = row_form("reward", lambda member: Reward.objects.all(), "reward")


class TransferForm(CouponActionForm):
    to_member = forms.CharField(max_length=64, label="To member (external id)")

    def clean_to_member(self):
        found = Member.objects.filter(external_id=self.cleaned_data["to_member"].strip()).first()
        if found is None:
            raise forms.ValidationError("No member has that external id.")
        return found


class AdjustPointsForm(MemberForm):
    points = forms.IntegerField(
        **ranges.POINTS_ADJUSTMENT.bounds, help_text="Positive to add, negative to take away; never 0."
    )
    reason = forms.CharField(max_length=255, help_text="Why: member care's note, kept in the ledger and history.")

    def clean_points(self):
        if self.cleaned_data["points"] == 0:
            raise forms.ValidationError(reason_sentence("zero_points", POINTS_REASON_SENTENCES))
        return self.cleaned_data["points"]


def _claim(member, data, actor):
    response = offer_response_claim(member=member, offer=data["offer"], actor=actor)
    return f"Claimed {data['offer'].name} for the member (response {response.pk})."


def _activate(member, data, actor):
    offer_activate(member=member, offer=data["offer"], actor=actor)
    return f"Activated {data['offer'].name} for the member."


def _cancel_response(member, data, actor):
    response = data["response"]
    offer_response_transition(
        response=response, to_status=OfferResponse.Status.CANCELED, actor=actor, reason="canceled by member care"
    )
    return f"Canceled the response to {response.offer.name}."


def _issue_coupon(member, data, actor):
    result = coupon_issue(series=data["series"], member=member, actor=actor)
    if result.resent:
        return f"The member already holds a valid coupon of {data['series'].name} ({result.coupon.code}); it stands."
    return f"Issued coupon {result.coupon.code} of {data['series'].name}."


def _resend(member, data, actor):
    resend = coupon_resend(coupon=data["coupon"], actor=actor)
    to = resend.recipient or "the member (no mobile number on file)"
    return f"Sent coupon {data['coupon'].code} again to {to}."


def _transfer(member, data, actor):
    coupon_transfer(coupon=data["coupon"], to_member=data["to_member"], actor=actor)
    return f"Transferred coupon {data['coupon'].code} to {data['to_member']}."


def _award(member, data, actor):
    redemption = reward_award(member=member, reward=data["reward"], actor=actor)
    return f"Awarded {data['reward'].name}: certificate code {redemption.certificate_code.code}."


def _adjust_points(member, data, actor):
    entry = points_adjust(member=member, points=data["points"], reason=data["reason"], actor=actor)
    return f"Adjusted points by {data['points']:+,}: the balance is {entry.balance_after:,}."


@dataclass(frozen=True)
class MemberAction:
    name: str
    label: str
    permission: str
    form: type[MemberForm]
    run: Callable  # (member, cleaned_data, actor) -> success sentence
    tab: str


MEMBER_ACTIONS = {
    action.name: action
    for action in (
        MemberAction("claim", "Claim", "offers.add_offerresponse", OfferActionForm, _claim, "offers"),
        MemberAction("activate", "Activate", "offers.add_activation", OfferActionForm, _activate,
                     "offers"),
        MemberAction("cancel_response", "Cancel", "offers.change_offerresponse", ResponseActionForm,
                     _cancel_response, "responses"),
        MemberAction("issue_coupon", "Issue a coupon", "coupons.add_coupon", SeriesActionForm,
                     _issue_coupon, "coupons"),
        MemberAction("resend", "Resend", "coupons.add_couponresend", CouponActionForm, _resend,
                     "coupons"),
        MemberAction("transfer", "Transfer", "coupons.change_coupon", TransferForm, _transfer,
                     "coupons"),
        MemberAction("award_reward", "Award", "rewards.add_rewardredemption", RewardActionForm,
                     _award, "rewards"),
        MemberAction("adjust_points", "Adjust points", "members.add_pointsentry", AdjustPointsForm,
                     _adjust_points, "points"),
    )
}  # fmt: skip


def member_or_404(object_id: str) -> Member:
    """The member of an admin URL; an id no row can have (not a number, past 64 bits) is a 404, not a query."""
    if not str(object_id).isdigit() or int(object_id) not in ranges.OBJECT_ID:
        raise Http404("No such member.")
    return get_object_or_404(Member, pk=int(object_id))


def allowed_actions(user) -> set[str]:
    return {name for name, action in MEMBER_ACTIONS.items() if user.has_perm(action.permission)}


def member_action_view(model_admin, request, object_id, action_name):
    """Take one action on one member, then back to the member's page with one message."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    action = MEMBER_ACTIONS.get(action_name)
    if action is None or not request.user.has_perm(action.permission):
        raise PermissionDenied
    member = member_or_404(object_id)
    if not model_admin.has_view_permission(request, member):
        raise PermissionDenied
    back = reverse("admin:members_member_change", args=[member.pk]) + f"#member-tab-{action.tab}"
    form = action.form(request.POST, member=member)
    if not form.is_valid():
        problems = " ".join(str(error) for errors in form.errors.values() for error in errors)
        model_admin.message_user(request, f"{action.label}: {problems}", level=messages.ERROR)
        return redirect(back)
    try:
        done = action.run(member, form.cleaned_data, Actor.from_admin_user(request.user))
    except DomainError as exc:
        model_admin.message_user(request, f"{action.label}: {refusal_words(exc)}", level=messages.ERROR)
    else:
        model_admin.message_user(request, done, level=messages.SUCCESS)
    return redirect(back)
