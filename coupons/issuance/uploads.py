"""Coupon uploads: a CSV of members to issue to, or of existing codes (with or without members).

Each row is handled in its own transaction together with the upload's progress counters and its
report lines, so a worker that dies mid-file resumes after the last committed row and never issues a
row twice. The file is read twice: once to count rows (for the progress bar), once to process them.
"""

import csv
import io

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from config.actors import Actor
from config.jobs import Recovered, stale_jobs_recover
from config.spreadsheet import spreadsheet_safe_row
from config.tasks import enqueue_on_commit
from config.text import FORBIDDEN_CHARACTERS, printable_label
from coupons.exceptions import CouponIssueError, UploadError
from coupons.issuance.job_status import upload_claim, upload_fail, upload_finish
from coupons.issuance.services import coupon_issue
from coupons.models import Coupon, CouponSeries, Upload, UploadIssue
from coupons.selectors import code_lookup
from coupons.series.codes import CODE_RE
from coupons.series.services import series_allow_members
from members import validators
from members.models import Member
from webhooks import events
from webhooks.outbox import events_emit

IDENTIFIERS = ("external_id", "mobile", "email", "user_id")
MESSAGES = {
    "invalid_external_id": "User does not exist with provided external id",
    "invalid_mobile": "User does not exist with provided mobile",
    "invalid_email": "User does not exist with provided email",
    "invalid_user_id": "User ID is not valid or is inactive",
    "duplicate_code": "The code exists already in the program or earlier in this file",
    "malformed_row": "The row cannot be read",
    "member_limit_reached": "Maximum issual limit per customer exceeded",
    "min_gap_not_met": "Minimum gap between two issuals not met",
    "series_limit_reached": "Maximum issual limit for the series reached",
    "generic_code_already_issued": "Generic coupon code has already been issued to this customer",
    "member_not_allowed": "The customer is not on the series' list",
    "member_inactive": "The customer is inactive",
    "excluded_by_past_issual": "The customer received an excluded series recently",
    "series_exhausted": "The series has no codes left",
}
REPORT_HEADER = ["row", "identifier", "code", "message"]


class FileUnreadable(Exception):
    pass


def upload_create(*, series: CouponSeries, kind: str, file, actor: Actor) -> Upload:
    if kind == Upload.Kind.MEMBERS and series.code_mode == CouponSeries.CodeMode.RANDOMIZED_COMMON:
        raise UploadError("A randomized common series does not take member uploads.")
    if kind == Upload.Kind.CODES and series.code_mode != CouponSeries.CodeMode.UPLOAD:
        raise UploadError("Existing codes upload only into a series whose codes are uploaded.")
    if kind == Upload.Kind.MEMBERS and series.is_third_party:
        raise UploadError("A third-party series issues its coupons elsewhere.")
    from coupons.tasks import upload_process_task

    with transaction.atomic():
        upload = Upload.objects.create(series=series, kind=kind, file=file, actor=actor.name, channel=actor.channel)
        audit_record(actor=actor, action=AuditEvent.Action.UPLOAD, obj=series, changes={"upload": [None, upload.pk]},
                     summary=f"{upload.get_kind_display()} upload {upload.pk}: {upload.file.name}")  # fmt: skip
        enqueue_on_commit(upload_process_task, upload_id=upload.pk)
    return upload


