"""The migration from the old platform: 10,000 generated legacy users (with a post
each and 10,000 connections) through ``core.community.migration.import_export``,
in rows written per second, beside a floor measured in the same run.

    python bench/community_migration.py [--users N] [--database-url URL]

The database is a fresh SQLite file unless ``--database-url`` (or
``OFISI_TEST_DATABASE_URL``) names a PostgreSQL server; then a scratch
database is created beside it and dropped afterwards.

The export looks like the sample: mixed-case labels (one in nine unknown),
phones written every way people write them, one user in fifty without an
email, a duplicate id and a self-connection now and then. The workload is one
batch in one transaction: the checks, accounts, primary profiles, posts,
connections, a migration record per user and the audit row, committed. Rows
are everything it wrote. The floor is the same number of rows of the same
tables (accounts, profiles, posts, connections, records) written by bare
multi-row INSERTs in one transaction with no checks at all, in a second org.
Then a second import of the same file (which must create nothing) is timed as
``rerun_s``. It prints one JSON line::

    {"bench": "community_migration", "backend": ..., "users": 10000, "rows": ..., "import_s": ...,
     "rows_per_s": ..., "floor_rows_per_s": ..., "ratio": ..., "rerun_s": ..., "adds_up": true}
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select  # noqa: E402

from bench.scratch import bench_database  # noqa: E402

LABELS = ["innovator", "Innovator", "Mentor", "Investor", "Student", "Institution", "Organisation", "Professional",
          "Alien"]


def legacy_export(n: int) -> dict[str, list[dict]]:
    rng = random.Random(3)
    users = []
    for i in range(1, n + 1):
        digits = f"7{rng.randrange(10**7, 10**8)}"
        phone = rng.choice([f"0{digits}", f"+254{digits}", f"254{digits}", f"0{digits[:3]} {digits[3:6]} {digits[6:]}",
                            ""])
        users.append({"id": f"old-{i}", "email": "" if i % 50 == 0 else f"user{i}@example.org",
                      "name": f"User {i}", "type": rng.choice(LABELS), "bio": "Building things",
                      "avatar": f"https://old.example.org/a/{i}.png", "phone": phone,
                      "created_at": "2024-01-01T00:00:00"})
        if i % 1000 == 0:
            users.append(dict(users[-2]))  # a duplicate id
    posts = [{"id": f"p-{i}", "user_id": f"old-{i}", "type": "general", "title": "Update",
              "content": "We launched a pilot.", "created_at": "2024-02-02T10:00:00"} for i in range(1, n + 1)]
    connections = [{"from": f"old-{rng.randrange(1, n + 1)}", "to": f"old-{rng.randrange(1, n + 1)}",
                    "status": rng.choice(["accepted", "pending"])} for _ in range(n)]
    return {"users": users, "posts": posts, "connections": connections}


def _floor(db, org_id: int, n: int) -> tuple[int, float]:
    """Bare multi-row INSERTs of as many rows per table as the import wrote, one transaction."""
    from db.models_community import (
        CommunityAccount,
        CommunityConnection,
        CommunityImportBatch,
        CommunityMigrationRecord,
        CommunityPost,
        CommunityProfile,
    )

    began = time.perf_counter()
    with db.engine.begin() as conn:
        batch = conn.execute(insert(CommunityImportBatch).values(org_id=org_id, file="floor", actor="bench",
                                                                 report={}).returning(CommunityImportBatch.id)).scalar()
        base = 10_000_000
        ids = range(base, base + n)
        for start in range(0, n, 500):
            chunk = ids[start:start + 500]
            conn.execute(insert(CommunityAccount), [{"id": i, "org_id": org_id, "email": f"f{i}@example.org",
                                                     "phone": None, "email_verified": False, "phone_verified": False,
                                                     "migrated": True} for i in chunk])
            conn.execute(insert(CommunityProfile), [
                {"id": i, "org_id": org_id, "account_id": i, "type": "innovator", "display_name": f"User {i}",
                 "username": f"f-{i}", "bio": "", "location": "", "website": "", "avatar_file": "",
                 "verified": False, "is_primary": True, "search_text": f"user {i}"} for i in chunk])
            conn.execute(insert(CommunityPost), [
                {"id": i, "org_id": org_id, "author_profile_id": i, "type": "general", "title": "Update",
                 "body": "We launched a pilot.", "hidden": False, "legacy_id": f"fp-{i}", "search_text": "update"}
                for i in chunk])
            conn.execute(insert(CommunityMigrationRecord), [
                {"org_id": org_id, "batch_id": batch, "legacy_id": f"f-{i}", "account_id": i, "status": "created",
                 "created": {"accounts": [i], "profiles": [i], "posts": [i], "connections": []}, "notes": []}
                for i in chunk])
        for start in range(0, n - 1, 500):
            conn.execute(insert(CommunityConnection), [
                {"org_id": org_id, "requester_profile_id": i, "profile_low_id": i, "profile_high_id": i + 1,
                 "status": "accepted"} for i in ids[start:start + 500] if i + 1 < base + n])
    rows = 5 * n - 1
    return rows, time.perf_counter() - began


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--database-url", default=os.environ.get("OFISI_TEST_DATABASE_URL"))
    args = parser.parse_args(argv)

    from core.actors import Actor
    from core.community.migration import import_export
    from core.orgs import create_org
    from core.registry import load_areas
    from db.models_community import CommunityMigrationRecord

    load_areas()
    data = legacy_export(args.users)
    actor = Actor.system_actor("bench")
    with bench_database(args.database_url) as db:
        with db.session() as s:
            org = create_org(s, actor, "bench-migration", kind="community", name="Bench", country="KE")
            other = create_org(s, actor, "bench-floor", kind="community", name="Floor", country="KE")
        with db.session() as s:
            began = time.perf_counter()
            report = import_export(s, actor, org.id, data, file="bench.json")
            elapsed = time.perf_counter() - began
            records = s.scalar(select(func.count()).select_from(CommunityMigrationRecord))
        with db.session() as s:
            began = time.perf_counter()
            rerun = import_export(s, actor, org.id, data, file="bench.json")
            rerun_s = time.perf_counter() - began
        floor_rows, floor_s = _floor(db, other.id, report.accounts_created)
    rows = 2 * report.accounts_created + report.posts_created + report.connections_created + records
    print(json.dumps({
        "bench": "community_migration", "backend": db.dialect, "users": args.users,
        "accounts": report.accounts_created, "rows": rows, "import_s": round(elapsed, 2),
        "rows_per_s": round(rows / elapsed), "floor_rows_per_s": round(floor_rows / floor_s),
        "ratio": round((rows / elapsed) / (floor_rows / floor_s), 3), "rerun_s": round(rerun_s, 2),
        "rerun_created": rerun.accounts_created + rerun.posts_created + rerun.connections_created,
        "adds_up": report.adds_up and rerun.adds_up,
    }))


if __name__ == "__main__":
    main()
