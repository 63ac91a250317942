from import_export import fields, resources

from config.import_widgets import IsoDateTimeWidget

from . import selectors
from .models import Offer

DATETIME_FIELDS = ["publish_at", "expire_at", "usage_start", "usage_end", "discontinued_at"]


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
