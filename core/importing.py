"""What every spreadsheet import shares: reading a CSV or XLSX file into rows
keyed by canonical column names, the per-row error report, and dates as East
Africa writes them (day first).

An area's importer names its columns (canonical name → accepted headers),
checks every row before writing anything, and fills an :class:`ImportReport`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from core.errors import InvalidInput
from core.spreadsheets import read_sheet

DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y")

Row = tuple[int, dict[str, Any]]  # (line number in the file, values by column)
Columns = dict[str, tuple[str, ...]]  # canonical name -> headers accepted for it


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass
class ImportReport:
    file: str
    rows: int
    created: int = 0
    unchanged: int = 0
    invalid: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    written: bool = False

    def line(self) -> str:
        verb = "would add" if self.dry_run or not self.written else "added"
        text = (f"{self.file}: {self.rows} rows; {verb} {self.created}, {self.unchanged} unchanged, "
                f"{self.invalid} with errors")
        if self.errors and not self.written and not self.dry_run:
            text += "; nothing was written (fix the rows, or import with --skip-invalid)"
        elif self.dry_run:
            text += "; dry run, nothing was written"
        return text

    def refuse(self, line: int, exc: Exception) -> None:
        """Count the row at ``line`` as invalid, with the reason."""
        self.invalid += 1
        self.errors.append(RowError(line, str(exc).rstrip(".") + "."))


def _canonical(header: Any, columns: Columns) -> str | None:
    text = " ".join(str(header or "").strip().lower().replace("_", " ").split())
    for name, aliases in columns.items():
        if text in aliases or text.replace(" ", "_") in aliases:
            return name
    return None


def _rows_from(header: list[Any], body: list[tuple[int, list[Any]]], file: str, columns: Columns,
               required: tuple[str, ...]) -> list[Row]:
    mapping = {i: name for i, h in enumerate(header) if (name := _canonical(h, columns))}
    for needed in required:
        if needed not in mapping.values():
            raise InvalidInput(f"{file} has no {needed} column; its header row needs one of: "
                               f"{', '.join(columns[needed])}.")
    rows: list[Row] = []
    for line, values in body:
        record = {name: values[i] if i < len(values) else None for i, name in mapping.items()}
        if any(v not in (None, "") and str(v).strip() for v in record.values()):
            rows.append((line, record))
    return rows


def read_rows(path: Path, columns: Columns, required: tuple[str, ...]) -> list[Row]:
    """The rows of a CSV (any common encoding) or XLSX file, with their line numbers; blank lines
    are skipped."""
    sheet = read_sheet(path, suffixes=(".csv", ".xlsx", ".xlsm"))
    return _rows_from(sheet.header, list(sheet.rows), sheet.name, columns, required)


def parse_date(value: Any) -> date:
    """A date written 2024-01-31, 31/01/2024, 31-01-2024 or 31.01.2024 (day first), or a spreadsheet date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise InvalidInput(f"{text!r} is not a date; write it like 2024-01-31 or 31/01/2024.")


def cell_text(values: dict[str, Any], name: str) -> str:
    """A cell as text; a phone that a spreadsheet stored as a number loses its ``.0``."""
    value = values.get(name)
    return "" if value is None else str(value).strip().removesuffix(".0") if name == "phone" else str(value).strip()
