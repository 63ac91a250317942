"""Reads for offers and membership-offers. One member's view of every offer costs a fixed number of
queries, however many offers there are: the offers with their components (prefetched), then the
member's segments, activations and fulfillment counts, each in one query."""

import json
import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from audit.snapshots import prefixed, snapshot
from members.models import Member
from offers import member_view_cache, rules, rules_index
from offers.models import Activation, Audience, EarningMechanism, Fulfillment, MarketingContent, Offer, OfferLimit


@dataclass
class MembershipOffer:
    """An offer seen by one member: the offer itself plus the member's state for it."""

    offer: Offer
    member: Member
    state: rules.MembershipOfferState

    @property
    def id(self):
        return self.offer.pk


def offer_queryset() -> QuerySet[Offer]:
    """Offers with their components, read as `Offer.audience_rows`, `limit_rows` and `marketing_content_rows`."""
    return (
        Offer.objects.select_related("earning_mechanism")
        .prefetch_related(
            Prefetch("limits", queryset=OfferLimit.objects.all(), to_attr="_limits_rows"),
            Prefetch("audiences", queryset=Audience.objects.select_related("segment"), to_attr="_audiences_rows"),
            Prefetch("marketing_contents", queryset=MarketingContent.objects.all(), to_attr="_marketing_contents_rows"),
        )
        .order_by("-created_at", "-id")
    )


def offer_facts(offer: Offer) -> rules.OfferFacts:
    """The rule inputs of an offer fetched through offer_queryset() (no further queries)."""
    audiences = offer.audience_rows
    return rules.OfferFacts(
        requires_activation=offer.requires_activation,
        publish_at=offer.publish_at,
        expire_at=offer.expire_at,
        discontinued_at=offer.discontinued_at,
        limits=tuple(
            rules.LimitFacts(scope=limit.scope, kind=limit.kind, max_count=limit.max_count, used_count=limit.used_count)
            for limit in offer.limit_rows
        ),
        age_ranges=tuple((a.min_age, a.max_age) for a in audiences if a.type == "age"),
        required_segment_ids=frozenset(a.segment_id for a in audiences if a.type == "segment"),
    )


def offer_global_visible_status(offer: Offer, *, at: datetime | None = None) -> str:
    return rules.global_visible_status(offer_facts(offer), at=at or timezone.now())


def global_status_q(status: str, *, at: datetime) -> Q:
    """The SQL twin of rules.global_visible_status, so `?visible_status=` filters before paginating."""
    discontinued = Q(discontinued_at__isnull=False, discontinued_at__lte=at)
    unpublished = Q(publish_at__isnull=False, publish_at__gt=at)
    expired = Q(expire_at__isnull=False, expire_at__lte=at)
    reached = OfferLimit.objects.filter(
        offer=OuterRef("pk"), scope=OfferLimit.Scope.GLOBAL, used_count__gte=F("max_count")
    ).filter(Q(kind=OfferLimit.Kind.FULFILLMENT) | Q(kind=OfferLimit.Kind.ACTIVATION, offer__requires_activation=True))
    global_limit = Exists(reached)
    if status == rules.DISCONTINUED:
        return discontinued
    if status == rules.UNPUBLISHED:
        return ~discontinued & unpublished
    if status == rules.EXPIRED:
        return ~discontinued & ~unpublished & expired
    if status == rules.GLOBAL_LIMIT:
        return ~discontinued & ~unpublished & ~expired & global_limit
    if status == rules.VISIBLE:
        return ~discontinued & ~unpublished & ~expired & ~global_limit
    return Q(pk__in=[])


def ids_value(ids) -> RawSQL:
    """Row ids for an `__in` filter as one bound value (an array on PostgreSQL, a JSON list on SQLite), not one
    placeholder each: for a page's 500 offers, building and sending the IN list cost more than running the query."""
    ids = [int(pk) for pk in ids]
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)])


