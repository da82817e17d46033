"""Where the USSD session store's own time goes: one hop's session work (lock or read the row,
write it back, commit), one layer at a time, in one thread, so each layer's price can be read
off as the difference to the one below it.

* ``driver``: the bare DB-API connection (psycopg / sqlite3), the same SQL the store sends;
* ``driver_no_flush``: the same with the commit not waiting for the disk (PostgreSQL
  ``synchronous_commit=off`` for this connection only; SQLite ``synchronous=OFF``): what the
  durability of the commit costs. Shown for the measure only; the gateway never does this;
* ``core``: SQLAlchemy Core on a pooled ``Connection`` (the statements built once);
* ``store``: :func:`core.ussd_sessions.begin_hop` and :func:`~core.ussd_sessions.save_hop` in
  an ORM ``Session`` from the gateway's own engine, as the bench's state-only endpoint does
  (pool pre-ping included: a connection is checked before each hop, so a restarted database
  costs no caller a failed screen).

Each figure is microseconds per hop, wall and this process's CPU, over ``--hops`` hops of
``--sessions`` sessions, with the 1-minute load average. Prints one JSON line.

    python bench/ussd_store.py [--hops 2000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import bindparam, select, update  # noqa: E402

from scratch import bench_database  # noqa: E402

SESSIONS = 50


def _timed(hops: int, one) -> dict[str, float]:
    for n in range(50):
        one(n)
    wall, cpu = time.perf_counter(), time.process_time()
    for n in range(hops):
        one(n)
    return {"wall_us": round((time.perf_counter() - wall) / hops * 1e6, 1),
            "cpu_us": round((time.process_time() - cpu) / hops * 1e6, 1)}


def _seed(db) -> list[str]:
    from core.ussd_sessions import begin_hop, save_hop

    ids = [f"store-{n}" for n in range(SESSIONS)]
    with db.session() as session:
        for sid in ids:
            save_hop(session, begin_hop(session, sid, "+254700000001", "*384#", "entry", new=True), ended=False)
        session.commit()
    return ids


def _driver_sql(dialect: str) -> tuple[str, str]:
    mark = (lambda name: f"%({name})s") if dialect == "postgresql" else (lambda name: f":{name}")
    lock = f"SELECT session_id, phone, state, data, last_text, hops, ended FROM ussd_sessions " \
           f"WHERE session_id = {mark('sid')}" + (" FOR UPDATE" if dialect == "postgresql" else "")
    save = f"UPDATE ussd_sessions SET state = {mark('state')}, last_text = {mark('text')}, hops = hops + 1 " \
           f"WHERE session_id = {mark('sid')}"
    return lock, save


def driver(db, ids: list[str], hops: int, *, flush: bool) -> dict[str, float]:
    raw = db.engine.raw_connection()
    try:
        conn = raw.driver_connection
        lock, save = _driver_sql(db.dialect)
        if db.dialect == "postgresql":
            if not flush:
                conn.execute("SET synchronous_commit = off")  # this connection, this measure only
            conn.commit()

            def one(n: int) -> None:
                sid = ids[n % len(ids)]
                conn.execute(lock, {"sid": sid}).fetchone()
                conn.execute(save, {"sid": sid, "state": "menu", "text": str(n)})
                conn.commit()
        else:
            if not flush:
                conn.execute("PRAGMA synchronous=OFF")

            def one(n: int) -> None:
                sid = ids[n % len(ids)]
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(lock, {"sid": sid}).fetchone()
                conn.execute(save, {"sid": sid, "state": "menu", "text": str(n)})
                conn.execute("COMMIT")

        return _timed(hops, one)
    finally:
        if db.dialect == "postgresql" and not flush:
            raw.driver_connection.execute("RESET synchronous_commit")
        elif not flush:
            raw.driver_connection.execute("PRAGMA synchronous=NORMAL")
        raw.close()


def core(db, ids: list[str], hops: int) -> dict[str, float]:
    from db.models_ussd import UssdSession

    table = UssdSession.__table__
    lock = select(table).where(table.c.session_id == bindparam("sid")).with_for_update()
    save = update(table).where(table.c.session_id == bindparam("sid"))

    def one(n: int) -> None:
        sid = ids[n % len(ids)]
        with db.engine.connect() as conn:
            conn.execute(lock, {"sid": sid}).first()
            conn.execute(save, {"sid": sid, "state": "menu", "last_text": str(n)})
            conn.commit()

    return _timed(hops, one)


def store(db, ids: list[str], hops: int) -> dict[str, float]:
    from core.ussd_sessions import begin_hop, save_hop

    def one(n: int) -> None:
        with db.session() as session:
            state = begin_hop(session, ids[n % len(ids)], "+254700000001", "*384#", "entry")
            state.last_text = str(n)
            save_hop(session, state, ended=False)
            session.commit()

    return _timed(hops, one)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hops", type=int, default=2000)
    parser.add_argument("--database-url", default=os.environ.get("OFISI_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    with bench_database(args.database_url) as db:
        ids = _seed(db)
        figures = {"driver": driver(db, ids, args.hops, flush=True),
                   "driver_no_flush": driver(db, ids, args.hops, flush=False),
                   "core": core(db, ids, args.hops),
                   "store": store(db, ids, args.hops)}
    print(json.dumps({"bench": "ussd_store", "backend": db.dialect, "hops": args.hops, **figures,
                      "load_average": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
