"""The certificate_codes dataset for exports (see exports/datasets.py)."""

from exports.datasets import Column, Dataset, Filter, choice_value, datetime_value, register_dataset, text_value

from .models import CertificateCode

register_dataset(
    Dataset(
        name="certificate_codes",
        label="Certificate codes",
        source="rewards_certificatecode cc LEFT JOIN rewards_reward r ON r.id = cc.reward_id "
               "LEFT JOIN members_member m ON m.id = cc.member_id",
        order_by="cc.id",
        columns=[
            Column("id", "cc.id"),
            Column("code", "cc.code"),
            Column("reward_external_id", "r.external_id"),
            Column("reward_name", "r.name"),
            Column("status", "cc.status"),
            Column("member_external_id", "m.external_id"),
            Column("redemption_id", "cc.redemption_id"),
            Column("created_at", "cc.created_at"),
            Column("assigned_at", "cc.assigned_at"),
            Column("fulfilled_at", "cc.fulfilled_at"),
            Column("status_changed_at", "cc.status_changed_at"),
        ],
        filters=[
            Filter("status", "cc.status = %s", choice_value(*CertificateCode.Status.values), "a code status"),
            Filter("reward", "r.external_id = %s", text_value(max_length=64), "the reward's external id"),
            Filter("created_from", "cc.created_at >= %s", datetime_value, "created at or after (ISO 8601)"),
            Filter("created_to", "cc.created_at < %s", datetime_value, "created before (ISO 8601)"),
        ],
    )
)  # fmt: skip