def member_local_date(at: datetime, time_zone: str | None = None):
    """The calendar date used for ages: in the store's zone for a purchase, else the site's zone."""
    tz = zoneinfo.ZoneInfo(time_zone) if time_zone else timezone.get_current_timezone()
    return timezone.localtime(at, tz).date()


def membership_offer_list(
    *, member: Member, at: datetime | None = None, offers=None, time_zone: str | None = None
) -> list[MembershipOffer]:
    """Every offer (or the given ones, fetched through offer_queryset()) as this member sees it."""
    at = at or timezone.now()
    offers = list(offer_queryset() if offers is None else offers)
    if not offers:
        return []
    offer_ids = [offer.pk for offer in offers]
    segment_ids = frozenset(member.segments.values_list("pk", flat=True))
    activated_ids = set(
        Activation.objects.filter(member=member, offer_id__in=ids_value(offer_ids)).values_list("offer_id", flat=True)
    )
    fulfillment_counts = dict(
        Fulfillment.objects.filter(member=member, offer_id__in=ids_value(offer_ids))
        .values("offer_id")
        .annotate(n=Count("id"))
        .values_list("offer_id", "n")
    )
    today = member_local_date(at, time_zone)
    rows = []
    for offer in offers:
        state = member_offer_state(
            offer_facts(offer), member=member, segment_ids=segment_ids, activated=offer.pk in activated_ids,
            fulfillment_count=fulfillment_counts.get(offer.pk, 0), at=at, today=today,
        )  # fmt: skip
        rows.append(MembershipOffer(offer=offer, member=member, state=state))
    return rows


def member_offer_state(
    facts: rules.OfferFacts, *, member: Member, segment_ids, activated: bool, fulfillment_count: int, at, today
) -> rules.MembershipOfferState:
    member_facts = member_offer_facts(
        member=member, segment_ids=segment_ids, activated=activated, fulfillment_count=fulfillment_count
    )
    return rules.membership_offer_state(facts, member_facts, at=at, today=today)


def member_offer_facts(*, member: Member, segment_ids, activated: bool, fulfillment_count: int) -> rules.MemberFacts:
    return rules.MemberFacts(
        birth_date=member.birth_date,
        segment_ids=segment_ids,
        activated=activated,
        activation_count=1 if activated else 0,
        fulfillment_count=fulfillment_count,
    )


@dataclass(frozen=True)
class EarnedAward:
    offer_id: int
    external_id: str
    points: int
    has_global_fulfillment_limit: bool
    earning: rules.EarningFacts | None = None  # the rule it was earned under


def membership_offers_earned(
    *,
    member: Member,
    at: datetime,
    time_zone: str | None,
    items: tuple[rules.BasketItem, ...],
    total_amount,
    rules_version: int | object | None = rules_index.UNREAD,
) -> list[EarnedAward]:
    """What this basket earns: every offer visible and eligible to the member at `at` whose behaviour the
    basket meets, with its points, in offer id order (so global limit rows are always locked in one order).

    The offers come from the in-memory index (`offers.rules_index`): one read of its version, then, only
    when the basket can meet some offer, one read of the member's counts and the limits' running totals
    for those offers and, when one of them requires segments, one of the member's segments. However many
    offers the program runs. `rules_version`, when given, is the index's version as the caller read it in one of
    its own statements (`rules_index.VERSION_SUBQUERY`), saving that read.
    """
    candidates, counts = _offers_matched(member=member, items=items, total_amount=total_amount, version=rules_version)
    if not candidates:
        return []
    # The member's segments matter only to an offer that requires some (every offer's required set is a subset of
    # any member's segments when it is empty): read them only then.
    needs_segments = any(entry.facts.required_segment_ids for entry in candidates)
    segment_ids = frozenset(member.segments.values_list("pk", flat=True)) if needs_segments else frozenset()
    today = member_local_date(at, time_zone)
    units_by_sku = rules.basket_units(items)
    # Most matched offers see the member alike (not activated, never fulfilled): their facts are built once.
    member_facts: dict[tuple[bool, int], rules.MemberFacts] = {}
    earned = []
    for entry in candidates:
        fresh = counts.get(entry.offer_id)
        if fresh is None:  # deleted since the index was loaded
            continue
        key = (fresh.activated, fresh.fulfillments)
        facts = member_facts.get(key)
        if facts is None:
            facts = member_facts[key] = member_offer_facts(
                member=member, segment_ids=segment_ids, activated=fresh.activated, fulfillment_count=fresh.fulfillments
            )
        if not rules.member_eligible(entry.facts_with(fresh.global_used), facts, at=at, today=today):
            continue
        points = rules.earned_points(entry.earning, total_amount=total_amount, units_by_sku=units_by_sku)
        if points > 0:
            has_limit = rules.FULFILLMENT in entry.global_limits
            earned.append(EarnedAward(entry.offer_id, entry.external_id, points, has_limit, entry.earning))
    return earned


