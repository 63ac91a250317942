"""One chunk of an upload, set-based: a few queries and one insert for thousands of rows.

The rows of a chunk are judged in file order, as the row-at-a-time upload did (and as
tests/coupons/issuance/reference_uploads.py still does, for the comparison test):

1. each row's cells are checked in Python (forbidden characters, code format, identifier format);
2. the identifiers are resolved with one query per few thousand values (the first member by id, as before);
3. the members' standing in the series (coupons held, last issue, a valid coupon to resend, the allowed
   list, recent coupons of excluded series) is read with one grouped query each;
4. the issual rules (`coupons.issuance.rules.issual_reasons`, the one rule set every path shares) are applied
   row by row in file order over that standing, which each issue updates: the fourth row naming a member with
   a limit of three sees the three before it;
5. the coupons are written with one insert (`coupons.issuance.bulk.issued_coupons_write`, COPY on PostgreSQL)
   or, for uploaded codes, one COPY of the codes; claims of uploaded codes and re-issues of revoked ones go
   through the coupon status writer.

The caller holds the upload and series rows locked and commits the chunk whole with its report lines.
"""

import io
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import BooleanField, CharField, Count, F, Func, Max, Q, Value
from django.db.models.functions import Upper

from config.actors import Actor
from config.lookups import int_array_literal  # also registers __in_array
from config.text import FORBIDDEN_CHARACTERS, printable_label
from coupons.issuance import rules
from coupons.issuance.bulk import issued_coupons_write
from coupons.issuance.copy_binary import COLUMNS as COPY_COLUMNS
from coupons.issuance.copy_binary import (
    EVENT_COLUMNS,
    OUTBOX_COLUMNS,
    coupon_events_payload,
    issued_coupons_payload,
    thin_events_payload,
)
from coupons.issuance.services import coupon_times
from coupons.lifecycle.status import (
    coupon_event,
    coupon_transition,
    coupons_created_events_record,
    coupons_transition,
)
from coupons.models import (
    Coupon,
    CouponEvent,
    CouponSeries,
    SeriesAllowedMember,
    Upload,
    UploadEventsPending,
    UploadSeenCode,
)
from coupons.notify.limits import series_note_issued
from coupons.series.capacity import codes_left
from coupons.series.codes import CODE_RE
from coupons.series.services import series_allow_members
from members import validators
from members.models import Member
from webhooks import events
from webhooks.models import Event
from webhooks.outbox import events_kick
from webhooks.payloads import COUPON, coupon_emit, coupons_emit_thin

MALFORMED_ROW = "malformed_row"
DUPLICATE_CODE = "duplicate_code"
# Values per lookup elsewhere than PostgreSQL (where one array literal takes any number): within SQLite's
# 32,766 variables.
LOOKUP_BATCH = 30_000
_ARRAY_QUOTES = str.maketrans({"\\": "\\\\", '"': '\\"'})

_CHECKS = {
    "external_id": validators.validate_external_id,
    "mobile": validators.validate_mobile,
    "email": validators.validate_email,
    "user_id": validators.validate_user_id,
}


@dataclass(frozen=True)
class Layout:
    """Where the columns an upload reads are in its file's rows."""

    kind: str
    width: int  # named columns; cells beyond them are ignored, missing ones are empty
    identifier: str | None
    identifier_at: int | None
    code_at: int | None


@dataclass
class ChunkOutcome:
    succeeded: int = 0
    failed: int = 0
    issues: list[tuple[int, str, str]] = field(default_factory=list)  # (row, identifier, reason code)
    events_pending: list[int] = field(default_factory=list)  # UploadEventsPending rows the chunk wrote


@dataclass(slots=True)
class _Row:
    number: int
    label: str
    key: str | None = None  # the normalised identifier
    code: str | None = None
    member: int | None = None
    active: bool = True
    names_member: bool = False
    problems: list[str] = field(default_factory=list)


@dataclass
class _Standing:
    """What the issual rules need about one member in the series, kept up to date as the chunk issues."""

    held: int = 0
    last_issued_at: object = None
    has_valid: bool = False
    allowed: bool = False
    excluded: bool = False
    common_taken: bool = False


