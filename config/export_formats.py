"""The admin's export formats (django-import-export), for every Resource: spreadsheet formats neutralise
formula cells (config/spreadsheet.py); JSON and YAML keep values exactly, as programs read them."""

from import_export.formats import base_formats

from .spreadsheet import spreadsheet_safe_row


class SpreadsheetSafeMixin:
    def export_data(self, dataset, **kwargs):
        for index, row in enumerate(dataset):
            dataset[index] = spreadsheet_safe_row(row)
        return super().export_data(dataset, **kwargs)


class SpreadsheetSafeCSV(SpreadsheetSafeMixin, base_formats.CSV):
    pass


class SpreadsheetSafeTSV(SpreadsheetSafeMixin, base_formats.TSV):
    pass


class SpreadsheetSafeHTML(SpreadsheetSafeMixin, base_formats.HTML):
    pass


EXPORT_FORMATS = [SpreadsheetSafeCSV, SpreadsheetSafeTSV, base_formats.JSON, base_formats.YAML, SpreadsheetSafeHTML]
