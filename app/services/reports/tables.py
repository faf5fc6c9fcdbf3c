"""A report's table, and its downloads: CSV and an Excel workbook with the same cells."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from app.services.spreadsheet import csv_text, excel_safe

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX}
NUMBERS = (int, float, Decimal)
CENT = Decimal("0.01")
MONEY_FORMAT = "#,##0.00"  # Excel shows it in the reader's own separators: 1,234.50 or 1.234,50
SHARE_FORMAT = "0.0"


@dataclass(frozen=True)
class Table:
    """Figures as rows: the first cell of each row names it (a process, a step, a person).

    ``name`` is the download's file name and address ("steps"), ``title`` the table's caption;
    a cell is text, a number or None (nothing to show). ``money`` and ``shares`` are the
    indexes of the columns of amounts in EUR and of percentages: the page writes them as
    money ("473.00 EUR") and as percentages ("20%"), the downloads as numbers (the workbook
    formats money "#,##0.00"); other numbers are counts or days.
    """

    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    money: tuple[int, ...] = ()
    shares: tuple[int, ...] = ()

    def numeric(self, index: int) -> bool:
        """Whether column ``index`` holds numbers (shown right-aligned, written as numbers)."""
        return index > 0 and (index in self.money or index in self.shares
                              or any(isinstance(row[index], NUMBERS) for row in self.rows))

    def kind(self, index: int) -> str:
        """How column ``index``'s numbers read: "money", "share" or "number"."""
        return "money" if index in self.money else "share" if index in self.shares else "number"

    def column(self, label: str) -> dict[str, Any]:
        """One column's cells by the row's name, as ``chart`` takes a series."""
        index = self.columns.index(label)
        return {str(row[0]): row[index] for row in self.rows}


def download(table: Table, format: str) -> Response:
    """The table as a file to download, ``format`` "csv" or "xlsx"; text that a spreadsheet
    would run as a formula is written as text (``excel_safe``, as the list of all requests).
    In the workbook numbers stay numbers."""
    stamp = dt.date.today().isoformat()
    if format == "csv":
        content = _csv(table)
    elif format == "xlsx":
        content = _xlsx(table)
    else:
        raise ValueError(f"no such format: {format}")
    return Response(content, mimetype=FORMATS[format],
                    headers={"Content-Disposition": f'attachment; filename="{table.name}-{stamp}.{format}"'})


def _number(value: Any) -> bool:
    return isinstance(value, NUMBERS) and not isinstance(value, bool)


def _rows(table: Table) -> list[tuple[Any, ...]]:
    """The rows with each amount as a number of two decimals (473.00, not 473)."""
    return [tuple(Decimal(str(value)).quantize(CENT) if index in table.money and _number(value) else value
                  for index, value in enumerate(row)) for row in table.rows]


def _csv(table: Table) -> bytes:
    """As the list of all requests' CSV (``csv_text``): a byte order mark, every field quoted."""
    return csv_text(table.columns, _rows(table)).encode("utf-8")


def _xlsx(table: Table) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_sheet_title(table.title))
    sheet.append([excel_safe(label) for label in table.columns])
    formats = {**dict.fromkeys(table.shares, SHARE_FORMAT), **dict.fromkeys(table.money, MONEY_FORMAT)}
    for row in _rows(table):
        cells = []
        for index, value in enumerate(row):
            cell = WriteOnlyCell(sheet, value if value is None or _number(value) else excel_safe(value))
            if index in formats and _number(value):
                cell.number_format = formats[index]
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(title: str) -> str:
    """A worksheet's name: at most 31 characters, none of \\ / ? * [ ] :."""
    cleaned = "".join(" " if char in "\\/?*[]:" else char for char in title).strip()
    return cleaned[:31] or "Figures"