def upload_chunk_prepare(*, layout: Layout, rows) -> list[_Row]:
    """One chunk of (row number, cells) read and checked, its identifiers resolved to members.

    Nothing here depends on the series or on earlier chunks (members are read, never written, by an
    upload), so the next chunk may be prepared on another connection while this one is being written."""
    cells_of_chunk = "".join(itertools.chain.from_iterable(cells for _, cells in rows))
    parse = _parser(layout, clean=not FORBIDDEN_CHARACTERS.search(cells_of_chunk))
    del cells_of_chunk
    parsed = [parse(number, cells) for number, cells in rows]
    if layout.identifier:
        _resolve(parsed, layout.identifier)
    return parsed


def upload_chunk_apply(
    *, upload: Upload, series: CouponSeries, layout: Layout, rows: list[_Row], actor: Actor, now,
    code_index_first: bool = False, events_later: bool = False,
):  # fmt: skip
    """Judge and write one prepared chunk (`upload_chunk_prepare`); the counts and report lines it adds.

    `code_index_first` (codes uploads): look up only the codes of shared coupons, which the unique code index
    does not hold, and let that index find any other code in the program: the insert then fails with an
    IntegrityError, the chunk's transaction rolls back whole, and the caller runs the chunk again without it.
    A file of new codes (the usual one) spares a lookup a code; a code held already costs the chunk a rerun.

    `events_later` (PostgreSQL, outside a caller's transaction): the events of the coupons the chunk issues are
    left to `upload_events_pending_write` on another connection, the chunk writing only an UploadEventsPending
    row (`outcome.events_pending`)."""
    outcome = ChunkOutcome()
    sink = _Events(upload=upload, later=events_later, pending=outcome.events_pending)
    if layout.kind == Upload.Kind.MEMBERS:
        _members_chunk(series=series, rows=rows, actor=actor, now=now, sink=sink)
    else:
        _codes_chunk(upload=upload, series=series, rows=rows, actor=actor, now=now, code_index_first=code_index_first,
                     sink=sink)  # fmt: skip
    for row in rows:
        if row.problems:
            outcome.failed += 1
            outcome.issues.extend((row.number, row.label, code) for code in row.problems)
        else:
            outcome.succeeded += 1
    return outcome


def _parser(layout: Layout, *, clean: bool):
    """The function reading one row's cells for files of `layout` (the chunk's hottest loop, so kept lean).

    `clean`: no cell of the chunk holds a forbidden character (one search over the whole chunk said so),
    which spares a search a row."""
    width, codes, named = layout.width, layout.kind == Upload.Kind.CODES, layout.identifier is not None
    # A column the header does not name is read as empty: its index is then past any row's end.
    identifier_at = layout.identifier_at if layout.identifier_at is not None else width
    code_at = layout.code_at if layout.code_at is not None else width
    forbidden, code_format = FORBIDDEN_CHARACTERS.search, CODE_RE.match

    def parse(number: int, cells: list[str]) -> _Row:
        if len(cells) > width:
            cells = cells[:width]
        count = len(cells)
        identifier = cells[identifier_at].strip() if identifier_at < count else ""
        code = cells[code_at].strip() if code_at < count else ""
        label = identifier if named else code
        if not clean and forbidden("".join(cells)):  # NUL or a lone surrogate in any named cell
            return _Row(number, printable_label(label)[:255], problems=[MALFORMED_ROW])
        if not codes:
            return _Row(number, label[:255], identifier)
        code = code.upper()
        if not code_format(code):
            return _Row(number, label[:255], problems=[MALFORMED_ROW])
        # Without a member, a code to keep for later issues.
        return _Row(number, label[:255], identifier or None, code, names_member=bool(identifier))

    return parse


def identifier_key(identifier: str, value: str) -> str | None:
    """The value a member is looked up by, or None when it is not a valid identifier of that kind."""
    if identifier == "mobile":
        value = validators.normalize_mobile(value)
    try:
        _CHECKS[identifier](value)
    except ValidationError:
        return None
    return value.upper() if identifier == "email" else value  # emails match whatever their case


