from import_export import fields, resources

from config.import_widgets import IsoDateTimeWidget
from offers import selectors
from offers.models import Offer, OfferResponse


class OfferResource(resources.ModelResource):
    """Offers CSV (the offer's own fields), matched by external_id. Components are set up in the form or API.

    `visible_status` is exported for information and ignored on import; discontinuing goes through
    the discontinue action, so `discontinued_at` is export-only too.
    """

    publish_at = fields.Field(attribute="publish_at", column_name="publish_at", widget=IsoDateTimeWidget())
    expire_at = fields.Field(attribute="expire_at", column_name="expire_at", widget=IsoDateTimeWidget())
    usage_start = fields.Field(attribute="usage_start", column_name="usage_start", widget=IsoDateTimeWidget())
    usage_end = fields.Field(attribute="usage_end", column_name="usage_end", widget=IsoDateTimeWidget())
    discontinued_at = fields.Field(
        attribute="discontinued_at", column_name="discontinued_at", widget=IsoDateTimeWidget(), readonly=True
    )
    visible_status = fields.Field(column_name="visible_status", readonly=True)

    class Meta:
        model = Offer
        import_id_fields = ["external_id"]
        fields = [
            "external_id",
            "name",
            "category",
            "publish_at",
            "expire_at",
            "usage_start",
            "usage_end",
            "requires_activation",
            "allow_multiple_responses",
            "fulfillment_flow",
            "discontinued_at",
            "visible_status",
        ]
        export_order = fields
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = False
        use_transactions = True

    def get_queryset(self):
        return selectors.offer_queryset()

    def dehydrate_visible_status(self, offer):
        return selectors.offer_global_visible_status(offer)


class OfferResponseResource(resources.ModelResource):
    """Offer responses, export only (responses are created by claims and assignments, never by a file)."""

    offer_external_id = fields.Field(attribute="offer__external_id", column_name="offer_external_id", readonly=True)
    offer_name = fields.Field(attribute="offer__name", column_name="offer_name", readonly=True)
    member_external_id = fields.Field(attribute="member__external_id", column_name="member_external_id", readonly=True)
    created_at = fields.Field(attribute="created_at", column_name="created_at", widget=IsoDateTimeWidget())
    status_changed_at = fields.Field(
        attribute="status_changed_at", column_name="status_changed_at", widget=IsoDateTimeWidget()
    )
    expires_at = fields.Field(attribute="expires_at", column_name="expires_at", widget=IsoDateTimeWidget())

    class Meta:
        model = OfferResponse
        fields = [
            "id",
            "offer_external_id",
            "offer_name",
            "member_external_id",
            "status",
            "source",
            "certificate_code",
            "created_at",
            "status_changed_at",
            "expires_at",
        ]
        export_order = fields