def upload_process(*, upload_id: int) -> Upload:
    if not upload_claim(upload_id=upload_id):
        return Upload.objects.get(pk=upload_id)  # finished already (or attempts spent): a redelivery does nothing
    upload = Upload.objects.select_related("series").get(pk=upload_id)
    if upload.attempts > 1:
        _discard_partial_report(upload)
    actor = Actor(name=upload.actor, channel=upload.channel)
    try:
        rows, identifier = _read(upload)
    except FileUnreadable as exc:
        upload_fail(upload_id=upload.pk, error=str(exc))
        upload.refresh_from_db()
        return upload
    Upload.objects.filter(pk=upload.pk).update(total_rows=len(rows))
    handle = _member_row if upload.kind == Upload.Kind.MEMBERS else _code_row
    seen_codes: set[str] = set()  # codes met earlier in this file
    for number, row in enumerate(rows, start=1):
        if number <= upload.processed_rows:
            if upload.kind == Upload.Kind.CODES:
                seen_codes.add((row.get("code") or "").strip().upper())
            continue
        with transaction.atomic():
            # The row lock makes a second worker on the same upload (a reaper's resume while the first
            # still lives) wait, then see the row done and skip it, so no row is handled twice.
            status, processed = (
                Upload.objects.select_for_update().values_list("status", "processed_rows").get(pk=upload.pk)
            )
            if status != Upload.Status.RUNNING:
                return Upload.objects.get(pk=upload.pk)  # failed meanwhile (attempts spent): stop here
            if number <= processed:
                if upload.kind == Upload.Kind.CODES:
                    seen_codes.add((row.get("code") or "").strip().upper())
                continue
            if any(FORBIDDEN_CHARACTERS.search(value) for value in row.values()):
                problems = ["malformed_row"]
            else:
                problems = handle(upload=upload, row=row, identifier=identifier, actor=actor, seen_codes=seen_codes)
            label = (row.get(identifier) or "").strip() if identifier else (row.get("code") or "").strip()
            label = printable_label(label)
            UploadIssue.objects.bulk_create(
                UploadIssue(upload=upload, row=number, identifier=label[:255], code=code,
                            message=MESSAGES.get(code, code)) for code in problems
            )  # fmt: skip
            Upload.objects.filter(pk=upload.pk).update(
                processed_rows=number,
                succeeded=F("succeeded") + (0 if problems else 1),
                failed=F("failed") + (1 if problems else 0),
                heartbeat_at=timezone.now(),
            )
    _write_report(upload)
    with transaction.atomic():
        if upload_finish(upload_id=upload.pk):
            upload.refresh_from_db()
            events_emit(type=events.UPLOAD_FINISHED, object_type="upload", object_id=upload.pk,
                        data={"upload_id": upload.pk, "series_id": upload.series_id, "kind": upload.kind,
                              "status": upload.status, "rows": upload.processed_rows,
                              "succeeded": upload.succeeded, "failed": upload.failed})  # fmt: skip
    upload.refresh_from_db()
    return upload


def _discard_partial_report(upload: Upload) -> None:
    """Delete a report an interrupted attempt may have left half-written, so the rerun's takes its name."""
    storage = upload.error_report.storage
    fresh_name = upload.error_report.field.generate_filename(upload, upload_report_filename(upload))
    for name in {upload.error_report.name, fresh_name}:
        if name:
            storage.delete(name)
    Upload.objects.filter(pk=upload.pk).update(error_report="")
    upload.error_report.name = ""


def uploads_recover_stale(*, now) -> Recovered:
    """Hand each running upload whose worker died (stale heartbeat) to a new worker, or fail it, attempts spent.

    A resumed upload goes on after its last committed row, so no row is issued twice.
    """
    from coupons.tasks import upload_process_task

    return stale_jobs_recover(
        model=Upload,
        now=now,
        resume=lambda pk: enqueue_on_commit(upload_process_task, upload_id=pk),
        fail=lambda pk, error: upload_fail(upload_id=pk, error=error),
    )


def _read(upload) -> tuple[list[dict], str | None]:
    try:
        upload.file.open("rb")
        raw = upload.file.read()
        upload.file.close()
        # Bytes that are not UTF-8 become lone surrogates, so only the rows holding them are malformed.
        text = raw.decode("utf-8-sig", errors="surrogateescape")
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = [name.strip().lower() for name in (reader.fieldnames or [])]
        reader.fieldnames = header
        rows = [{k: (v if isinstance(v, str) else "") for k, v in row.items() if k} for row in reader]
    except (UnicodeDecodeError, csv.Error, OSError, ValueError) as exc:
        raise FileUnreadable(f"The file is not a readable UTF-8 CSV: {exc}") from exc
    identifiers = [name for name in IDENTIFIERS if name in header]
    if len(identifiers) > 1:
        raise FileUnreadable(f"Name one identifier column, not {', '.join(identifiers)}.")
    identifier = identifiers[0] if identifiers else None
    if upload.kind == Upload.Kind.MEMBERS and identifier is None:
        raise FileUnreadable(f"A members file needs one identifier column: {', '.join(IDENTIFIERS)}.")
    if upload.kind == Upload.Kind.CODES and "code" not in header:
        raise FileUnreadable("A codes file needs a 'code' column.")
    return rows, identifier