def _resolve(rows: list[_Row], identifier: str) -> None:
    """Each row's member: the first by id with that identifier; an inactive one is not a valid user id."""
    wanted = {}
    for row in rows:
        if row.key is None or row.problems:
            continue
        key = identifier_key(identifier, row.key)
        row.key = key
        if key is None:
            row.problems.append(f"invalid_{identifier}")
        else:
            wanted[key] = None
    column = Upper("email") if identifier == "email" else F(identifier)
    found: dict[str, tuple[int, bool]] = {}
    for batch in _batches(list(wanted)):
        # No ORDER BY (a sort of the chunk's matches on the server): the smallest id is kept here instead.
        matches = Member.objects.annotate(key=column).filter(_one_of("key", batch, "text")).order_by()
        for key, pk, status in matches.values_list("key", "pk", "status"):
            first = found.get(key)
            if first is None or pk < first[0]:
                found[key] = (pk, status == Member.Status.ACTIVE)
    for row in rows:
        if row.key is None or row.problems:
            continue
        match = found.get(row.key)
        if match is None or (identifier == "user_id" and not match[1]):
            row.problems.append(f"invalid_{identifier}")
        else:
            row.member, row.active = match


def _members_chunk(*, series, rows, actor, now, sink) -> None:
    named = [row for row in rows if row.member is not None and not row.problems]
    if series.specific_members_only:  # a members upload adds its members to the series' list
        series_allow_members(series=series, member_ids=sorted({row.member for row in named}))
    standing = _standings(series, {row.member for row in named}, now)
    chosen = _judge(series, named, standing, now, codes_given=False)
    if not chosen:
        return
    if series.code_mode == CouponSeries.CodeMode.UPLOAD:
        _claim_uploaded_codes(series=series, rows=chosen, actor=actor, now=now)
        return
    before = _last_coupon_id()
    issued = issued_coupons_write(series=series, member_ids=[row.member for row in chosen], now=now)
    _issued_events_write(before=before, written=issued, series=series, actor=actor, now=now, sink=sink)
    series_note_issued(series=series, count=issued)


def _codes_chunk(*, upload, series, rows, actor, now, code_index_first: bool, sink) -> None:
    coded = [row for row in rows if row.code is not None]
    holders = _holders({row.code for row in coded}, shared_only=code_index_first)
    seen_before = _seen_before(upload, [row.code for row in coded])
    revoked_here = [(series.pk, Coupon.Status.REVOKED, False)]
    seen: set[str] = set()
    for row in coded:
        # Seed 003 moves a coupon by revoking it and uploading its code again with the new member.
        found = holders.get(row.code, [])
        free = not found or (row.names_member and [holder[:3] for holder in found] == revoked_here)
        if row.code in seen or row.code in seen_before or not free:
            row.problems = [DUPLICATE_CODE]  # whatever else is wrong with the row
        seen.add(row.code)
    named = [row for row in coded if row.names_member and not row.problems]
    unnamed = [row for row in coded if not row.names_member and not row.problems]

    def revoked_from_them(row):  # the code is theirs already: the unique index refuses issuing it again
        found = holders.get(row.code)
        return DUPLICATE_CODE if found and found[0][3] == row.member else None

    standing = _standings(series, {row.member for row in named}, now)
    chosen = _judge(series, named, standing, now, codes_given=True, refuse=revoked_from_them)
    fresh = [row for row in chosen if row.code not in holders]
    reissued = [row for row in chosen if row.code in holders]
    _copy_codes(series=series, rows=[(row.code, None) for row in unnamed], now=now, issued=False)
    before = _last_coupon_id()
    _copy_codes(series=series, rows=[(row.code, row.member) for row in fresh], now=now, issued=True)
    if fresh:
        _issued_events_write(before=before, written=len(fresh), series=series, actor=actor, now=now, sink=sink)
    _reissue_revoked(series=series, rows=reissued, holders=holders, actor=actor, now=now)
    new_codes = len(unnamed) + len(chosen)
    if new_codes:
        CouponSeries.objects.filter(pk=series.pk).update(code_count=F("code_count") + new_codes)
        series.refresh_from_db(fields=["code_count"])
    series_note_issued(series=series, count=len(chosen))
    # Codes this file named that are not in the coupon table now (their row failed, or resent a coupon):
    # later chunks must still see them as named earlier in the file.
    kept = {row.code for row in unnamed} | {row.code for row in chosen}
    UploadSeenCode.objects.bulk_create(
        (UploadSeenCode(upload=upload, code=code) for code in sorted(seen - kept)),
        batch_size=5_000, ignore_conflicts=True,
    )  # fmt: skip


