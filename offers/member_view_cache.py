"""Every offer as the member's offers list shows it, kept in each process and read again only when the offers
change; per request, only what is the member's own (and the limits' running totals) is read and judged.

A page of 500 offers used to read the offers and their components again, build 500 bodies and render them as
JSON: some 80 ms of Python a page, nearly all of it for what is the same for every member and every request.
Here each process holds, under the offers' rules version (`OfferRulesVersion`, moved by triggers in the same
transaction as any change to an offer or its components, migration 0007 and 0010), every offer in the list's
order with its rule facts and its own fields already written as JSON text, cut where each global limit's
running total goes (`used_count` moves with every award and is never kept). A page then costs one statement
(`page_counts`: the member's activations, fulfillments and segments and the limits' running totals, for the
page's offers only), the rules per offer (`rules.membership_offer_state`, computed once for offers that share
their facts and the member's counts) and a join of bytes.

The text is JSON as DRF's renderer writes it (compact, not ASCII-escaped, U+2028/U+2029 escaped), one body
per offer exactly as `membership_offer_body` builds it: tests/offers/test_member_offers_view_cache.py holds the
bytes to the serializer's.
"""

import threading
from dataclasses import dataclass, replace
from datetime import datetime

from django.db import connection
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from members.models import Member
from offers import rules
from offers.models import Activation, Fulfillment, OfferLimit

_encoder = JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def json_text(value) -> str:
    """`value` as DRF's JSONRenderer writes it."""
    return _encoder.encode(value).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def json_members(fields: dict) -> str:
    """The members of a JSON object without its braces: `"a":1,"b":2`."""
    return ",".join(f"{json_text(key)}:{json_text(value)}" for key, value in fields.items())


@dataclass(eq=False, slots=True)
class CachedOffer:
    offer_id: int
    facts: rules.OfferFacts  # global limits with used_count 0: the running totals are read per page
    global_kinds: tuple[str, ...]  # the kinds of the offer's global limits, in the order the body lists them
    zero: bytes  # the offer's own fields as JSON (no closing brace) with every global used_count 0
    pieces: tuple[bytes, ...]  # the same cut where each global limit's used_count goes
    fresh: tuple = ()  # (running totals, facts with them): the last ones seen, most pages see the same

    def facts_with(self, used: tuple[int, ...]) -> rules.OfferFacts:
        if not any(used):
            return self.facts
        last = self.fresh
        if last and last[0] == used:
            return last[1]
        by_kind = dict(zip(self.global_kinds, used, strict=True))
        limits = tuple(
            replace(limit, used_count=by_kind[limit.kind]) if limit.scope == rules.GLOBAL else limit
            for limit in self.facts.limits
        )
        facts = replace(self.facts, limits=limits)
        self.fresh = (used, facts)
        return facts


@dataclass(frozen=True)
class OfferView:
    """Every offer in the list's order (`offer_queryset()`'s), as loaded under `version`, its times written in
    the zone `zone_key` (the site's: nothing in the app serves another, but a request in another zone is answered
    by a view loaded for it)."""

    version: int | None
    zone_key: str
    offers: tuple[CachedOffer, ...]


_shared = {"view": None}  # replaced whole, never changed in place
_loading = threading.Lock()


def offer_view(*, version, zone) -> OfferView:
    """The view for `version` (read in one of the caller's statements): the one held, or loaded now.

    One thread of the process loads while the others asking for the same version wait for it: the load of
    thousands of offers costs more than every page read in the meantime. The version is read before the rows,
    so a change committed in between is loaded under the older version and loaded again on the next read.
    """
    zone_key = str(zone)
    view = _shared["view"]
    if view is not None and view.version == version and view.zone_key == zone_key:
        return view
    with _loading:
        view = _shared["view"]
        if view is None or view.version != version or view.zone_key != zone_key:
            view = _shared["view"] = offer_view_load(version=version, zone=zone)
    return view


