"""The Domestic Connect import (``ofisi import domestic-connect``) over 10,000 generated
profiles, in rows created per second, beside a floor.

    python bench/agency_migration.py [--profiles N] [--database-url URL]

The database is a fresh SQLite file unless ``--database-url`` (or
``OFISI_TEST_DATABASE_URL``) names a PostgreSQL server; then a scratch
database is created beside it and dropped afterwards.

The export is generated in the sample's shape and with its oddities (phones
in five formats, salaries as ``"7,000"`` and 7000, three date formats, mixed
case accommodation, tribe): of ``--profiles`` profiles, 1% are agencies, 29%
employers and 70% housegirls; half the housegirls are listed by an agency,
every third employer is an agency's client, and every employer who bought a
package unlocked two workers. The import runs once, timed, in one
transaction, as the command does.

The floor is the cheapest way to put the same number of rows in the
database: one multi-row INSERT of that many worker rows through the bare
driver in one transaction. It prints one JSON line::

    {"bench": "agency_migration", "backend": ..., "profiles": 10000, "rows": ..., "seconds": ...,
     "rows_per_s": ..., "floor_rows_per_s": ..., "ratio": ..., "adds_up": true, "import_cpu_s": ...,
     "floor_cpu_s": ..., "load_average": [...]}

``import_cpu_s`` and ``floor_cpu_s`` are this process's CPU for each (on PostgreSQL the server's work is
not in them), so a run on a busy machine still reads.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

from scratch import bench_database

TOWNS = ["Nairobi", "Mombasa", "Kisumu", "Nakuru", "Eldoret", "Thika", "Nyeri", "Machakos", "Kiambu", "Ruiru"]


def generate(n: int, seed: int = 6) -> dict:
    rng = random.Random(seed)
    data: dict[str, list] = {k: [] for k in (
        "profiles", "employer_profiles", "housegirl_profiles", "agency_profiles", "agencies", "agency_workers",
        "agency_clients", "agency_subscriptions", "payment_packages", "user_purchases", "contact_access", "photos",
        "agency_payments")}
    phone_forms = ["07{:08d}", "7{:08d}", "2547{:08d}", "+254-7{:08d}", "+2547{:08d}"]
    dates = ["2024-06-29T17:44:00Z", "2024-05-05", "27/01/2024 08:57"]
    kinds = ["agency"] * max(n // 100, 1) + ["employer"] * (n * 29 // 100)
    kinds += ["housegirl"] * (n - len(kinds))
    for i, kind in enumerate(kinds, start=1):
        data["profiles"].append({"id": str(i), "user_id": f"u{i}", "first_name": "Name", "last_name": f"N{i}",
                                 "email": f"person{i}@example.com", "phone_number":
                                 rng.choice(phone_forms).format(10_000_000 + i), "user_type": kind,
                                 "created_at": rng.choice(dates), "updated_at": rng.choice(dates)})
    agencies = [p["id"] for p in data["profiles"] if p["user_type"] == "agency"]
    for pid in agencies:
        data["agencies"].append({"id": f"ag{pid}", "profile_id": pid, "name": f"Agency {pid}",
                                 "verification_status": "verified", "subscription_tier": "basic", "rating": 4.0,
                                 "services": ["housekeeping"], "placement_fee": 5000, "phone": "",
                                 "email": f"agency{pid}@example.com", "location": rng.choice(TOWNS)})
        data["agency_profiles"].append({"id": f"a{pid}", "profile_id": pid, "agency_name": f"Agency {pid}",
                                        "location": rng.choice(TOWNS), "description": "", "license_number": "L"})
    for p in data["profiles"]:
        pid = p["id"]
        if p["user_type"] == "housegirl":
            data["housegirl_profiles"].append({
                "id": f"h{pid}", "profile_id": pid, "age": rng.choice([25, "31"]), "bio": "",
                "location": rng.choice(TOWNS), "education": "Primary",
                "experience": rng.choice(["none", "2 years", "3-5 years", "5+ years"]),
                "salary": rng.choice([7000, "8,000", "12000"]), "accommodation": rng.choice(["Live-in", "live_out"]),
                "tribe": "A", "availability": rng.choice(["immediate", "2 weeks", "1 month"]), "photo": ""})
        elif p["user_type"] == "employer":
            data["employer_profiles"].append({"id": f"e{pid}", "profile_id": pid, "company_name": "",
                                              "location": rng.choice(TOWNS), "description": "Looking"})
    data["payment_packages"].append({"id": "p1", "name": "Starter", "description": "", "price": 500,
                                     "contacts_included": 3})
    housegirls = data["housegirl_profiles"]
    for n_aw, h in enumerate(housegirls[::2], start=1):
        data["agency_workers"].append({"id": f"aw{n_aw}", "agency_id": f"ag{rng.choice(agencies)}",
                                       "worker_id": h["id"], "verification_status": "verified",
                                       "training_certificates": ["First Aid"], "background_check": "cleared",
                                       "membership_fee": 500, "joined_at": "2024-03-01T08:00:00Z"})
    for n_e, e in enumerate(data["employer_profiles"], start=1):
        if n_e % 3 == 0:
            data["agency_clients"].append({"id": f"ac{n_e}", "agency_id": f"ag{rng.choice(agencies)}",
                                           "client_id": e["id"], "hiring_fee": 5000, "placement_status": "placed",
                                           "commission_paid": True, "dispute_resolution": None})
        if n_e % 5 == 0:
            data["user_purchases"].append({"id": f"up{n_e}", "user_id": e["profile_id"], "package_id": "p1",
                                           "amount": 500, "status": "completed",
                                           "purchase_date": "2024-05-01T09:00:00Z"})
            for k in range(2):
                data["contact_access"].append({"id": f"ca{n_e}-{k}", "user_id": e["profile_id"],
                                               "target_profile_id": rng.choice(housegirls)["id"],
                                               "access_date": "2024-05-02T09:00:00Z"})
    return data


def _floor(db, org_id: int, rows: int) -> tuple[float, float]:
    raw = db.engine.raw_connection()
    mark = "?" if db.dialect == "sqlite" else "%s"
    marks = ", ".join([mark] * 7)
    query = ("INSERT INTO agency_workers (org_id, name, bio, location, location_key, education, experience_years, "
             "accommodation, availability, languages, verification_status, background_check, background_notes, "
             "membership_fee_minor, rank_score, created_at, updated_at) VALUES "
             f"({marks}, 'either', 'immediate', '[]', 'pending', 'pending', '', 0, 0, {mark}, {mark})")
    stamp = "2026-01-01 00:00:00" if db.dialect == "sqlite" else "2026-01-01T00:00:00+00:00"
    try:
        cur = raw.cursor()
        began, cpu = time.perf_counter(), time.process_time()
        if db.dialect == "sqlite":
            cur.execute("BEGIN IMMEDIATE")
        cur.executemany(query, [(org_id, f"Floor {i}", "", "Nairobi", "nairobi", "", 1, stamp, stamp)
                                for i in range(rows)])
        raw.commit()
        return time.perf_counter() - began, time.process_time() - cpu
    finally:
        raw.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--database-url", default=os.environ.get("OFISI_TEST_DATABASE_URL"))
    args = parser.parse_args(argv)
    data = generate(args.profiles)
    from core.actors import Actor
    from core.agency.migration import import_domestic_connect
    from core.registry import load_areas

    load_areas()
    with bench_database(args.database_url) as db:
        with db.session() as s:
            began, cpu = time.perf_counter(), time.process_time()
            report = import_domestic_connect(s, Actor.system_actor("bench"), data)
            seconds, cpu_s = time.perf_counter() - began, time.process_time() - cpu
        rows = report.created
        from sqlalchemy import select

        from db.models import Org

        with db.session() as s:
            org_id = s.scalar(select(Org.id).where(Org.slug == report.platform_org))
        floor_seconds, floor_cpu_s = _floor(db, org_id, rows)
    print(json.dumps({
        "bench": "agency_migration", "backend": db.dialect, "profiles": args.profiles, "rows": rows,
        "problems": len(report.problems), "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds, 1),
        "floor_rows_per_s": round(rows / floor_seconds, 1),
        "ratio": round((rows / seconds) / (rows / floor_seconds), 4), "adds_up": report.adds_up(),
        "import_cpu_s": round(cpu_s, 2), "floor_cpu_s": round(floor_cpu_s, 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