def _seen_before(upload, codes: list[str]) -> set[str]:
    seen = set()
    if not UploadSeenCode.objects.filter(upload=upload).exists():
        return seen  # the common case, and it spares shipping every code of the chunk to the database
    for batch in _batches(codes):
        found = UploadSeenCode.objects.filter(_one_of("code", batch, "text"), upload=upload)
        seen.update(found.values_list("code", flat=True))
    return seen


def _reissue_revoked(*, series, rows, holders, actor, now) -> None:
    """Revoked codes of this series issued to their new members, each through the status writer (rare)."""
    expires_at, redeemable_from = coupon_times(series, now)
    for row in rows:
        coupon = Coupon.objects.select_related("member").get(pk=holders[row.code][0][4])
        previous = coupon.member.external_id if coupon.member_id else "no member"
        coupon_transition(coupon=coupon, to=Coupon.Status.ISSUED, actor=actor, reissue=True, at=now,
                          reason=f"re-issued by a codes upload (revoked from {previous})", is_reversed=False,
                          member_id=row.member, issued_at=now, expires_at=expires_at,
                          redeemable_from=redeemable_from, refresh=False)  # fmt: skip
        coupon_emit(type=events.COUPON_ISSUED, coupon_id=coupon.pk, at=now)


def _judge(series, rows, standing, now, *, codes_given: bool, refuse=None) -> list[_Row]:
    """Apply the issual rules to `rows` in file order; the rows that issue. Refused rows get their reasons.

    `refuse(row)` names a problem the database would raise on the insert of a row the rules allow.
    """
    is_common = series.code_mode == CouponSeries.CodeMode.COMMON
    issued_count = series.issued_count
    left = None if codes_given else codes_left(series)
    expires_at, _ = coupon_times(series, now)
    born_valid = expires_at is None or expires_at > now
    limit, reasons_of = series.series_limit, {}
    chosen = []
    for row in rows:
        state = standing[row.member]
        # The rules compare the series' count with its limit and the codes left with zero, nothing more, so
        # rows alike in everything else share one evaluation of the rules (a chunk has a handful of kinds).
        at_limit = limit is not None and issued_count >= limit
        out_of_codes = left is not None and left <= 0
        key = (row.active, state.allowed, state.held, state.last_issued_at, state.excluded, at_limit, out_of_codes)
        reasons = reasons_of.get(key)
        if reasons is None:
            facts = rules.IssualFacts(
                now=now, member_active=row.active, is_common=is_common,
                specific_members_only=series.specific_members_only, max_per_member=series.max_per_member,
                min_gap_days=series.min_gap_days, series_limit=limit, on_allowed_list=state.allowed,
                member_issued_count=state.held, member_last_issued_at=state.last_issued_at,
                member_has_common_code=is_common and state.held > 0,
                received_excluded_series_recently=state.excluded, series_issued_count=issued_count, codes_left=left,
            )  # fmt: skip
            reasons = reasons_of[key] = rules.issual_reasons(facts)
        if reasons:
            if not rules.should_resend(reasons, on_rematch=series.on_rematch, has_valid_coupon=state.has_valid):
                row.problems = list(reasons)
            continue
        if is_common and state.common_taken:  # the code's once-per-member index refuses it
            row.problems = [DUPLICATE_CODE]
            continue
        if refuse is not None and (problem := refuse(row)):
            row.problems = [problem]
            continue
        chosen.append(row)
        state.held += 1
        state.last_issued_at = now
        state.has_valid = state.has_valid or born_valid
        state.common_taken = is_common
        issued_count += 1
        if left is not None:
            left -= 1
    return chosen


