"""The members dataset for exports (see exports/datasets.py)."""

from exports.datasets import Column, Dataset, Filter, choice_value, datetime_value, register_dataset, text_value

from .models import Member

SEGMENTS_OF_MEMBER = (
    "FROM members_member_segments ms JOIN members_segment s ON s.id = ms.segment_id WHERE ms.member_id = m.id"
)

register_dataset(
    Dataset(
        name="members",
        label="Members",
        source="members_member m",
        order_by="m.id",
        columns=[
            Column("external_id", "m.external_id"),
            Column("email", "m.email"),
            Column("mobile", "m.mobile"),
            Column("user_id", "m.user_id"),
            Column("first_name", "m.first_name"),
            Column("last_name", "m.last_name"),
            Column("birth_date", "m.birth_date"),
            Column("registered_at", "m.registered_at"),
            Column("status", "m.status"),
            Column("transaction_count", "m.transaction_count"),
            Column("points_balance", "m.points_balance"),
            Column(
                "segments",
                {
                    "postgresql": f"(SELECT string_agg(s.code, ';' ORDER BY s.code) {SEGMENTS_OF_MEMBER})",
                    "default": f"(SELECT group_concat(s.code, ';') {SEGMENTS_OF_MEMBER})",
                },
            ),
        ],
        filters=[
            Filter("status", "m.status = %s", choice_value(*Member.Status.values), "active or inactive"),
            Filter("segment", f"EXISTS (SELECT 1 {SEGMENTS_OF_MEMBER} AND s.code = %s)", text_value(max_length=64),
                   "members of the segment with this code"),
            Filter("registered_from", "m.registered_at >= %s", datetime_value, "registered at or after (ISO 8601)"),
            Filter("registered_to", "m.registered_at < %s", datetime_value, "registered before (ISO 8601)"),
        ],
    )
)  # fmt: skip
