"""The offers' earning rules in memory, indexed by what a basket can meet.

Recording a purchase used to read every live offer whose behaviour the basket might meet, with its
components, and build each one's facts in Python: linear in the size of the program. Instead each
process loads the rules of every offer with an earning mechanism once (the offer's dates, audiences,
limit definitions and mechanism; three queries) and keeps them under the version it read first
(`OfferRulesVersion`, changed by triggers in the same transaction as any change to those rows). A
purchase reads the version (one primary-key read) and reloads only when it moved. The index answers
which offers the basket can meet: product offers by SKU (a dict), spend offers by threshold (sorted, cut
with bisect), so the work per purchase grows with the offers a basket matches, not with the program.

What moves with every award is never cached: the limits' running totals and the member's activations
and fulfillments are read fresh, in one query (`member_offer_counts`), for the matched offers only, and on a
purchase only for those whose award they can decide (`IndexedOffer.reads_counts`).
"""

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.db import connection

from offers import rules
from offers.models import Activation, EarningMechanism, Fulfillment, Offer, OfferLimit, OfferRulesVersion


@dataclass(frozen=True)
class IndexedOffer:
    offer_id: int
    external_id: str
    facts: rules.OfferFacts  # global limits with used_count 0: the running totals are read per purchase
    earning: rules.EarningFacts
    global_limits: frozenset[str]  # the kinds of the offer's global limits
    # Whether the member's counts can change the rules' answer: the offer requires activation, or has a global
    # limit or a per-member fulfillment limit. For any other offer they decide nothing and are not read.
    reads_counts: bool = True

    def facts_with(self, global_used: dict[str, int]) -> rules.OfferFacts:
        """The offer's facts with its global limits' running totals as read now."""
        if not self.global_limits:
            return self.facts
        limits = tuple(
            replace(limit, used_count=global_used[limit.kind]) if limit.scope == rules.GLOBAL else limit
            for limit in self.facts.limits
        )
        return replace(self.facts, limits=limits)


@dataclass(frozen=True)
class OfferRulesIndex:
    version: int | None
    by_sku: dict[str, tuple[IndexedOffer, ...]] = field(default_factory=dict)
    spend: tuple[IndexedOffer, ...] = ()  # by min_amount
    spend_minimums: tuple[Decimal, ...] = ()

    def candidates(self, *, skus, total_amount: Decimal) -> list[IndexedOffer]:
        """Offers whose behaviour the basket can meet, in offer id order (the order global limits are locked in).

        As the SQL this replaces: a product offer for one of the basket's SKUs, a spend offer whose
        minimum the total reaches (one without a minimum never matched and still does not); the rules
        then decide (quantities, visibility, eligibility).
        """
        found = {}
        for sku in skus:
            for entry in self.by_sku.get(sku, ()):
                found[entry.offer_id] = entry
        for entry in self.spend[: bisect_right(self.spend_minimums, total_amount)]:
            found[entry.offer_id] = entry
        return [found[offer_id] for offer_id in sorted(found)]


_TABLE = OfferRulesVersion._meta.db_table
_VERSION_SQL = f"SELECT version FROM {_TABLE} WHERE id = 1"
# The version as a scalar subquery, for a caller that reads it in a statement it makes anyway.
VERSION_SUBQUERY = f"(SELECT version FROM {_TABLE} WHERE id = 1)"
UNREAD = object()  # no version read yet: `offer_rules_index` reads it
_shared = {"index": None}  # the index last loaded by any thread of the process (replaced whole, never changed)


def rules_version() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(_VERSION_SQL)
        row = cursor.fetchone()
    return None if row is None else row[0]


def offer_rules_index(*, version: int | object | None = UNREAD) -> OfferRulesIndex:
    """The index for the version in the database now: one read (or the `version` the caller read with another
    statement of its own, as `VERSION_SUBQUERY`), and a reload only when the version moved."""
    if version is UNREAD:
        version = rules_version()
    index = _shared["index"]
    if index is None or index.version != version:
        # The version is read before the rows: a change committed in between is loaded under the older
        # version, and the next purchase, reading the newer one, loads it again (never the reverse).
        index = _shared["index"] = offer_rules_index_load(version=version)
    return index


def loaded_index() -> OfferRulesIndex | None:
    """The index this process loaded last, whatever the version now (None before the first load)."""
    return _shared["index"]


def offer_rules_index_load(*, version: int | None) -> OfferRulesIndex:
    offers = Offer.objects.filter(earning_mechanism__isnull=False).select_related("earning_mechanism")
    offers = offers.prefetch_related("limits", "audiences").order_by("pk")
    by_sku, spend = defaultdict(list), []
    for offer in offers:
        entry = _indexed(offer)
        mechanism = offer.earning_mechanism
        if mechanism.behavior_type == EarningMechanism.Behavior.PURCHASE_PRODUCT:
            by_sku[mechanism.sku].append(entry)
        elif mechanism.behavior_type == EarningMechanism.Behavior.SPEND and mechanism.min_amount is not None:
            spend.append(entry)
    spend.sort(key=lambda entry: entry.earning.min_amount)
    return OfferRulesIndex(
        version=version,
        by_sku={sku: tuple(entries) for sku, entries in by_sku.items()},
        spend=tuple(spend),
        spend_minimums=tuple(entry.earning.min_amount for entry in spend),
    )


