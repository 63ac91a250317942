"""The admin's CSV upload of offline rows, and the report of what became of each row.

The file holds the API's rows (`code, member, redeemed_at, bill_amount[, transaction_id]`). The upload records the
batch with its file and a background task judges it (`offline_upload_judge`) with the same service as the API's
batch (`offline_batch_judge`), chunk by chunk, so the batch's page shows its progress, a rerun goes on where it
stopped, and a file sent twice under one batch id changes nothing the second time. A row whose cells do not
parse is rejected `malformed_row` and the others are still judged.
The report has the upload reports' columns (`row, identifier, code, message`: the row's code as identifier, the
reason codes as code, in words as message) and, like them, only spreadsheet-safe cells.
"""

import csv
import io
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils.dateparse import parse_datetime

from config import ranges
from config.actors import Actor
from config.spreadsheet import spreadsheet_safe_row
from coupons.issuance.uploads import REPORT_HEADER
from till.offline.exceptions import MALFORMED_ROW
from till.offline.models import OfflineBatch
from till.offline.services import OfflineRow, offline_batch_judge

COLUMNS = ("code", "member", "redeemed_at", "bill_amount")
OPTIONAL_COLUMNS = ("transaction_id",)
MAX_LENGTHS = {"code": 64, "member": 64, "transaction_id": 100}
REASON_WORDS = {
    "already_redeemed": "Redeemed meanwhile elsewhere: listed under offline conflicts",
    "member_not_found": "No member has this external id",
    "time_out_of_range": "Redeemed before the offline window (or ahead of the server's clock)",
    MALFORMED_ROW: "The row's cells do not parse (code, member, redeemed_at with its offset, bill_amount)",
}


class OfflineFileError(ValueError):
    """A file that cannot be read as offline rows at all; the message says why."""


def offline_rows_read(data: bytes) -> list[OfflineRow | None]:
    """The file's rows in order (None for a row that does not parse), or OfflineFileError."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise OfflineFileError("The file is not UTF-8 text; save it as CSV UTF-8 and upload it again.") from exc
    if "\x00" in text:
        raise OfflineFileError("The file holds NUL bytes (UTF-16 files do); save it as CSV UTF-8.")
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = [name.strip().lower() for name in next(reader, [])]
        missing = [name for name in COLUMNS if name not in header]
        if missing:
            raise OfflineFileError(f"The file needs the columns {', '.join(COLUMNS)}; it lacks {', '.join(missing)}.")
        at = {name: header.index(name) for name in (*COLUMNS, *OPTIONAL_COLUMNS) if name in header}
        rows = [_row(cells, at) for cells in reader if cells]
    except csv.Error as exc:
        raise OfflineFileError(f"The file is not a readable CSV: {exc}") from exc
    if not ranges.OFFLINE_BATCH_ROWS.min <= len(rows) <= ranges.OFFLINE_BATCH_ROWS.max:
        raise OfflineFileError(f"A file holds 1 to {ranges.OFFLINE_BATCH_ROWS.max:,} rows; this one {len(rows):,}.")
    return rows


def _row(cells: list[str], at: dict[str, int]) -> OfflineRow | None:
    values = {name: cells[index].strip() if index < len(cells) else "" for name, index in at.items()}
    if not values["code"] or not values["member"]:
        return None
    if any(len(values.get(name, "")) > limit for name, limit in MAX_LENGTHS.items()):
        return None
    try:
        redeemed_at = parse_datetime(values["redeemed_at"])
        bill_amount = Decimal(values["bill_amount"])
    except (ValueError, InvalidOperation):
        return None
    if not isinstance(redeemed_at, datetime) or redeemed_at.tzinfo is None:
        return None
    if not bill_amount.is_finite() or bill_amount not in ranges.MONEY or bill_amount != round(bill_amount, 2):
        return None
    return OfflineRow(code=values["code"], member=values["member"], redeemed_at=redeemed_at,
                      bill_amount=bill_amount, transaction_id=values.get("transaction_id", ""))  # fmt: skip


def offline_upload_judge(batch_pk: int) -> int:
    """Judge the uploaded batch from its kept file (the rows the upload's form read); how many rows were judged."""
    batch = OfflineBatch.objects.select_related("store").get(pk=batch_pk)
    if batch.response_body is None:
        with batch.upload_file.open("rb") as handle:
            rows = offline_rows_read(handle.read())
        offline_batch_judge(batch=batch, rows=rows, actor=Actor(name=batch.actor, channel=batch.channel))
    return batch.total_rows


def offline_report_rows(batch: OfflineBatch):
    """The header and one line per rejected row (row 1 is the first after the header)."""
    yield REPORT_HEADER
    for item in (batch.response_body or {}).get("rejected", []):
        words = "; ".join(REASON_WORDS.get(reason, reason.replace("_", " ").capitalize()) for reason in item["reasons"])
        yield spreadsheet_safe_row([item["index"] + 1, item["code"], " ".join(item["reasons"]), words])


def offline_report_csv(batch: OfflineBatch) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(offline_report_rows(batch))
    return buffer.getvalue().encode()
