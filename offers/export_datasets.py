"""The offer_responses dataset for exports (see exports/datasets.py)."""

from exports.datasets import Column, Dataset, Filter, choice_value, datetime_value, register_dataset, text_value
from offers.models import OfferResponse

register_dataset(
    Dataset(
        name="offer_responses",
        label="Offer responses",
        source="offers_offerresponse r JOIN offers_offer o ON o.id = r.offer_id "
               "JOIN members_member m ON m.id = r.member_id",
        order_by="r.id",
        columns=[
            Column("id", "r.id"),
            Column("offer_external_id", "o.external_id"),
            Column("offer_name", "o.name"),
            Column("member_external_id", "m.external_id"),
            Column("status", "r.status"),
            Column("source", "r.source"),
            Column("certificate_code", "r.certificate_code"),
            Column("usage_start", "r.usage_start"),
            Column("usage_end", "r.usage_end"),
            Column("expires_at", "r.expires_at"),
            Column("status_changed_at", "r.status_changed_at"),
            Column("created_at", "r.created_at"),
        ],
        filters=[
            Filter("status", "r.status = %s", choice_value(*OfferResponse.Status.values), "a response status"),
            Filter("offer", "o.external_id = %s", text_value(max_length=64), "the offer's external id"),
            Filter("member", "m.external_id = %s", text_value(max_length=64), "the member's external id"),
            Filter("created_from", "r.created_at >= %s", datetime_value, "created at or after (ISO 8601)"),
            Filter("created_to", "r.created_at < %s", datetime_value, "created before (ISO 8601)"),
        ],
    )
)  # fmt: skip
