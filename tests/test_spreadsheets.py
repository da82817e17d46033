"""Reading people's spreadsheets: streamed, in any common encoding, and hostile XLSX refused."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from core.errors import InvalidInput
from core.spreadsheets import read_sheet, text_encoding

LAUGHS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""


def _workbook(path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Business Name", "Mobile"])
    book.active.append(["Sai Textiles", "9876543210"])
    book.save(path)
    return path


def _with_bomb(source: Path, target: Path, part: str) -> Path:
    """``source`` with ``part`` rewritten to declare a billion laughs and use it in a cell or a name."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as bombed:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == part:
                text = data.decode("utf-8")
                text = text.split("?>", 1)[1] if text.startswith("<?xml") else text
                text = text.replace("Sai Textiles", "&lol9;").replace('name="Sheet"', 'name="&lol9;"')
                data = (LAUGHS + text).encode("utf-8")
            bombed.writestr(item, data)
    return target


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_a_billion_laughs_xlsx_is_refused_not_expanded(tmp_path, part):
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML  # openpyxl parses with defusedxml, as pyproject.toml installs it
    bomb = _with_bomb(_workbook(tmp_path / "ok.xlsx"), tmp_path / "bomb.xlsx", part)
    with pytest.raises(InvalidInput, match=r"bomb.xlsx cannot be read as a spreadsheet \(EntitiesForbidden"):
        sheet = read_sheet(bomb)
        list(sheet.rows)
    good = read_sheet(tmp_path / "ok.xlsx")
    assert (good.header, list(good.rows)) == (["Business Name", "Mobile"], [(2, ["Sai Textiles", "9876543210"])])


def test_csv_rows_stream_with_their_line_numbers_in_any_encoding(tmp_path):
    text = 'name;note\r\nAmina;"two\r\nlines"\r\n\r\nJosé;ok\r\n'
    for encoding, expected in (("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"),
                               ("cp1252", "cp1252")):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(text.encode(encoding))
        assert text_encoding(path) == expected
        sheet = read_sheet(path)
        assert sheet.header == ["name", "note"]
        assert list(sheet.rows) == [(2, ["Amina", "two\r\nlines"]), (4, []), (5, ["José", "ok"])]
    (tmp_path / "odd.csv").write_bytes("name\nA\x81\n".encode("latin-1"))
    assert text_encoding(tmp_path / "odd.csv") == "latin-1"
