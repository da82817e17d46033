"""Helpers for the vendor tests: an Indian MSME programme, and files written as staff write them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from core.actors import Actor

ACTOR = Actor.system_actor("cli:test")
SAMPLE = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "msme-vendors-sample.csv"
if not SAMPLE.is_file():  # a worktree sits beside the shared folder; a clone may not
    SAMPLE = Path("/work/shared/data/msme-vendors-sample.csv")

HEADER = ["Business Name", "Owner", "Mobile", "E-mail", "GSTIN", "Udyam No.", "PAN", "Sector", "District", "State",
          "Size", "Tags"]
# Valid GSTINs (checksums computed by python-stdnum), their PANs and Udyam numbers.
ROWS = [
    ["Sai Textiles", "Priya Sharma", "98765 43210", "priya@example.in", "27AAPFU0939F1ZV", "UDYAM-MH-19-0012345",
     "AAPFU0939F", "Textiles", "Pune", "Maharashtra", "Micro", "women-led; export"],
    ["Om Printing", "Ravi Iyer", "+91 91234 56789", "", "", "UDYAM-KA-07-0000042", "", "Printing", "Mysuru",
     "Karnataka", "small", ""],
    ["Ganesh Leather", "Anil Das", "07012345678", "anil@example.in", "", "", "", "Leather", "Kanpur",
     "Uttar Pradesh", "medium", "women-led"],
]


def csv_text(rows: list[list[str]], header: list[str] = HEADER, delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows([header, *rows])
    return out.getvalue()


def write_csv(path: Path, rows: list[list[str]], *, encoding: str = "utf-8", header: list[str] = HEADER,
              delimiter: str = ",") -> Path:
    path.write_bytes(csv_text(rows, header, delimiter).encode(encoding))
    return path
