"""The offline conflicts dataset for exports (see exports/datasets.py): loss prevention's list of codes used twice."""

from exports.datasets import Column, Dataset, Filter, datetime_value, register_dataset, text_value

OFFLINE_CONFLICTS = register_dataset(
    Dataset(
        name="offline_conflicts",
        label="Offline conflicts",
        source=(
            "till_offlineconflict oc"
            " JOIN till_offlinebatch b ON b.id = oc.batch_id"
            " JOIN members_orgentity offline_store ON offline_store.id = oc.offline_store_id"
            " LEFT JOIN members_orgentity online_store ON online_store.id = oc.online_store_id"
            " LEFT JOIN members_member m ON m.id = oc.member_id"
        ),
        order_by="oc.id",
        columns=[
            Column("code", "oc.code"),
            Column("member", "m.external_id"),
            Column("offline_store", "offline_store.code"),
            Column("offline_redeemed_at", "oc.offline_redeemed_at"),
            Column("online_store", "online_store.code"),
            Column("online_redeemed_at", "oc.online_redeemed_at"),
            Column("online_redemption_id", "oc.online_redemption_id"),
            Column("batch_id", "b.batch_id"),
            Column("row_index", "oc.row_index"),
            Column("recorded_at", "oc.created_at"),
        ],
        filters=[
            Filter("offline_store", "offline_store.code = %s", text_value(max_length=64), "the offline till's store"),
            Filter("online_store", "online_store.code = %s", text_value(max_length=64), "the other redemption's store"),
            Filter("recorded_from", "oc.created_at >= %s", datetime_value, "recorded at or after (ISO 8601)"),
            Filter("recorded_to", "oc.created_at < %s", datetime_value, "recorded before (ISO 8601)"),
        ],
    )
)
