"""An import job's file as rows of cells, streamed when the format allows it, with why it cannot be read.

CSV and TSV files are read as they are stored, never whole: UTF-8 with or without a byte order mark, blank
lines skipped and short rows padded, as tablib does for django-import-export's in-request import, so the rows
are numbered alike. Other formats (spreadsheets, JSON, YAML) are loaded by the format itself.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.utils.module_loading import import_string

STREAMED_DELIMITERS = {"csv": ",", "tsv": "\t"}
NOT_UTF8_HINT = "Save it as CSV UTF-8, with or without a byte order mark, and import it again."


class FileUnreadable(Exception):
    """The file cannot be read as a whole; the message says why, in words."""


@dataclass
class FileRows:
    """The header and the data rows, each (row number, cells); `rows` is a one-pass iterator."""

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    closers: list = field(default_factory=list)

    def close(self) -> None:
        for close in self.closers:
            close()


def import_file_open(job) -> FileRows:
    """The job's file as rows; raises FileUnreadable for a file that is empty or not in its format."""
    input_format = import_string(job.input_format)()
    delimiter = STREAMED_DELIMITERS.get(input_format.get_title().lower())
    opened = _streamed(job, delimiter) if delimiter else _loaded(job, input_format)
    if not opened.header or not any(name.strip() for name in opened.header):
        opened.close()
        raise FileUnreadable("The file is empty: it has no header row naming the columns.")
    if any("\x00" in name for name in opened.header):
        opened.close()
        raise FileUnreadable(f"The file is not UTF-8 text (its first line holds NUL bytes, as UTF-16 files do). "
                             f"{NOT_UTF8_HINT}")  # fmt: skip
    return opened


def import_file_survey(job) -> int:
    """Read the file through once, so that one that cannot be read fails before any row is handled: its rows."""
    opened = import_file_open(job)
    try:
        total = _guarded(lambda: sum(1 for _ in opened.rows))
    finally:
        opened.close()
    if not total:
        raise FileUnreadable("The file has a header but no rows to import.")
    return total


def import_file_rows(job) -> FileRows:
    """The file's rows for a pass that was surveyed first (reading errors are then unexpected)."""
    opened = import_file_open(job)
    opened.rows = _guarded_rows(opened.rows)
    return opened


def _guarded_rows(rows):
    iterator = iter(rows)
    while (row := _guarded(lambda: next(iterator, None))) is not None:
        yield row


def _guarded(read):
    try:
        return read()
    except UnicodeDecodeError as exc:
        bad = exc.object[exc.start : exc.start + 4]
        raise FileUnreadable(
            f"The file is not UTF-8 text (it holds the bytes {bad.hex(' ')}, which UTF-8 does not allow: "
            f"Latin-1 or Windows text, or not text at all). {NOT_UTF8_HINT}"
        ) from exc
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise FileUnreadable(
                f"The file holds a cell longer than {csv.field_size_limit():,} characters; no column takes that "
                "much. It may have an unclosed quote: check the file and import it again."
            ) from exc
        raise FileUnreadable(f"The file is not a readable CSV: {exc}.") from exc


def _streamed(job, delimiter: str) -> FileRows:
    handle = job.file.storage.open(job.file.name, "rb")
    binary = getattr(handle, "file", handle)  # the storage's own file object, for io to buffer
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="strict", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = _guarded(lambda: next(reader, []))
    except FileUnreadable:
        handle.close()
        raise
    width = len(header)

    def rows():
        number = 0
        for cells in reader:
            if not cells:
                continue
            number += 1
            yield number, cells + [""] * (width - len(cells))

    return FileRows(header=header, rows=rows(), closers=[handle.close])


def _loaded(job, input_format) -> FileRows:
    with job.file.storage.open(job.file.name, "rb") as handle:
        data = handle.read()
    try:
        if not input_format.is_binary():
            data = data.decode("utf-8-sig")
        dataset = input_format.create_dataset(data)
    except UnicodeDecodeError:
        return _guarded(lambda: data.decode("utf-8-sig"))  # raises FileUnreadable with the bytes named
    except Exception as exc:  # each format's library raises its own errors for a file it cannot read
        raise FileUnreadable(
            f"The file cannot be read as {input_format.get_title()} ({type(exc).__name__}); "
            "check that the chosen format is the file's."
        ) from exc
    header = [str(name) if name is not None else "" for name in (dataset.headers or [])]
    rows = ((number, ["" if cell is None else cell for cell in row]) for number, row in enumerate(dataset, 1))
    return FileRows(header=header, rows=rows)
