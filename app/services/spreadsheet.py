"""CSV files people open in a spreadsheet: UTF-8 with a byte order mark so Excel reads it
right, every field quoted, and nothing a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

# A formula may start a cell, or any part of it that a spreadsheet splits off as a cell of its
# own (Excel splits on ';' where the decimal separator is a comma, as in BE, DE and FR).
_FORMULA_START = re.compile(r"(^|[;,\t\r\n])([=+\-@\t\r])")


def excel_safe(value: Any) -> str:
    """Text a spreadsheet shows as text: each segment that would start a formula gets a '.
    A number is written as it is (-5.00 is a number, not a formula)."""
    text = "" if value is None else str(value)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return text
    return _FORMULA_START.sub(r"\1'\2", text)


def csv_chunks(header: Sequence[str], batches: Iterable[Iterable[Sequence[Any]]]) -> Iterator[str]:
    """The CSV file's text in pieces, to send as it is written: the header first (before any
    batch is read), then one piece per batch of rows, each value made ``excel_safe``."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)  # a quoted field is one cell, whatever it holds
    out.write("\ufeff")
    writer.writerow(header)
    yield out.getvalue()
    for rows in batches:
        out.seek(0)
        out.truncate()
        for row in rows:
            writer.writerow([excel_safe(value) for value in row])
        yield out.getvalue()


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The CSV file's text: the header, then the rows, each value made ``excel_safe``."""
    return "".join(csv_chunks(header, [rows]))