def _standings(series, member_ids: set[int], now) -> dict[int, _Standing]:
    """Each member's standing in `series`: one grouped query per fact, over the chunk's members."""
    standing = defaultdict(_Standing)
    if not member_ids:
        return standing
    ids = sorted(member_ids)
    held = Coupon.objects.filter(series=series).exclude(status=Coupon.Status.REVOKED)
    for batch in _batches(ids):
        in_batch = _one_of("member_id", batch, "bigint")
        counts = held.filter(in_batch).order_by().values("member_id")
        counts = counts.annotate(n=Count("id"), last=Max("issued_at"))
        for pk, count, last in counts.values_list("member_id", "n", "last"):
            standing[pk].held, standing[pk].last_issued_at = count, last
        if series.on_rematch == CouponSeries.OnRematch.RESEND_EXISTING:
            valid = held.filter(in_batch, status=Coupon.Status.ISSUED).filter(
                Q(expires_at__isnull=True) | Q(expires_at__gt=now)
            )
            for pk in valid.values_list("member_id", flat=True).distinct():
                standing[pk].has_valid = True
        if series.specific_members_only:
            for pk in SeriesAllowedMember.objects.filter(in_batch, series=series).values_list("member_id", flat=True):
                standing[pk].allowed = True
        if series.exclude_window_days is not None:
            excluded = list(series.exclude_recipients_of.values_list("pk", flat=True))
            if excluded:
                since = now - timedelta(days=series.exclude_window_days)
                recent = Coupon.objects.filter(in_batch, series_id__in=excluded, issued_at__gte=since)
                for pk in recent.values_list("member_id", flat=True).distinct():
                    standing[pk].excluded = True
        if series.code_mode == CouponSeries.CodeMode.COMMON:
            taken = Coupon.objects.filter(in_batch, code=series.common_code, is_common=True)
            for pk in taken.values_list("member_id", flat=True):
                standing[pk].common_taken = True
    return standing


def _holders(codes: set[str], *, shared_only: bool = False) -> dict[str, list[tuple]]:
    """Coupons holding each code: (series, status, is_common, member, id), through the two code indexes;
    `shared_only`: through the index of shared codes alone."""
    holders = defaultdict(list)
    kinds = (True,) if shared_only else (False, True)
    for batch in _batches(sorted(codes)):
        # One query per partial code index (codes of one holder, shared codes), so each is used.
        rows = itertools.chain.from_iterable(
            Coupon.objects.filter(_one_of("code", batch, "text"), is_common=is_common).values_list(
                "code", "series_id", "status", "is_common", "member_id", "pk"
            )
            for is_common in kinds
        )
        for row in sorted(rows, key=lambda row: row[-1]):
            holders[row[0]].append(row[1:])
    return holders