def _offers_matched(*, member: Member, items, total_amount, version) -> tuple[list, dict]:
    """The index's offers the basket can meet, with the member's counts for them. With the version unread and an
    index loaded, the counts' statement reads the version too: the index is used as it is when the version has
    not moved, and read again (with the counts) only when it has."""
    skus = {item.sku for item in items}
    loaded = rules_index.loaded_index() if version is rules_index.UNREAD else None
    if loaded is not None:
        candidates = loaded.candidates(skus=skus, total_amount=total_amount)
        if candidates:
            offer_ids = [entry.offer_id for entry in candidates]
            counts, version = rules_index.member_offer_counts_with_version(member_id=member.pk, offer_ids=offer_ids)
            if version == loaded.version:
                return candidates, counts
    index = rules_index.offer_rules_index(version=version)
    candidates = index.candidates(skus=skus, total_amount=total_amount)
    if not candidates:
        return [], {}
    # The version is read: the counts are read only for the offers they can decide (most offers of a program have
    # no limit and no opt-in), and not at all when there are none; a purchase meeting 20 such offers then costs no
    # statement here. (An offer deleted since the version was read fails the purchase's foreign key instead of
    # being skipped: offers with awards cannot be deleted, and their deletion changes the version.)
    offer_ids = [entry.offer_id for entry in candidates if entry.reads_counts]
    counts = rules_index.member_offer_counts(member_id=member.pk, offer_ids=offer_ids) if offer_ids else {}
    for entry in candidates:
        if not entry.reads_counts:
            counts[entry.offer_id] = rules_index.NO_COUNTS
    return candidates, counts


@dataclass(frozen=True, slots=True)
class LimitRow:
    scope: str
    kind: str
    max_count: int
    used_count: int


@dataclass(frozen=True, slots=True)
class SegmentCode:
    code: str


@dataclass(frozen=True, slots=True)
class AudienceRow:
    type: str
    min_age: int | None
    max_age: int | None
    segment_id: int | None
    segment: SegmentCode | None


@dataclass(frozen=True, slots=True)
class MarketingContentRow:
    locale: str
    title: str
    description: str
    image_url: str


def offers_with_component_rows(offers: list[Offer]) -> list[Offer]:
    """The offers with their components read as `offer_queryset()` reads them (the same three queries, the same
    order), as plain rows with the fields the member's view reads instead of model instances: a page of 500
    offers built some 3,000 component instances, most of its time."""
    by_offer = {offer.pk: offer for offer in offers}
    for offer in offers:
        offer._limits_rows, offer._audiences_rows, offer._marketing_contents_rows = [], [], []
    if not offers:
        return offers
    limits = OfferLimit.objects.filter(offer_id__in=ids_value(by_offer)).order_by("id")
    for offer_id, *values in limits.values_list("offer_id", "scope", "kind", "max_count", "used_count"):
        by_offer[offer_id]._limits_rows.append(LimitRow(*values))
    audiences = Audience.objects.filter(offer_id__in=ids_value(by_offer)).order_by("id")
    fields = ("offer_id", "type", "min_age", "max_age", "segment_id", "segment__code")
    for offer_id, kind, min_age, max_age, segment_id, code in audiences.values_list(*fields):
        segment = None if segment_id is None else SegmentCode(code)
        by_offer[offer_id]._audiences_rows.append(AudienceRow(kind, min_age, max_age, segment_id, segment))
    contents = MarketingContent.objects.filter(offer_id__in=ids_value(by_offer)).order_by("locale")
    for offer_id, *values in contents.values_list("offer_id", "locale", "title", "description", "image_url"):
        by_offer[offer_id]._marketing_contents_rows.append(MarketingContentRow(*values))
    return offers