def offer_view_load(*, version, zone=None) -> OfferView:
    """Every offer with its components (four statements), its facts and its text. Only plain values are kept
    (no model instances): thousands of objects held for good would make every full collection of the process
    the slower."""
    from offers.api.serializers import membership_offer_fields
    from offers.selectors import offer_facts, offer_queryset, offers_with_component_rows

    zone = zone or timezone.get_current_timezone()
    offers = offers_with_component_rows(list(offer_queryset().prefetch_related(None)))
    # Offers with the same facts share one object, so a page judges them once (`_MemberPage.state_text`).
    interned = {}
    cached = []
    for offer in offers:
        facts = offer_facts(offer)
        facts = interned.setdefault(facts, facts)
        kinds = tuple(limit.kind for limit in offer.limit_rows if limit.scope == rules.GLOBAL)
        pieces = _cut_text(membership_offer_fields(offer, zone=zone))
        zero = pieces[0] + b"".join(b"0" + piece for piece in pieces[1:])
        cached.append(CachedOffer(offer.pk, facts, kinds, zero, pieces if kinds else ()))
    return OfferView(version=version, zone_key=str(zone), offers=tuple(cached))


def _cut_text(fields: dict) -> tuple[bytes, ...]:
    pieces, text = [], "{"
    for number, (key, value) in enumerate(fields.items()):
        text += ("," if number else "") + json_text(key) + ":"
        if key != "limits":
            text += json_text(value)
            continue
        text += "["
        for index, limit in enumerate(value):
            text += "," if index else ""
            if limit["scope"] != rules.GLOBAL:
                text += json_text(limit)
                continue
            assert list(limit)[-1] == "used_count"
            rest = {name: item for name, item in limit.items() if name != "used_count"}
            pieces.append(text + "{" + json_members(rest) + ',"used_count":')
            text = "}"
        text += "]"
    pieces.append(text)
    return tuple(piece.encode() for piece in pieces)


# What is the member's own, for the page's offers only, in one statement: activations, fulfillment counts and
# the member's segments, and the running totals of the global limits that have moved (the others are 0).
_ACTIVATIONS, _FULFILLMENTS, _LIMITS = Activation._meta.db_table, Fulfillment._meta.db_table, OfferLimit._meta.db_table
_SEGMENTS = Member.segments.through._meta.db_table
_PAGE_COUNTS_SQL = f"""WITH page(id) AS ({{ids}})
SELECT 'A', a.offer_id, 1 FROM {_ACTIVATIONS} a WHERE a.member_id = %s AND a.offer_id IN (SELECT id FROM page)
UNION ALL SELECT 'F', f.offer_id, count(*) FROM {_FULFILLMENTS} f
    WHERE f.member_id = %s AND f.offer_id IN (SELECT id FROM page) GROUP BY f.offer_id
UNION ALL SELECT l.kind, l.offer_id, l.used_count FROM {_LIMITS} l
    WHERE l.scope = '{OfferLimit.Scope.GLOBAL}' AND l.used_count > 0 AND l.offer_id IN (SELECT id FROM page)
UNION ALL SELECT 'S', s.segment_id, 0 FROM {_SEGMENTS} s WHERE s.member_id = %s"""


@dataclass
class PageCounts:
    activated: set
    fulfillments: dict
    used: dict  # offer id -> {limit kind: running total}, for the totals above 0
    segment_ids: frozenset


def page_counts(*, member_id: int, offer_ids: list[int]) -> PageCounts:
    from offers.selectors import ids_value

    ids = ids_value(offer_ids)
    with connection.cursor() as cursor:
        cursor.execute(_PAGE_COUNTS_SQL.format(ids=ids.sql), [*ids.params, member_id, member_id, member_id])
        rows = cursor.fetchall()
    counts = PageCounts(activated=set(), fulfillments={}, used={}, segment_ids=frozenset())
    segments = []
    for tag, some_id, number in rows:
        if tag == "A":
            counts.activated.add(some_id)
        elif tag == "F":
            counts.fulfillments[some_id] = number
        elif tag == "S":
            segments.append(some_id)
        else:
            counts.used.setdefault(some_id, {})[tag] = number
    counts.segment_ids = frozenset(segments)
    return counts


