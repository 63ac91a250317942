from import_export import fields, resources, widgets

from config.import_widgets import IsoDateTimeWidget, WholeNumberWidget

from .models import Member, Segment


class SegmentCodesWidget(widgets.ManyToManyWidget):
    """Segment codes separated by "|"; a code that names no segment is an error on its row, never dropped."""

    def clean(self, value, row=None, **kwargs):
        segments = super().clean(value, row=row, **kwargs)
        if not value:
            return segments
        wanted = {code.strip() for code in str(value).split(self.separator) if code.strip()}
        unknown = sorted(wanted - {segment.code for segment in segments})
        if unknown:
            label = "Unknown segment" if len(unknown) == 1 else "Unknown segments"
            raise ValueError(f"{label}: {', '.join(unknown)} (create it first or correct the file).")
        return segments


class MemberResource(resources.ModelResource):
    """Members CSV for the admin's import and export; rows are matched by external_id."""

    segments = fields.Field(
        attribute="segments",
        column_name="segments",
        widget=SegmentCodesWidget(Segment, field="code", separator="|"),
    )

    registered_at = fields.Field(attribute="registered_at", column_name="registered_at", widget=IsoDateTimeWidget())
    transaction_count = fields.Field(
        attribute="transaction_count", column_name="transaction_count", widget=WholeNumberWidget()
    )

    class Meta:
        model = Member
        import_id_fields = ["external_id"]
        fields = [
            "external_id",
            "email",
            "mobile",
            "user_id",
            "first_name",
            "last_name",
            "birth_date",
            "registered_at",
            "status",
            "transaction_count",
            "segments",
        ]
        export_order = fields
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = False
        use_transactions = True