def member_with_rules_version() -> QuerySet[Member]:
    """Members read with the offers' rules version in the same statement (`offer_rules_version`), for
    `membership_offer_rows`."""
    return Member.objects.annotate(offer_rules_version=RawSQL(rules_index.VERSION_SUBQUERY, ()))


def membership_offer_rows(*, member: Member, at: datetime, visible_status: str | None = None, eligible=None):
    """The member's rows for a list endpoint, in `offer_queryset()` order, filtered by per-member status and
    eligibility.

    Unfiltered: `member_view_cache.MemberOfferPages`, counted and sliced in the process's view of the offers,
    its rows JSON text (the version it is read under is the one read with the member, when it was:
    `member_with_rules_version`). Filtered: the per-member rules decide, over only
    the offers whose global status allows the answer (an offer discontinued, unpublished or expired is that
    for every member; a per-member status, `visible` and `eligible` need the offer visible or at a global
    limit, which an activated member may be exempt from), so the work grows with those offers.
    """
    if visible_status is None and eligible is None:
        version = getattr(member, "offer_rules_version", rules_index.UNREAD)
        if version is rules_index.UNREAD:
            version = rules_index.rules_version()
        return member_view_cache.MemberOfferPages(member=member, at=at, version=version)
    offers = offer_queryset()
    if visible_status in (rules.DISCONTINUED, rules.UNPUBLISHED, rules.EXPIRED):
        offers = offers.filter(global_status_q(visible_status, at=at))
    elif visible_status is not None or eligible:
        offers = offers.filter(global_status_q(rules.VISIBLE, at=at) | global_status_q(rules.GLOBAL_LIMIT, at=at))
    return [
        row
        for row in membership_offer_list(member=member, at=at, offers=offers)
        if (not visible_status or row.state.visible_status == visible_status)
        and (eligible is None or row.state.eligible == eligible)
    ]


def membership_offer_get(*, member: Member, offer_id: int, at: datetime | None = None) -> MembershipOffer:
    """One offer as this member sees it; Offer.DoesNotExist when there is no such offer."""
    offer = offer_queryset().get(pk=offer_id)
    return membership_offer_list(member=member, at=at, offers=[offer])[0]


def offer_audit_snapshot(*, offer_id: int) -> dict:
    """The offer as stored, components flattened (`limits[global fulfillment].max_count`), for the audit trail.

    Components are keyed by what identifies them to a marketer (scope and kind, locale; audiences by their
    order), so replacing a component list with the same rows records no change.
    """
    stored = Offer.objects.get(pk=offer_id)
    values = snapshot(stored)
    mechanism = EarningMechanism.objects.filter(offer_id=offer_id).first()
    if mechanism is not None:
        values.update(prefixed("earning_mechanism", snapshot(mechanism, exclude=["offer"])))
    for limit in OfferLimit.objects.filter(offer_id=offer_id).order_by("pk"):
        values.update(prefixed(f"limits[{limit.scope} {limit.kind}]", snapshot(limit, exclude=["offer"])))
    for content in MarketingContent.objects.filter(offer_id=offer_id).order_by("pk"):
        values.update(prefixed(f"marketing_contents[{content.locale}]", snapshot(content, exclude=["offer"])))
    for number, audience in enumerate(Audience.objects.filter(offer_id=offer_id).order_by("pk"), start=1):
        values.update(prefixed(f"audiences[{number}]", snapshot(audience, exclude=["offer"])))
    return values
