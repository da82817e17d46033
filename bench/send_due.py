"""`ofisi send due` throughput with the ``log`` provider, beside a floor of bare writes.

    python bench/send_due.py [--messages N] [--batch-size B] [--repeat R] [--database-url URL]

The database is a fresh SQLite file in a temporary directory unless
``--database-url`` (or ``OFISI_TEST_DATABASE_URL``) names a PostgreSQL server;
then a scratch database is created beside the one named (the user needs
CREATEDB) and dropped afterwards, so nothing of yours is touched.

It prints one JSON line on stdout::

    {"bench": "send_due", "backend": "sqlite", "messages": 5000,
     "send_due_per_s": ..., "floor_per_s": ..., "ratio": ...}

``ratio`` is send_due_per_s / floor_per_s: 1.0 would mean the dispatcher costs
no more than the writes no dispatcher can skip. The two are timed in turns,
``--repeat`` times (fresh rows each time), and the best of each is kept, so
that a busy machine skews them both less.

The floor. The outbox promises that a crash leaves at most the in-flight
message ``unknown`` and never sends twice, so any dispatcher that keeps that
promise must have each message's ``sending`` committed before its provider
call and its outcome committed before the next call (the two can share one
commit), and must claim its batch in a committed write so that other
processes skip it. The floor is exactly that and nothing more: per batch one
claiming UPDATE and commit, per message two single-row UPDATEs (the outcome of
the call before, this one's ``sending``) in one commit, through the bare driver (no SQLAlchemy, no ORM, no RETURNING, no locking
SELECT, ids known in advance), on the same database, the same ``messages``
table and indexes, the same row count, and on SQLite the same ``BEGIN
IMMEDIATE`` transactions. Its rows are made by bare INSERTs, untimed, just as
the dispatcher's rows are enqueued untimed; timing the INSERTs too would make
the floor slower and the ratio flatter than the truth.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import uuid
from datetime import timezone

from scratch import bench_database


def _enqueue(db, org_id: int, count: int) -> None:
    from core import outbox

    with db.session() as s:
        for i in range(count):
            outbox.enqueue(s, org_id, to=f"+25471{i % 10_000_000:07d}", body=f"Bench message {i}",
                           purpose="service")
        s.commit()


def _time_send_due(db, count: int, batch_size: int) -> float:
    from core.outbox import send_due
    from core.providers.log import LogProvider

    # The log provider's own output is console I/O, not dispatching: keep it out of the timing.
    logging.getLogger("ofisi.outbox.log").setLevel(logging.WARNING)
    start = time.perf_counter()
    summary = send_due(db, {"sms": LogProvider()}, batch_size=batch_size)
    elapsed = time.perf_counter() - start
    if summary.sent != count:
        raise SystemExit(f"send_due sent {summary.sent} of {count}: {summary.line()}")
    return elapsed


def _time_floor(db, org_id: int, count: int, batch_size: int) -> float:
    from db.types import utcnow

    sqlite = db.dialect == "sqlite"
    p = "?" if sqlite else "%s"
    raw = db.engine.raw_connection()  # the engine's own connection setup (WAL, busy timeout, …)
    try:
        cur = raw.cursor()
        now = utcnow()
        stamp = now.astimezone(timezone.utc).replace(tzinfo=None) if sqlite else now

        def begin() -> None:
            if sqlite:
                cur.execute("BEGIN IMMEDIATE")

        # Untimed: bare INSERTs of the floor's rows, in a state the dispatcher never looks at.
        begin()
        cur.executemany(
            "INSERT INTO messages (org_id, channel, to_address, body, status, attempts, next_attempt_at, "
            f"created_at, updated_at) VALUES ({p}, 'sms', {p}, {p}, 'floor', 0, {p}, {p}, {p})",
            [(org_id, f"+25472{i % 10_000_000:07d}", f"Floor message {i}", stamp, stamp, stamp)
             for i in range(count)],
        )
        raw.commit()
        cur.execute("SELECT id FROM messages WHERE status = 'floor' ORDER BY id")
        ids = [row[0] for row in cur.fetchall()]
        raw.commit()

        sending = (f"UPDATE messages SET status = 'sending', attempts = attempts + 1, updated_at = {p} "
                   f"WHERE id = {p}")
        sent = f"UPDATE messages SET status = 'sent', sent_at = {p}, provider_message_id = {p}, updated_at = {p} " \
               f"WHERE id = {p}"
        start = time.perf_counter()
        for first in range(0, len(ids), batch_size):
            batch = ids[first:first + batch_size]
            begin()
            cur.execute(f"UPDATE messages SET status = 'claimed', claimed_by = 'floor', claimed_at = {p} "
                        f"WHERE id BETWEEN {p} AND {p}", (stamp, batch[0], batch[-1]))
            raw.commit()
            previous = None
            for message_id in batch:
                # The call before's outcome and this one's "sending", in one commit (as the dispatcher).
                begin()
                if previous is not None:
                    cur.execute(sent, (stamp, f"floor-{previous}", stamp, previous))
                cur.execute(sending, (stamp, message_id))
                raw.commit()
                previous = message_id
            begin()
            cur.execute(sent, (stamp, f"floor-{previous}", stamp, previous))
            raw.commit()
        elapsed = time.perf_counter() - start
        cur.close()
        return elapsed
    finally:
        raw.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("OFISI_TEST_DATABASE_URL"))
    args = parser.parse_args(argv)

    from core.actors import Actor
    from core.orgs import create_org

    with bench_database(args.database_url) as db:
        with db.session() as s:
            org = create_org(s, Actor.system_actor("bench"), f"bench-{uuid.uuid4().hex[:8]}",
                             kind="campaigns", name="Bench")
        send_s = floor_s = float("inf")
        for _ in range(max(1, args.repeat)):
            _enqueue(db, org.id, args.messages)
            send_s = min(send_s, _time_send_due(db, args.messages, args.batch_size))
            floor_s = min(floor_s, _time_floor(db, org.id, args.messages, args.batch_size))
    send_rate, floor_rate = args.messages / send_s, args.messages / floor_s
    print(json.dumps({
        "bench": "send_due",
        "backend": db.dialect,
        "messages": args.messages,
        "send_due_per_s": round(send_rate, 1),
        "floor_per_s": round(floor_rate, 1),
        "ratio": round(send_rate / floor_rate, 3),
    }))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
