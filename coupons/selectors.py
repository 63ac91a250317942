from django.db.models import Q, QuerySet

from config.progress import job_progress
from coupons.models import BulkIssueJob, Coupon, CouponSeries, Upload
from members.models import OrgEntity

MAX_ID = 2**63 - 1  # BigAutoField
SERIES_PREFETCH = ("reminders", "exclude_recipients_of", "redemption_stores")


def series_list() -> QuerySet[CouponSeries]:
    return CouponSeries.objects.select_related("offer").prefetch_related(*SERIES_PREFETCH).order_by("-id")


def series_get(*, pk: int) -> CouponSeries:
    return series_list().get(pk=pk)


def code_lookup(code: str) -> Q:
    """Match a code through the two partial unique indexes (unique codes; common code per member).

    A bare `code = …` matches neither index's condition and scans the table; naming `is_common` on each
    side lets PostgreSQL combine both index scans.
    """
    code = code.strip().upper()
    return Q(code=code, is_common=False) | Q(code=code, is_common=True)


def coupon_by_code(*, code: str, member_external_id: str | None = None) -> Coupon | None:
    """A coupon by its code; a common code is one row per member, so name the member to pick one."""
    rows = Coupon.objects.select_related("member", "series").filter(code_lookup(code))
    if member_external_id:
        rows = rows.filter(member__external_id=member_external_id)
    return rows.order_by("-id").first()


def member_coupons(*, member) -> QuerySet[Coupon]:
    return Coupon.objects.filter(member=member).select_related("member").order_by("-issued_at", "-id")


def series_tagged_to(*, org_entity_type: str, org_entity_ids: list[str]) -> QuerySet[CouponSeries]:
    """Series whose redemption is restricted to any of these entities of one type (`redemption.stores`,
    seed 003's redemptionOrgEntityDetails), matched exactly: a zone does not include its stores, nor a
    store the zone above it. An id is an entity code or its numeric id; unknown ids match nothing.

    One semi-join through the stores' join table (indexed on the entity), whatever the series count.
    A series whose stores have no type is not restricted (redemption reads it so) and is not tagged.
    """
    numeric = [int(value) for value in org_entity_ids if value.isascii() and value.isdigit()]
    numeric = [value for value in numeric if value <= MAX_ID]  # no entity has a larger id; the driver would refuse it
    entities = OrgEntity.objects.filter(type=org_entity_type).filter(Q(code__in=org_entity_ids) | Q(pk__in=numeric))
    tagged = CouponSeries.redemption_stores.through.objects.filter(orgentity__in=entities).values("couponseries_id")
    return series_list().filter(pk__in=tagged).exclude(redemption_stores_type="")


def bulk_issue_job_progress(job: BulkIssueJob) -> dict:
    """The job's state for progress bars (the shape admin/includes/job_progress.html polls for)."""
    return job_progress(job, done=job.members_done, total=job.total_members, finished=job.is_finished)


def upload_progress(upload: Upload) -> dict:
    """The upload's state for progress bars (the shape admin/includes/job_progress.html polls for).

    The total is unknown (None) until the file has been read and its rows counted.
    """
    started = upload.status != Upload.Status.QUEUED
    return job_progress(
        upload,
        done=upload.processed_rows,
        total=upload.total_rows if started and upload.total_rows else None,
        finished=upload.status in {Upload.Status.SUCCEEDED, Upload.Status.FAILED},
    )