def member_resolve(identifier: str, value: str) -> tuple[Member | None, str | None]:
    """The member a row names, or the report code saying why not (seed: invalid external id, mobile…)."""
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
    if member is None:
        return None, error
    if identifier == "user_id" and not member.is_active:
        return None, error
    return member, None


def _member_row(*, upload, row, identifier, actor, seen_codes) -> list[str]:
    member, error = member_resolve(identifier, row.get(identifier, ""))
    if error:
        return [error]
    series = upload.series
    if series.specific_members_only:
        series_allow_members(series=series, member_ids=[member.pk])
    return _issue(series=series, member=member, actor=actor)


def _code_row(*, upload, row, identifier, actor, seen_codes) -> list[str]:
    code = (row.get("code") or "").strip().upper()
    if not CODE_RE.match(code):
        return ["malformed_row"]
    series = upload.series
    with_member = bool(identifier and (row.get(identifier) or "").strip())
    duplicate = code in seen_codes or not _code_free(code, series=series, with_member=with_member)
    seen_codes.add(code)
    if duplicate:
        return ["duplicate_code"]
    if with_member:
        member, error = member_resolve(identifier, row[identifier])
        if error:
            return [error]
        return _issue(series=series, member=member, actor=actor, code=code)
    try:
        with transaction.atomic():
            Coupon.objects.create(series=series, code=code, status=Coupon.Status.UNISSUED, member=None)
    except IntegrityError:  # written by a concurrent upload since the check above
        return ["duplicate_code"]
    CouponSeries.objects.filter(pk=series.pk).update(code_count=F("code_count") + 1)
    return []


def _code_free(code: str, *, series, with_member: bool) -> bool:
    """Whether an uploaded code is not a duplicate: no coupon has it, or (seed 003's way of moving a
    coupon) its only coupon was revoked in this series and the row names the member to issue it to.
    A live, redeemed or expired code, or one revoked in another series, stays a duplicate; so does a
    revoked code uploaded again to the member it was revoked from (coupon_issue finds no code to move
    and the unique index refuses it)."""
    holders = list(Coupon.objects.filter(code_lookup(code)).values_list("series_id", "status", "is_common")[:2])
    if not holders:
        return True
    return with_member and holders == [(series.pk, Coupon.Status.REVOKED, False)]


def _issue(*, series, member, actor, code=None) -> list[str]:
    try:
        coupon_issue(series=series, member=member, actor=actor, code=code)
    except CouponIssueError as exc:
        return exc.reasons or [exc.code]
    except IntegrityError:  # an uploaded code taken by a concurrent upload since the check
        return ["duplicate_code"]
    return []


def _write_report(upload) -> None:
    if not upload.issues.exists():
        return
    upload.error_report.save(upload_report_filename(upload), ContentFile(upload_report_csv(upload)), save=False)
    Upload.objects.filter(pk=upload.pk).update(error_report=upload.error_report.name)


def upload_report_rows(upload: Upload):
    """The report's header and rows; identifiers come from the uploaded file, so cells are spreadsheet-safe."""
    yield REPORT_HEADER
    for issue in upload.issues.order_by("row", "id").iterator():
        yield spreadsheet_safe_row([issue.row, issue.identifier, issue.code, issue.message])


def upload_report_csv(upload: Upload) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(upload_report_rows(upload))
    return buffer.getvalue().encode()


def upload_report_filename(upload: Upload) -> str:
    return f"upload-{upload.pk}-issues.csv"