class MemberOfferPages:
    """Every offer as one member sees it, for a paginator: counted and sliced in the process's view of the
    offers, so a page reads and judges only its own offers (the same statements whatever the program's size)."""

    def __init__(self, *, member: Member, at: datetime, version):
        self.member, self.at = member, at
        self.view = offer_view(version=version, zone=timezone.get_current_timezone())

    def count(self) -> int:
        return len(self.view.offers)

    def __len__(self) -> int:
        return len(self.view.offers)

    def __getitem__(self, index) -> list[bytes]:
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        entries = self.view.offers[index]
        if not entries:
            return []
        counts = page_counts(member_id=self.member.pk, offer_ids=[entry.offer_id for entry in entries])
        return _MemberPage(self.member, self.at, counts).rows(entries)


class _MemberPage:
    def __init__(self, member: Member, at: datetime, counts: PageCounts):
        from offers.selectors import member_local_date, member_offer_facts

        self.member, self.at, self.counts = member, at, counts
        self.today = member_local_date(at)
        self.member_facts = {}
        self.member_text = "," + json_text("member") + ":" + json_text(member.external_id) + ","
        self.states = {}  # (facts' id, activated, fulfillments) -> (facts, the body's closing text)
        self.closing = {}  # state -> the body's closing text
        self._member_offer_facts = member_offer_facts

    def rows(self, entries) -> list[bytes]:
        # The loop runs 500 times a page: what most offers need (no running total moved, the state of offers
        # alike already judged) is a few dict lookups.
        activated, fulfillments, moved_totals = self.counts.activated, self.counts.fulfillments, self.counts.used
        states, rows = self.states, []
        for entry in entries:
            offer_id = entry.offer_id
            moved = moved_totals.get(offer_id)
            if moved is None:
                body, facts = entry.zero, entry.facts
            else:
                used = tuple(moved.get(kind, 0) for kind in entry.global_kinds)
                pieces = entry.pieces
                body = pieces[0] + b"".join(b"%d%s" % pair for pair in zip(used, pieces[1:], strict=True))
                facts = entry.facts_with(used)
            is_activated, fulfilled = offer_id in activated, fulfillments.get(offer_id, 0)
            found = states.get((id(facts), is_activated, fulfilled))
            closing = found[1] if found is not None else self.state_text(facts, is_activated, fulfilled)
            rows.append(body + closing)
        return rows

    def state_text(self, facts: rules.OfferFacts, activated: bool, fulfillment_count: int) -> bytes:
        # Keyed by the facts' identity (offers with equal facts share one object, `offer_view_load`), kept
        # alive by the entry itself for as long as the key is.
        key = (id(facts), activated, fulfillment_count)
        found = self.states.get(key)
        if found is not None:
            return found[1]
        member_key = (activated, fulfillment_count)
        member_facts = self.member_facts.get(member_key)
        if member_facts is None:
            member_facts = self.member_facts[member_key] = self._member_offer_facts(
                member=self.member, segment_ids=self.counts.segment_ids, activated=activated,
                fulfillment_count=fulfillment_count,
            )  # fmt: skip
        state = rules.membership_offer_state(facts, member_facts, at=self.at, today=self.today)
        closing = self.closing.get(state)
        if closing is None:
            from offers.api.serializers import membership_offer_member_fields

            fields = membership_offer_member_fields(self.member, state)
            del fields["member"]
            closing = self.closing[state] = (self.member_text + json_members(fields) + "}").encode()
        self.states[key] = (facts, closing)
        return closing
