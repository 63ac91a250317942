"""The row-at-a-time upload the set-based engine replaced, kept as the reference its reports are compared with.

One transaction a row, one `coupon_issue` a row (the single-issue service and its issual rules), the file read
whole. Slow (171 rows/s on PostgreSQL) but obviously right, which is what a reference is for.
"""

import csv
import io

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from config.actors import Actor
from config.text import FORBIDDEN_CHARACTERS, printable_label
from coupons.exceptions import CouponIssueError
from coupons.issuance.services import coupon_issue
from coupons.issuance.uploads import IDENTIFIERS, MESSAGES
from coupons.models import Coupon, CouponSeries, Upload, UploadIssue
from coupons.selectors import code_lookup
from coupons.series.codes import CODE_RE
from coupons.series.services import series_allow_members
from members import validators
from members.models import Member


def reference_upload_process(*, upload: Upload) -> list[tuple[int, str, str]]:
    """Handle every row of `upload` one by one; the (row, identifier, code) lines of its report."""
    upload.file.open("rb")
    text = upload.file.read().decode("utf-8-sig")
    upload.file.close()
    reader = csv.DictReader(io.StringIO(text, newline=""))
    reader.fieldnames = [name.strip().lower() for name in (reader.fieldnames or [])]
    rows = [{k: (v if isinstance(v, str) else "") for k, v in row.items() if k} for row in reader]
    identifier = next((name for name in IDENTIFIERS if name in reader.fieldnames), None)
    actor = Actor(name=upload.actor, channel=upload.channel)
    seen_codes: set[str] = set()
    lines = []
    for number, row in enumerate(rows, start=1):
        with transaction.atomic():
            if any(FORBIDDEN_CHARACTERS.search(value) for value in row.values()):
                problems = ["malformed_row"]
            elif upload.kind == Upload.Kind.MEMBERS:
                problems = _member_row(upload.series, row, identifier, actor)
            else:
                problems = _code_row(upload.series, row, identifier, actor, seen_codes)
            label = (row.get(identifier) or "").strip() if identifier else (row.get("code") or "").strip()
            label = printable_label(label)[:255]
            UploadIssue.objects.bulk_create(
                UploadIssue(upload=upload, row=number, identifier=label, code=code, message=MESSAGES.get(code, code))
                for code in problems
            )
            lines += [(number, label, code) for code in problems]
            Upload.objects.filter(pk=upload.pk).update(
                processed_rows=number, total_rows=len(rows),
                succeeded=F("succeeded") + (0 if problems else 1), failed=F("failed") + (1 if problems else 0),
            )  # fmt: skip
    return lines


def member_resolve(identifier: str, value: str):
    value = (value or "").strip()
    error = f"invalid_{identifier}"
    check = {
        "external_id": validators.validate_external_id,
        "mobile": validators.validate_mobile,
        "email": validators.validate_email,
        "user_id": validators.validate_user_id,
    }[identifier]
    if identifier == "mobile":
        value = validators.normalize_mobile(value)
    try:
        check(value)
    except ValidationError:
        return None, error
    lookup = {"email__iexact": value} if identifier == "email" else {identifier: value}
    member = Member.objects.filter(**lookup).order_by("pk").first()
    if member is None or (identifier == "user_id" and not member.is_active):
        return None, error
    return member, None


def _member_row(series, row, identifier, actor) -> list[str]:
    member, error = member_resolve(identifier, row.get(identifier, ""))
    if error:
        return [error]
    if series.specific_members_only:
        series_allow_members(series=series, member_ids=[member.pk])
    return _issue(series=series, member=member, actor=actor)


def _code_row(series, row, identifier, actor, seen_codes) -> list[str]:
    code = (row.get("code") or "").strip().upper()
    if not CODE_RE.match(code):
        return ["malformed_row"]
    with_member = bool(identifier and (row.get(identifier) or "").strip())
    holders = list(Coupon.objects.filter(code_lookup(code)).values_list("series_id", "status", "is_common")[:2])
    free = not holders or (with_member and holders == [(series.pk, Coupon.Status.REVOKED, False)])
    duplicate = code in seen_codes or not free
    seen_codes.add(code)
    if duplicate:
        return ["duplicate_code"]
    if with_member:
        member, error = member_resolve(identifier, row[identifier])
        if error:
            return [error]
        return _issue(series=series, member=member, actor=actor, code=code)
    Coupon.objects.create(series=series, code=code, status=Coupon.Status.UNISSUED, member=None)
    CouponSeries.objects.filter(pk=series.pk).update(code_count=F("code_count") + 1)
    return []


def _issue(*, series, member, actor, code=None) -> list[str]:
    try:
        with transaction.atomic():
            coupon_issue(series=series, member=member, actor=actor, code=code)
    except CouponIssueError as exc:
        return exc.reasons or [exc.code]
    except IntegrityError:
        return ["duplicate_code"]
    return []
