"""`ofisi import vendors` of 100,000 valid rows, beside a bare COPY of the same rows.

    python bench/vendors_import.py [--rows N] [--database-url URL]

The database is PostgreSQL when ``--database-url`` (or ``OFISI_TEST_DATABASE_URL``)
names one: a scratch database is created beside it and dropped afterwards.
Without one it runs on a fresh SQLite file (then the "floor" is a bare
executemany INSERT, SQLite having no COPY).

The workload is the whole import as `ofisi import vendors FILE` runs it: the
CSV file read and decoded, headers matched, every row validated (GSTIN
checksum and PAN with python-stdnum, Udyam, the phone with phonenumbers, the
email with email-validator), matched against the org's vendors, then written
by ``core.vendors.import_vendors`` (COPY on PostgreSQL) with its audit row, in
one transaction. The floor is the write no import can skip: the same rows,
already clean, COPYed into the same table and indexes by the bare driver in
one transaction. It prints one JSON line::

    {"bench": "vendors_import", "backend": "postgresql", "rows": 100000,
     "import_s": ..., "import_rows_per_s": ..., "floor_s": ..., "floor_rows_per_s": ..., "ratio": ...,
     "target_s": 20, "met": true}

``ratio`` is import_rows_per_s / floor_rows_per_s (1.0: the import costs no
more than its COPY). ``import_cpu_s`` is the CPU the import's own processes
spent (the database server's work is not in it) and ``load_average`` the
machine's one-minute load, so that a run on a busy machine can be read as such.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scratch import bench_database  # noqa: E402

HEADER = ["Business Name", "Owner Name", "Mobile", "Email", "GSTIN", "Udyam No", "PAN", "Sector", "District",
          "State", "Size", "Tags"]
SECTORS = ["Textiles", "Printing", "Leather", "Food processing", "Handicrafts", "Auto parts", "IT services"]
DISTRICTS = [("Pune", "MH", "27"), ("Nashik", "MH", "27"), ("Mysuru", "KA", "29"), ("Chennai", "TN", "33"),
             ("Kanpur", "UP", "09"), ("Surat", "GJ", "24")]
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def gstin_for(state_code: str, pan: str) -> str:
    from stdnum import luhn
    from stdnum.in_ import gstin

    body = f"{state_code}{pan}1Z"
    return body + luhn.calc_check_digit(body, gstin._ALPHABET)


def write_rows(path: Path, count: int) -> None:
    rng = random.Random(5)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for i in range(count):
            district, state, code = DISTRICTS[i % len(DISTRICTS)]
            letters = "".join(LETTERS[(i // 26 ** k) % 26] for k in range(3))
            pan = f"{letters}{'PC'[i % 2]}{LETTERS[i % 26]}{i % 9999 + 1:04d}{LETTERS[(i // 9999) % 26]}"
            out.writerow([f"Enterprise {i}", f"Owner {i}", f"9{100000000 + i:09d}", f"owner{i}@example.in",
                          gstin_for(code, pan), f"UDYAM-{state}-{i % 40:02d}-{i:07d}", pan, rng.choice(SECTORS),
                          district, state, rng.choice(["micro", "Small", "MEDIUM"]),
                          rng.choice(["", "women-led", "export;women-led"])])


def time_import(db, org_id: int, path: Path, count: int) -> float:
    from core.actors import Actor
    from core.vendors import import_vendors, read_vendor_file

    cpu_before = os.times()
    start = time.perf_counter()
    with db.session() as session:
        report = import_vendors(session, Actor.system_actor("bench"), org_id, read_vendor_file(path))
    elapsed = time.perf_counter() - start
    cpu_after = os.times()
    if report.created != count or report.invalid:
        raise SystemExit(f"import created {report.created} of {count}: {report.errors[:3]}")
    cpu = sum(cpu_after[:4]) - sum(cpu_before[:4])  # this process and its worker processes
    return elapsed, cpu


def time_floor(db, org_id: int, source_org: int) -> float:
    """A bare COPY of the rows the import wrote (read back untimed), into another org."""
    from sqlalchemy import select

    from core.vendors.importing import COPY_COLUMNS
    from db.models_vendors import Vendor

    with db.session() as session:
        rows = [list(r) for r in session.execute(
            select(*[getattr(Vendor, c) for c in COPY_COLUMNS]).where(Vendor.org_id == source_org))]
    for row in rows:
        row[0] = org_id
        row[COPY_COLUMNS.index("tags")] = json.dumps(row[COPY_COLUMNS.index("tags")])
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        start = time.perf_counter()
        if db.dialect == "postgresql":
            with cur.copy(f"COPY vendors ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cur.execute("BEGIN IMMEDIATE")
            marks = ", ".join("?" for _ in COPY_COLUMNS)
            cur.executemany(f"INSERT INTO vendors ({', '.join(COPY_COLUMNS)}) VALUES ({marks})",
                            [[v.isoformat(" ") if hasattr(v, "isoformat") else v for v in row] for row in rows])
        raw.commit()
        return time.perf_counter() - start
    finally:
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("OFISI_TEST_DATABASE_URL"))
    args = parser.parse_args()
    from core.actors import Actor
    from core.orgs import create_org

    with tempfile.TemporaryDirectory(prefix="ofisi-bench-") as folder, bench_database(args.database_url) as db:
        path = Path(folder) / "vendors.csv"
        write_rows(path, args.rows)
        with db.session() as session:
            actor = Actor.system_actor("bench")
            source = create_org(session, actor, "bench-import", kind="campaigns", name="Import", country="IN").id
            floor_org = create_org(session, actor, "bench-floor", kind="campaigns", name="Floor", country="IN").id
        import_s, import_cpu_s = time_import(db, source, path, args.rows)
        floor_s = time_floor(db, floor_org, source)
        print(json.dumps({
            "bench": "vendors_import", "backend": db.dialect, "rows": args.rows,
            "import_s": round(import_s, 2), "import_rows_per_s": round(args.rows / import_s),
            "import_cpu_s": round(import_cpu_s, 2), "load_average": round(os.getloadavg()[0], 1),
            "floor_s": round(floor_s, 2), "floor_rows_per_s": round(args.rows / floor_s),
            "ratio": round(floor_s / import_s, 3), "target_s": 20, "met": import_s < 20,
        }))


if __name__ == "__main__":
    main()
