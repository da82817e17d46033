"""A campaign's send rate through the real Africa's Talking provider to the fake server,
beside a floor of bare httpx posts of the same requests at the same concurrency.

    python bench/campaign_send.py [--messages N] [--parallel P] [--batch-size B] [--database-url URL]

The fake Africa's Talking (``tests/fakes/africastalking.py``) runs in its own
process, so its work does not share this process's interpreter lock. The
database is a fresh SQLite file unless ``--database-url`` (or
``OFISI_TEST_DATABASE_URL``) names a PostgreSQL server, where a scratch
database is made and dropped.

Three figures, one JSON line on stdout::

    {"bench": "campaign_send", "backend": ..., "messages": 10000, "parallel": 16,
     "personalised_per_s": ..., "floor_per_s": ..., "ratio": ...,
     "bulk_recipients": 10000, "bulk_recipients_per_s": ...}

* ``personalised_per_s``: ``send_due`` with ``parallel`` threads sending
  a launched campaign of ``messages`` personalised texts (launching untimed),
  every message recorded ``sending`` before its call and its outcome after.
* ``floor_per_s``: an ``httpx.Client`` in ``parallel`` threads posting the
  same form (username, to, message, bulkSMSMode, the apiKey header) to the
  same fake, one request per message, with no database at all.
* ``bulk_recipients_per_s``: one identical text to ``messages`` recipients
  (bulk requests of up to 500 numbers), end to end through ``send_due``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scratch import bench_database  # noqa: E402

API_KEY = "bench-key"


def _serve(urls, stop) -> None:
    from tests.fakes.africastalking import FakeAfricasTalking

    fake = FakeAfricasTalking(api_key=API_KEY).start()
    urls.put(fake.url)
    stop.wait()
    fake.stop()


def _launch(db, org_id: int, count: int, text: str, offset: int) -> int:
    from sqlalchemy import insert

    from core.actors import Actor
    from core.campaigns import service
    from db.models import Contact
    from db.types import utcnow

    actor = Actor.system_actor("bench")
    now = utcnow()
    with db.session() as s:
        s.execute(insert(Contact), [{"org_id": org_id, "name": f"Vendor {i}", "phone": f"+25471{i:07d}",
                                     "notes": "", "created_at": now, "updated_at": now}
                                    for i in range(offset, offset + count)])
        s.commit()
        c = service.create_campaign(s, actor, org_id, name=f"bench {offset}", text=text, audience="contacts")
        service.launch_campaign(s, actor, org_id, c.id)
        return c.id


def _send(db, url: str, parallel: int, batch_size: int, expect: int) -> float:
    from core.outbox import send_due
    from core.providers.africastalking import AfricasTalkingSMS

    provider = AfricasTalkingSMS("sandbox", API_KEY, base_url=url)
    start = time.perf_counter()
    summary = send_due(db, {"sms": provider}, parallel=parallel, batch_size=batch_size)
    elapsed = time.perf_counter() - start
    provider.close()
    if summary.sent != expect:
        raise SystemExit(f"send_due sent {summary.sent} of {expect}: {summary.line()}")
    return elapsed


def _floor(url: str, count: int, parallel: int) -> float:
    import threading

    import httpx

    local = threading.local()
    clients: list[httpx.Client] = []

    def post(i: int) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(headers={"apiKey": API_KEY, "Accept": "application/json"})
            clients.append(client)
        reply = client.post(f"{url}/version1/messaging", data={
            "username": "sandbox", "to": f"+25472{i:07d}", "message": f"Habari Vendor {i}, +25472{i:07d}",
            "bulkSMSMode": 1})
        if reply.status_code != 201:
            raise SystemExit(f"the floor got HTTP {reply.status_code}")

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        list(pool.map(post, range(count)))
    elapsed = time.perf_counter() - start
    for client in clients:
        client.close()
    return elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--parallel", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--database-url", default=os.environ.get("OFISI_TEST_DATABASE_URL"))
    args = parser.parse_args(argv)

    import logging

    logging.getLogger("ofisi").setLevel(logging.ERROR)
    from core.actors import Actor
    from core.orgs import create_org

    ctx = mp.get_context("spawn")
    urls, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=_serve, args=(urls, stop), daemon=True)
    server.start()
    url = urls.get(timeout=30)
    try:
        with bench_database(args.database_url) as db:
            with db.session() as s:
                org, bulk_org = (create_org(s, Actor.system_actor("bench"), f"bench-{uuid.uuid4().hex[:8]}",
                                            kind="chama", name="Bench") for _ in range(2))
            _launch(db, org.id, args.messages, "Habari {{ name }}, {{ phone }}", 0)
            send_s = _send(db, url, args.parallel, args.batch_size, args.messages)
            floor_s = _floor(url, args.messages, args.parallel)
            _launch(db, bulk_org.id, args.messages, "The scheme office opens on Monday.", args.messages)
            bulk_s = _send(db, url, args.parallel, args.batch_size, args.messages)
            backend = db.dialect
    finally:
        stop.set()
        server.join(timeout=10)
    send_rate, floor_rate = args.messages / send_s, args.messages / floor_s
    print(json.dumps({
        "bench": "campaign_send", "backend": backend, "messages": args.messages, "parallel": args.parallel,
        "personalised_per_s": round(send_rate, 1), "floor_per_s": round(floor_rate, 1),
        "ratio": round(send_rate / floor_rate, 3),
        "bulk_recipients": args.messages, "bulk_recipients_per_s": round(args.messages / bulk_s, 1),
    }))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