def earning_facts(mechanism: EarningMechanism) -> rules.EarningFacts:
    """The earning rule's facts from an offer's mechanism row (the index's, and a return's re-count of an award)."""
    return rules.EarningFacts(
        behavior_type=mechanism.behavior_type,
        award_type=mechanism.award_type,
        sku=mechanism.sku,
        min_quantity=mechanism.min_quantity,
        min_amount=mechanism.min_amount,
        points=mechanism.points,
        points_per_unit=mechanism.points_per_unit,
    )


def _indexed(offer: Offer) -> IndexedOffer:
    from offers.selectors import offer_facts

    mechanism = offer.earning_mechanism
    facts = offer_facts(offer)
    global_limits = frozenset(limit.kind for limit in facts.limits if limit.scope == rules.GLOBAL)
    member_limited = any(limit.scope == rules.MEMBER and limit.kind == rules.FULFILLMENT for limit in facts.limits)
    return IndexedOffer(
        offer_id=offer.pk,
        external_id=offer.external_id,
        facts=facts,
        earning=earning_facts(mechanism),
        global_limits=global_limits,
        reads_counts=facts.requires_activation or bool(global_limits) or member_limited,
    )


@dataclass(frozen=True)
class OfferCounts:
    activated: bool
    fulfillments: int
    global_used: dict[str, int]  # running total by limit kind, for the offer's global limits


# The counts of an offer that does not read them (`IndexedOffer.reads_counts`): none of them can decide its award.
NO_COUNTS = OfferCounts(activated=False, fulfillments=0, global_used={})

_ACTIVATIONS, _FULFILLMENTS = Activation._meta.db_table, Fulfillment._meta.db_table
_OFFERS, _LIMITS = Offer._meta.db_table, OfferLimit._meta.db_table


def _global_used_sql(kind: str) -> str:
    return (
        f"(SELECT used_count FROM {_LIMITS} l WHERE l.offer_id = o.id AND l.scope = '{OfferLimit.Scope.GLOBAL}' "
        f"AND l.kind = '{kind}' LIMIT 1)"
    )


# Plain SQL, put together once: building the ORM's query cost more than running it.
_COUNTS_COLUMNS = f"""o.id,
    EXISTS (SELECT 1 FROM {_ACTIVATIONS} a WHERE a.offer_id = o.id AND a.member_id = %s),
    (SELECT count(*) FROM {_FULFILLMENTS} f WHERE f.offer_id = o.id AND f.member_id = %s),
    {_global_used_sql(OfferLimit.Kind.FULFILLMENT)}, {_global_used_sql(OfferLimit.Kind.ACTIVATION)}"""
_COUNTS_FROM = f"FROM {_OFFERS} o WHERE o.id IN ({{marks}})"
_COUNTS_SQL = f"SELECT {_COUNTS_COLUMNS}, NULL {_COUNTS_FROM}"
_COUNTS_WITH_VERSION_SQL = f"SELECT {_COUNTS_COLUMNS}, {VERSION_SUBQUERY} {_COUNTS_FROM}"


def member_offer_counts(*, member_id: int, offer_ids: list[int]) -> dict[int, OfferCounts]:
    """What moves with every activation and award, for these offers, in one query: whether the member
    activated each, how many times it was fulfilled for them, and its global limits' running totals.
    An offer deleted since the index was loaded is missing from the answer."""
    return _counts(_COUNTS_SQL, member_id=member_id, offer_ids=offer_ids)[0]


def member_offer_counts_with_version(*, member_id: int, offer_ids: list[int]) -> tuple[dict[int, OfferCounts], object]:
    """`member_offer_counts` and the index's version, read in the same statement (`UNREAD` when no offer is left
    to answer), so a caller that chose the offers from the index it holds learns in that one statement whether
    the index is still current."""
    return _counts(_COUNTS_WITH_VERSION_SQL, member_id=member_id, offer_ids=offer_ids)


def _counts(sql: str, *, member_id: int, offer_ids: list[int]) -> tuple[dict[int, OfferCounts], object]:
    if not offer_ids:
        return {}, UNREAD
    with connection.cursor() as cursor:
        cursor.execute(sql.format(marks=", ".join(["%s"] * len(offer_ids))), [member_id, member_id, *offer_ids])
        rows = cursor.fetchall()
    counts = {}
    for offer_id, activated, fulfilled_count, used_fulfillment, used_activation, _version in rows:
        global_used = {rules.FULFILLMENT: used_fulfillment or 0, rules.ACTIVATION: used_activation or 0}
        counts[offer_id] = OfferCounts(
            activated=bool(activated), fulfillments=fulfilled_count or 0, global_used=global_used
        )
    return counts, rows[0][-1] if rows else UNREAD
