"""Agency worker search over 100,000 workers: p99 of ``search_workers`` beside a floor.

    python bench/agency_search.py [--workers N] [--searches S] [--database-url URL]

The database is a fresh SQLite file unless ``--database-url`` (or
``OFISI_TEST_DATABASE_URL``) names a PostgreSQL server; then a scratch
database is created beside it and dropped afterwards.

One agency with ``--workers`` workers (each with a contact and two skills)
spread over 12 towns, with random salaries, experience, accommodation and
availability, written untimed with bulk INSERTs, then ANALYZEd.

``search_ms`` times ``core.agency.workers.search_workers`` (permission check,
filters, ranking, the first page of 20 with masked phones and skills, in a
new session each time) over ``--searches`` searches cycling through six
filter mixes: town; town + accommodation + salary range; availability +
experience; one skill; town + skill; no filter at all. The floor is what no
search can skip: one indexed SELECT of a page of 20 workers of one town in
rank order through the bare driver. It prints one JSON line::

    {"bench": "agency_search", "backend": ..., "workers": 100000, "searches": ..., "search_p50_ms": ...,
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


from scratch import bench_database

TOWNS = ["Nairobi", "Mombasa", "Kisumu", "Nakuru", "Eldoret", "Thika", "Nyeri", "Machakos", "Kiambu", "Ruiru",
         "Kitale", "Meru"]
SKILLS = ["cooking", "childcare", "cleaning", "laundry", "elderly care", "first aid", "gardening", "driving"]


def _setup(db, n: int):
    from sqlalchemy import insert, text

    from core.actors import Actor
    from core.agency.workers import rank_of
    from core.orgs import create_org
    from core.registry import load_areas
    from db.models import Contact
    from db.models_agency import AgencyWorker, AgencyWorkerSkill
    from db.types import utcnow

    load_areas()
    actor = Actor.system_actor("bench")
    rng = random.Random(6)
    with db.session() as s:
        org = create_org(s, actor, "bench-agency", kind="agency", name="Bench Agency")
        now = utcnow()
        s.execute(insert(Contact), [dict(org_id=org.id, name=f"Worker {i}", phone=f"+25471{i:07d}", notes="",
                                         created_at=now, updated_at=now) for i in range(n)])
        contact_ids = [cid for (cid,) in s.execute(text("SELECT id FROM contacts WHERE org_id = :o ORDER BY id"),
                                                   {"o": org.id})]
        rows = []
        for i in range(n):
            town = rng.choice(TOWNS)
            w = AgencyWorker(verification_status=rng.choice(["pending", "verified", "unverified"]),
                             background_check=rng.choice(["pending", "cleared", "cleared", "flagged"]),
                             experience_years=rng.randint(0, 12),
                             availability=rng.choice(["immediate", "two_weeks", "one_month", "unavailable"]))
            rows.append(dict(org_id=org.id, contact_id=contact_ids[i], name=f"Worker {i}", bio="", location=town,
                             location_key=town.lower(), education="", experience_years=w.experience_years,
                             expected_salary_minor=rng.randrange(6_000, 25_000, 500) * 100,
                             accommodation=rng.choice(["live_in", "live_out", "either"]),
                             availability=w.availability, languages=["swahili"],
                             verification_status=w.verification_status, background_check=w.background_check,
                             background_notes="", membership_fee_minor=0, rank_score=rank_of(w),
                             created_at=now, updated_at=now))
        s.execute(insert(AgencyWorker), rows)
        worker_ids = [wid for (wid,) in s.execute(text("SELECT id FROM agency_workers WHERE org_id = :o"),
                                                  {"o": org.id})]
        s.execute(insert(AgencyWorkerSkill), [dict(org_id=org.id, worker_id=wid, skill=skill)
                                              for wid in worker_ids for skill in rng.sample(SKILLS, 2)])
        s.commit()
    with db.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    return org, actor


MIX_NAMES = ["town", "town+accommodation+salary", "availability+experience", "skill", "town+skill", "none"]


def _mixes():
    from core.agency.workers import WorkerFilters

    return [
        WorkerFilters(location="Nakuru"),
        WorkerFilters(location="Nairobi", accommodation="live_in", salary_min_minor=800_000,
                      salary_max_minor=1_500_000),
        WorkerFilters(availability=("immediate",), min_experience=5),
        WorkerFilters(skills=("childcare",)),
        WorkerFilters(location="Kisumu", skills=("cooking",)),
        WorkerFilters(),
    ]


def _time_search(db, org, actor, searches: int) -> list[float]:
    from core.agency.workers import search_workers

    mixes, times = _mixes(), []
    for i in range(searches):
        began = time.perf_counter()
        with db.session() as s:
            page = search_workers(s, actor, org.id, mixes[i % len(mixes)], limit=20)
        times.append(time.perf_counter() - began)
        assert page.workers
    return times


def _time_floor(db, org, searches: int) -> list[float]:
    raw = db.engine.raw_connection()
    mark = "?" if db.dialect == "sqlite" else "%s"
    query = (f"SELECT id, name, rank_score FROM agency_workers WHERE org_id = {mark} AND location_key = {mark} "
             "ORDER BY rank_score DESC, id DESC LIMIT 20")
    times = []
    try:
        cur = raw.cursor()
        for i in range(searches):
            began = time.perf_counter()
            cur.execute(query, (org.id, TOWNS[i % len(TOWNS)].lower()))
            cur.fetchall()
            raw.commit()
            times.append(time.perf_counter() - began)
        cur.close()
    finally:
        raw.close()
    return times


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=600)
    parser.add_argument("--database-url", default=os.environ.get("OFISI_TEST_DATABASE_URL"))
    args = parser.parse_args(argv)
    with bench_database(args.database_url) as db:
        org, actor = _setup(db, args.workers)
        _time_search(db, org, actor, 12)  # warm both sides' caches
        _time_floor(db, org, 12)
        search_t = _time_search(db, org, actor, args.searches)
        floor_t = _time_floor(db, org, args.searches)
    ms = lambda v: round(v * 1000, 2)  # noqa: E731
    print(json.dumps({
        "bench": "agency_search", "backend": db.dialect, "workers": args.workers, "searches": args.searches,
        "search_p50_ms": ms(statistics.median(search_t)), "search_p99_ms": ms(_p(search_t, 0.99)),
        "floor_p50_ms": ms(statistics.median(floor_t)), "floor_p99_ms": ms(_p(floor_t, 0.99)),
        "ratio_p99": round(_p(search_t, 0.99) / _p(floor_t, 0.99), 1), "target_p99_ms": 50,
        "p99_ms_by_mix": [ms(_p(search_t[i::len(MIX_NAMES)], 0.99)) for i in range(len(MIX_NAMES))],
        "mixes": MIX_NAMES, "load_average": [round(x, 2) for x in os.getloadavg()],
    }))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
