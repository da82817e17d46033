"""Reading and writing the tables people keep in spreadsheets (CSV and XLSX).

Reading streams: the header comes at once, the rows as they are read, so
a file of any length is never held whole. A CSV in any encoding staff are likely to have (UTF-8 with or without
a byte-order mark, UTF-16 as Excel's "Unicode text" writes it, Windows-1252 /
Latin-1 from older Excel), with ``,`` ``;`` or tab between cells, or the first
sheet of an XLSX workbook (read-only, values not formulas). Rows come back
with the line number a person sees in their editor.

Writing: cells that a spreadsheet would run as a formula (starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) are neutralised with a
leading apostrophe, so an exported file cannot run anything when opened
(CSV injection). :func:`unneutralise` undoes it on the way back in.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import IO, Any

from core.errors import InvalidInput

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class Sheet:
    """A file's header and its data rows as (line number, cells)."""

    name: str
    header: list[Any]
    rows: Iterator[tuple[int, list[Any]]]
    encoding: str | None = None


UNDEFINED_IN_CP1252 = b"\x81\x8d\x8f\x90\x9d"
BLOCK = 1 << 20


def text_encoding(path: Path) -> str:
    """The encoding ``path`` was written in, read a block at a time (a big file is never held whole)."""
    with path.open("rb") as fh:
        head = fh.read(4000)
        if head.startswith(b"\xef\xbb\xbf"):
            return "utf-8-sig"
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return "utf-16"
        if head and head.count(b"\x00") > len(head) // 4:
            # UTF-16 without a BOM: ASCII letters leave a zero byte beside them.
            return "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for block in iter(lambda: fh.read(BLOCK), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
        fh.seek(0)
        for block in iter(lambda: fh.read(BLOCK), b""):
            if any(byte in block for byte in UNDEFINED_IN_CP1252):
                return "latin-1"  # the five bytes cp1252 leaves undefined
        return "cp1252"


def _csv_sheet(path: Path) -> Sheet:
    """The header now; the rows as they are read (memory stays flat however long the file)."""
    encoding = text_encoding(path)
    fh = path.open(encoding=encoding, newline="")
    first_line = fh.readline()
    delimiter = max((",", ";", "\t"), key=first_line.count) if first_line.strip() else ","
    reader = csv.reader(chain([first_line], fh), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        fh.close()
        raise InvalidInput(f"{path.name} is empty.")

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            start = reader.line_num + 1
            for cells in reader:
                yield start, cells
                start = reader.line_num + 1
        finally:
            fh.close()

    return Sheet(path.name, header, rows(), encoding)


def _xlsx_sheet(path: Path) -> Sheet:
    """The first sheet, read as it goes (read-only). ``defusedxml`` is installed, so openpyxl parses with
    it: a file with entity tricks (billion laughs, external entities) is refused, not expanded."""
    from openpyxl import load_workbook  # heavy; only for spreadsheets

    def refused(exc: BaseException) -> InvalidInput:  # openpyxl and defusedxml raise many kinds for a bad file
        while exc.__cause__ or exc.__context__:  # openpyxl wraps the parser's reason; say that one
            exc = exc.__cause__ or exc.__context__
        reason = (str(exc).splitlines() or [""])[0]
        return InvalidInput(f"{path.name} cannot be read as a spreadsheet ({type(exc).__name__}: {reason}).")

    try:
        book = load_workbook(path, read_only=True, data_only=True)
        values = book.worksheets[0].iter_rows(values_only=True)
        header = next(values, None)
    except Exception as exc:
        raise refused(exc) from None
    if header is None:
        book.close()
        raise InvalidInput(f"{path.name} is empty.")

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for line, cells in enumerate(values, start=2):
                yield line, list(cells)
        except Exception as exc:
            raise refused(exc) from None
        finally:
            book.close()

    return Sheet(path.name, list(header), rows())


def read_sheet(path: Path, *, suffixes: tuple[str, ...] = CSV_SUFFIXES + XLSX_SUFFIXES) -> Sheet:
    """The header and rows of a .csv or .xlsx file (or another of ``suffixes``); refuse anything else."""
    if not path.is_file():
        raise InvalidInput(f"There is no file {path}.")
    suffix = path.suffix.lower()
    if suffix in suffixes and suffix in CSV_SUFFIXES:
        return _csv_sheet(path)
    if suffix in suffixes and suffix in XLSX_SUFFIXES:
        return _xlsx_sheet(path)
    raise InvalidInput(f"{path.name}: import reads .csv and .xlsx files.")


def header_key(text: Any) -> str:
    """``"Phone No."``, ``"phone_no"`` and ``" PHONE  NO "`` all become ``"phone no"``."""
    cleaned = str(text or "").replace("\ufeff", "").lower()
    for ch in "_-./#:()":
        cleaned = cleaned.replace(ch, " ")
    return " ".join(cleaned.split())


def match_columns(header: list[Any], aliases: dict[str, tuple[str, ...]]) -> dict[int, str]:
    """Which canonical column each header cell is (first match wins; unknown headers are left out)."""
    lookup = {header_key(alias): name for name, names in aliases.items() for alias in (name, *names)}
    mapping: dict[int, str] = {}
    for index, cell in enumerate(header):
        name = lookup.get(header_key(cell))
        if name is not None and name not in mapping.values():
            mapping[index] = name
    return mapping


def cell_text(value: Any) -> str:
    """A cell as text: ``712345678.0`` from a spreadsheet becomes ``712345678``."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = value.strip()
        return unneutralise(value) if value.startswith("'") else value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unneutralise(str(value).strip())


def neutralise(value: Any) -> Any:
    """A cell that cannot run as a formula when a spreadsheet opens the file (a list becomes ``a;b``)."""
    if isinstance(value, (list, tuple)):
        value = ";".join(str(v) for v in value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unneutralise(text: str) -> str:
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def write_csv(out: IO[str], columns: list[str], rows: Iterable[Iterable[Any]]) -> int:
    writer = csv.writer(out)
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow(["" if v is None else neutralise(v) for v in row])
        count += 1
    return count


def write_xlsx(path: Path | IO[bytes], columns: list[str], rows: Iterable[Iterable[Any]], *, title: str = "Sheet") -> int:
    from openpyxl import Workbook  # heavy; only for spreadsheets

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(columns)
    count = 0
    for row in rows:
        sheet.append([neutralise(v) for v in row])
        count += 1
    book.save(path)
    return count