def _claim_uploaded_codes(*, series, rows, actor, now) -> None:
    """Give the series' next unissued codes to `rows`' members; rows past the last code are exhausted."""
    picked = list(
        Coupon.objects.select_for_update(skip_locked=True)
        .filter(series=series, status=Coupon.Status.UNISSUED, member__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[: len(rows)]
    )
    for row in rows[len(picked) :]:
        row.problems = [rules.SERIES_EXHAUSTED]
    expires_at, redeemable_from = coupon_times(series, now)
    holders = [
        Coupon(pk=pk, member_id=row.member, issued_at=now, expires_at=expires_at, redeemable_from=redeemable_from)
        for pk, row in zip(picked, rows, strict=False)
    ]
    # The holder first (an unissued coupon may name one), then the status move with its events.
    Coupon.objects.bulk_update(holders, ["member", "issued_at", "expires_at", "redeemable_from"], batch_size=1_000)
    moved = coupons_transition(from_status=Coupon.Status.UNISSUED, to=Coupon.Status.ISSUED, actor=actor,
                               reason="issued", ids=picked, at=now)  # fmt: skip
    coupons_emit_thin(type=events.COUPON_ISSUED, queryset=Coupon.objects.filter(pk__in=picked), at=now)
    series_note_issued(series=series, count=moved)


def _copy_codes(*, series, rows: list[tuple[str, int | None]], now, issued: bool) -> None:
    """Write uploaded codes (issued to their members, or unissued): one COPY on PostgreSQL.

    A code another upload wrote since the chunk read the holders makes the insert fail and the whole chunk
    roll back; its retry sees that code as a duplicate.
    """
    if not rows:
        return
    expires_at, redeemable_from = coupon_times(series, now) if issued else (None, None)
    status = Coupon.Status.ISSUED if issued else Coupon.Status.UNISSUED
    if issued and connection.vendor == "postgresql":
        _copy_issued_binary(series=series, rows=rows, now=now, expires_at=expires_at, redeemable_from=redeemable_from)
        return
    if connection.vendor != "postgresql":
        Coupon.objects.bulk_create(
            (Coupon(series=series, code=code, member_id=member, status=status, issued_at=now if issued else None,
                    expires_at=expires_at, redeemable_from=redeemable_from, last_status_change_on=now,
                    created_at=now) for code, member in rows),
            batch_size=2_000,
        )  # fmt: skip
        return
    stamp, none = now.isoformat(), r"\N"
    fixed = (
        f"\t{status}\t{stamp if issued else none}\t{expires_at.isoformat() if expires_at else none}\t"
        f"{redeemable_from.isoformat() if redeemable_from else none}\tf\t{stamp}\t{stamp}\n"
    )
    columns = ("series_id, code, is_common, member_id, status, issued_at, expires_at, redeemable_from, is_reversed, "
               "last_status_change_on, created_at")  # fmt: skip
    prefix = f"{series.pk}\t"
    buffer = io.StringIO()
    for code, member in sorted(rows):
        buffer.write(f"{prefix}{code}\tf\t{none if member is None else member}{fixed}")
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(
        f"COPY {Coupon._meta.db_table} ({columns}) FROM STDIN"
    ) as copy:  # fmt: skip
        copy.write(buffer.getvalue())


def _copy_issued_binary(*, series, rows, now, expires_at, redeemable_from) -> None:
    """Issued uploaded codes in COPY's binary format (coupons.issuance.copy_binary), which the server takes
    without parsing five timestamps a row: one COPY for each length of code (a file's codes are mostly of one
    length), each in code order, so the unique code index fills page by page."""
    by_length = defaultdict(list)
    for code, member in rows:
        by_length[len(code)].append((code, member))
    statement = f"COPY {Coupon._meta.db_table} ({COPY_COLUMNS}) FROM STDIN (FORMAT BINARY)"
    with connection.cursor() as cursor, connection.wrap_database_errors:
        for group in by_length.values():
            group.sort()
            payload = issued_coupons_payload(
                series_id=series.pk, codes=np.array([code for code, _ in group], dtype="S"),
                member_ids=np.array([member for _, member in group], dtype=np.int64), is_common=False,
                status=Coupon.Status.ISSUED, issued_at=now, expires_at=expires_at, redeemable_from=redeemable_from,
            )  # fmt: skip
            with cursor.cursor.copy(statement) as copy:
                copy.write(payload)


@dataclass
class _Events:
    """Where a chunk's issued events go: written in the chunk (`later` False), or left to another connection."""

    upload: Upload
    later: bool
    pending: list[int]


def _issued_events_write(*, before: int, written: int, series, actor, now, sink: _Events) -> None:
    """The `issued` event and the thin `coupon.issued` outbox event of each coupon the chunk has just issued
    (`written` coupons of `series` at `now`, with ids past `before`).

    On PostgreSQL both sets of events go in by binary COPY, built with numpy (`copy_binary`), from the
    coupons' ids: an INSERT … SELECT each read the new coupons again and inserted row by row, where COPY fills
    pages in batches (about a quarter less of the server's time, and half the WAL of an INSERT … SELECT over
    `generate_series`). When the ids are the range the write filled and `sink.later`, the chunk writes only an
    UploadEventsPending row for them: the events (a third of the chunk's time on the server) are then written
    on another connection while the next chunk is written, on the other core."""
    issued = _written_since(before, series=series, now=now)
    if connection.vendor != "postgresql":
        coupons_created_events_record(queryset=issued, actor=actor, at=now)
        coupons_emit_thin(type=events.COUPON_ISSUED, queryset=issued, at=now)
        return
    last = _last_coupon_id()
    if last - before == written:
        # The chunk's coupons are `written` distinct ids in (before, last]: they are all of that range, and
        # nothing need be read (fetching 20,000 ids cost more than the events' COPY).
        if sink.later and written:
            pending = UploadEventsPending.objects.create(upload=sink.upload, after_id=before, through_id=last, at=now)
            sink.pending.append(pending.pk)
            return
        ids = np.arange(before + 1, last + 1, dtype=np.int64)
    else:  # another writer's coupons among them, or ids a failed COPY took: read the chunk's own
        ids = np.sort(np.array(issued.order_by().values_list("pk", flat=True), dtype=np.int64))
    _events_copy(ids=ids, actor=actor, at=now)


def _events_copy(*, ids, actor, at) -> None:
    if not len(ids):
        return
    event = coupon_event(coupon_id=None, old="", new=Coupon.Status.ISSUED, actor=actor, reason="issued", at=at)
    outbox = thin_events_payload(type=events.COUPON_ISSUED, object_type=COUPON, object_ids=ids, created_at=at)
    writes = (
        (CouponEvent._meta.db_table, EVENT_COLUMNS, coupon_events_payload(coupon_ids=ids, event=event)),
        (Event._meta.db_table, OUTBOX_COLUMNS, outbox),
    )
    with connection.cursor() as cursor, connection.wrap_database_errors:
        for table, columns, payload in writes:
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(payload)
    events_kick()


def upload_events_pending_write(*, upload_id: int, actor: Actor, pk: int | None = None) -> int:
    """Write the events an upload's chunks left pending (the row `pk` alone, or all of the upload's), each in one
    transaction with the deletion of its UploadEventsPending row; how many rows were written. The row is locked
    first (a second worker on the same upload waits, then finds it gone), so no coupon gets its events twice."""
    done = 0
    rows = UploadEventsPending.objects.filter(upload_id=upload_id).order_by("pk")
    for pending_pk in [pk] if pk is not None else list(rows.values_list("pk", flat=True)):
        with transaction.atomic():
            pending = rows.select_for_update().filter(pk=pending_pk).first()
            if pending is None:
                continue  # written by another worker meanwhile
            ids = np.arange(pending.after_id + 1, pending.through_id + 1, dtype=np.int64)
            _events_copy(ids=ids, actor=actor, at=pending.at)
            pending.delete()
            done += 1
    return done


def _last_coupon_id() -> int:
    return Coupon.objects.aggregate(last=Max("pk"))["last"] or 0


def _written_since(before: int, *, series, now):
    """The coupons of `series` this chunk has just issued: ids past `before`, one range of the primary key.

    Nothing else writes coupons of the series meanwhile (the chunk holds its issuance lock and its row), and
    every id handed out after `before` was read is larger than it.

    The series is compared as `series_id + 0`, which no index serves: for `series_id = …` the planner took the
    series' BRIN index, whose page ranges written since the last vacuum are unsummarized and all match, and
    rechecked every row of them (1.2 s a chunk behind a million freshly uploaded codes, against 6 ms for the
    primary key's range)."""
    return (
        Coupon.objects.filter(pk__gt=before, issued_at=now)
        .alias(of_series=F("series_id") + 0)
        .filter(of_series=series.pk)
    )


class _AnyOf(Func):
    """`field IN (SELECT unnest('{…}'::type[]))`, the values as one array literal made with a few string operations.

    psycopg turns a list parameter into an array value by value in Python, which cost more than the lookups
    it fed (about a second a 100,000 codes). And against `field = ANY(array)` of 20,000 constants the planner
    weighs every constant (25 ms) and then, on a table of a million rows, scans it whole (0.3 to 0.5 s a lookup,
    growing with the table); the semi-join on `unnest` plans in a millisecond as one index probe a value."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, field: str, values: list, element: str):
        if element == "bigint":
            literal = int_array_literal(values)
        else:  # no value holds a NUL (the cells were checked), so a NUL can stand between them
            quoted = "\x00".join(values).translate(_ARRAY_QUOTES).replace("\x00", '","')
            literal = ('{"' + quoted + '"}') if values else "{}"
        super().__init__(F(field), Value(literal, output_field=CharField()))
        self.element = element

    def as_sql(self, compiler, connection, **extra):
        (column, column_params), (array, array_params) = (compiler.compile(arg) for arg in self.source_expressions)
        return f"{column} IN (SELECT unnest({array}::{self.element}[]))", [*column_params, *array_params]


def _one_of(field: str, values: list, element: str) -> Q:
    """`field` is one of `values` ("bigint" or "text"): one array parameter on PostgreSQL, an IN list elsewhere."""
    if connection.vendor == "postgresql":
        return Q(_AnyOf(field, values, element))
    return Q(**{f"{field}__in_array": values})


def _batches(values: list, size: int = LOOKUP_BATCH):
    if connection.vendor == "postgresql":
        size = max(size, len(values))  # one array literal takes them all
    for start in range(0, len(values), size):
        yield values[start : start + size]
