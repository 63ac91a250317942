"""Upload error reports read back."""

import csv
import io


def report(upload):
    if not upload.error_report:
        return []
    return list(csv.DictReader(io.StringIO(upload.error_report.read().decode())))
