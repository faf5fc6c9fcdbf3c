"""A report's table, and its downloads: CSV and an Excel workbook with the same cells."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import Response
from openpyxl import Workbook

from app.services.monitoring import excel_safe

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX}
NUMBERS = (int, float, Decimal)


@dataclass(frozen=True)
class Table:
    """Figures as rows: the first cell of each row names it (a process, a step, a person).

    ``name`` is the download's file name and address ("steps"), ``title`` the table's caption;
    a cell is text, a number or None (nothing to show).
    """

    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    def numeric(self, index: int) -> bool:
        """Whether column ``index`` holds numbers (shown right-aligned, written as numbers)."""
        return index > 0 and any(isinstance(row[index], NUMBERS) for row in self.rows)

    def column(self, label: str) -> dict[str, Any]:
        """One column's cells by the row's name, as ``chart`` takes a series."""
        index = self.columns.index(label)
        return {str(row[0]): row[index] for row in self.rows}


def download(table: Table, format: str) -> Response:
    """The table as a file to download, ``format`` "csv" or "xlsx"; text that a spreadsheet
    would run as a formula is written as text (``excel_safe``, as the list of all requests)."""
    stamp = dt.date.today().isoformat()
    if format == "csv":
        content = _csv(table)
    elif format == "xlsx":
        content = _xlsx(table)
    else:
        raise ValueError(f"no such format: {format}")
    return Response(content, mimetype=FORMATS[format],
                    headers={"Content-Disposition": f'attachment; filename="{table.name}-{stamp}.{format}"'})


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, NUMBERS) and not isinstance(value, bool):
        return value
    return excel_safe(value)


def _csv(table: Table) -> bytes:
    """UTF-8 with a byte order mark so Excel reads it right; every field quoted, one cell each."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow([excel_safe(label) for label in table.columns])
    for row in table.rows:
        writer.writerow(["" if value is None else _cell(value) for value in row])
    return out.getvalue().encode("utf-8")


def _xlsx(table: Table) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_sheet_title(table.title))
    sheet.append([excel_safe(label) for label in table.columns])
    for row in table.rows:
        sheet.append([_cell(value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(title: str) -> str:
    """A worksheet's name: at most 31 characters, none of \\ / ? * [ ] :."""
    cleaned = "".join(" " if char in "\\/?*[]:" else char for char in title).strip()
    return cleaned[:31] or "Figures"
