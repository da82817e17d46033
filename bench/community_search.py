"""Community staff search over 100,000 profiles: p50/p99 of ``core.community.search.search``
beside a floor measured in the same run.

    python bench/community_search.py [--profiles N] [--queries Q] [--database-url URL]

The database is a fresh SQLite file unless ``--database-url`` (or
``OFISI_TEST_DATABASE_URL``) names a PostgreSQL server; then a scratch
database is created beside it and dropped afterwards. The target (p99 under
50 ms) is for PostgreSQL, where the trigram indexes serve ``LIKE '%term%'``.

Profiles are written untimed with bulk INSERTs: generated first and last
names (so a first name matches about 1 profile in 40, a surname about 1 in
60, a full name about 1 in 2,400) and a unique username each. The queries
cycle through first names, surnames, full names, unique usernames and terms
that match nothing, each a new transaction as a signed-in admin (permission
check, then one page of 25). The floor is the cheapest page any list can
serve: ``SELECT … ORDER BY id DESC LIMIT 25`` of the org's profiles through
the bare driver. It prints one JSON line::

    {"bench": "community_search", "backend": ..., "profiles": 100000, "queries": ..., "search_p50_ms": ...,
     "search_p99_ms": ..., "floor_p50_ms": ..., "floor_p99_ms": ..., "ratio_p99": ..., "target_p99_ms": 50}
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text  # noqa: E402

from bench.scratch import bench_database  # noqa: E402

FIRST = ["Wanjiku", "Achieng", "Njeri", "Fatuma", "Mercy", "Grace", "Halima", "Joyce", "Esther", "Zawadi", "Amina",
         "Faith", "Peter", "John", "Brian", "Kevin", "Daniel", "Moses", "Priya", "Ananya", "Rohan", "Kavya", "Arjun",
         "Sneha", "Vikram", "Meera", "Aditya", "Pooja", "Rahul", "Divya", "Otieno", "Kamau", "Mwangi", "Hassan",
         "Chebet", "Wambui", "Abdi", "Akinyi", "Nduta", "Mutua"]
LAST = ["Kiptoo", "Odhiambo", "Kimani", "Mutiso", "Wekesa", "Kariuki", "Sharma", "Iyer", "Mehta", "Nair", "Reddy",
        "Patil", "Singh", "Joshi", "Rao", "Desai", "Verma", "Menon", "Njoroge", "Atieno", "Mohamed", "Wanjiru",
        "Adhiambo", "Muthoni", "Kiprono", "Nyambura", "Omondi", "Wangari", "Kulkarni", "Deshmukh", "Ochieng",
        "Wafula", "Nafula", "Mwende", "Kamande", "Gitau", "Macharia", "Ruto", "Langat", "Koech", "Cheruiyot",
        "Barasa", "Simiyu", "Okoth", "Owino", "Onyango", "Musyoka", "Kilonzo", "Mulwa", "Ndirangu", "Gichuki",
        "Kahiga", "Maina", "Ngugi", "Irungu", "Kinyua", "Mugo", "Waweru", "Githinji", "Muriuki"]
TYPES = ["innovator", "mentor", "investor", "academic_student", "academic_institution", "organization", "professional"]


def _setup(db, n: int):
    from core.actors import Actor
    from core.orgs import create_org
    from core.registry import load_areas
    from db.models_community import CommunityAccount, CommunityProfile

    load_areas()
    rng = random.Random(7)
    with db.session() as s:
        org = create_org(s, Actor.system_actor("bench"), "bench-community", kind="community", name="Bench",
                         country="KE")
    chunk = 5000
    with db.engine.begin() as conn:
        for start in range(0, n, chunk):
            ids = range(start + 1, min(n, start + chunk) + 1)
            conn.execute(insert(CommunityAccount), [
                {"id": i, "org_id": org.id, "phone": f"+2547{i:08d}", "email": None, "email_verified": False,
                 "phone_verified": True, "migrated": False} for i in ids])
            rows = []
            for i in ids:
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                username = f"{name.lower().replace(' ', '-')}-{i}"
                rows.append({"id": i, "org_id": org.id, "account_id": i, "type": rng.choice(TYPES),
                             "display_name": name, "username": username, "bio": "", "location": "Nairobi",
                             "website": "", "avatar_file": "", "verified": False, "is_primary": True,
                             "search_text": f"{name.lower()} {username} nairobi"})
            conn.execute(insert(CommunityProfile), rows)
        if db.dialect == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence('community_accounts', 'id'), :n)"), {"n": n})
            conn.execute(text("SELECT setval(pg_get_serial_sequence('community_profiles', 'id'), :n)"), {"n": n})
    if db.dialect == "postgresql":
        # What autovacuum does after a bulk load: statistics, and the trigram index's pending list merged.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE community_profiles, community_accounts"))
    return org


def _terms(n: int, profiles: int) -> list[str]:
    rng = random.Random(11)
    kinds = [lambda: rng.choice(FIRST), lambda: rng.choice(LAST),
             lambda: f"{rng.choice(FIRST)} {rng.choice(LAST)}",
             lambda: f"-{rng.randrange(1, profiles)}",
             lambda: rng.choice(["zebra", "xylophone", "quokka", "vuvuzela"])]
    return [kinds[i % len(kinds)]() for i in range(n)]


KINDS = ("first_name", "surname", "full_name", "username", "no_match")


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--database-url", default=os.environ.get("OFISI_TEST_DATABASE_URL"))
    args = parser.parse_args(argv)

    from core.actors import Actor
    from core.community.search import search

    with bench_database(args.database_url) as db:
        org = _setup(db, args.profiles)
        actor = Actor.system_actor("bench")
        terms = _terms(args.queries, args.profiles)
        times, floor, hits = [], [], 0
        with db.session() as s:
            for term in terms[:20]:  # warm the caches both sides use
                search(s, actor, org.id, term)
                s.rollback()
            for term in terms:
                began = time.perf_counter()
                hits += len(search(s, actor, org.id, term))
                s.rollback()
                times.append(time.perf_counter() - began)
        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            mark = "%s" if db.dialect == "postgresql" else "?"
            query = (f"SELECT id, display_name, type, username FROM community_profiles WHERE org_id = {mark} "
                     "ORDER BY id DESC LIMIT 25")
            for _ in range(args.queries):
                began = time.perf_counter()
                cur.execute(query, (org.id,))
                cur.fetchall()
                raw.commit()
                floor.append(time.perf_counter() - began)
        finally:
            raw.close()
    ms = lambda v: round(v * 1000, 2)  # noqa: E731
    print(json.dumps({
        "bench": "community_search", "backend": db.dialect, "profiles": args.profiles, "queries": len(terms),
        "hits": hits, "search_p50_ms": ms(statistics.median(times)), "search_p99_ms": ms(_p(times, 0.99)),
        "floor_p50_ms": ms(statistics.median(floor)), "floor_p99_ms": ms(_p(floor, 0.99)),
        "ratio_p99": round(_p(times, 0.99) / _p(floor, 0.99), 1), "target_p99_ms": 50,
        "p99_ms_by_term": {name: ms(_p(times[i::len(KINDS)], 0.99)) for i, name in enumerate(KINDS)},
    }))


if __name__ == "__main__":
    main()
