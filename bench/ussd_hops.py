"""USSD hops per second and p99 latency at 50 concurrent sessions, beside a bare
``CON hello`` endpoint served by the same uvicorn server in the same run.

The load comes from a separate process (as from wrk), so client and server
do not share a GIL, through ``loadgen`` (one kept-alive connection per phone). Each session is a member dialling the chama menu: dial, PIN, balance, back,
mini statement, home (six hops, each a real form POST in Africa's Talking's
format). The floor is the same number of POSTs to an endpoint that answers
``CON hello`` without touching the database. Prints one JSON line.

    python bench/ussd_hops.py [--sessions 50] [--rounds 4] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvicorn  # noqa: E402
from starlette.responses import PlainTextResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from config import load_settings  # noqa: E402
from core.actors import Actor  # noqa: E402
from loadgen import Connection  # noqa: E402
from scratch import bench_database  # noqa: E402

HOPS = ["", "2580", "2580*1", "2580*1*0", "2580*1*0*4", "2580*1*0*4*00"]


def seed(db, members: int) -> list[str]:
    from core.chama import ledger
    from core.chama.members import add_member
    from core.orgs import create_org
    from core.ussd_pins import set_pin

    actor = Actor.system_actor("bench")
    phones = []
    with db.session() as session:
        org = create_org(session, actor, f"bench-{uuid.uuid4().hex[:8]}", kind="chama", name="Bench Chama")
        for i in range(members):
            phone = f"+2547{uuid.uuid4().int % 10**8:08d}"
            member = add_member(session, actor, org.id, name=f"Member {i}", phone=phone,
                                role="chair" if i == 0 else "member")
            ledger.record_contribution(session, actor, org.id, member.id, 100_000, source="cash", reference=f"B{i}")
            set_pin(session, phone, "2580")
            phones.append(phone)
        session.commit()
    return phones


def start(app) -> tuple[uvicorn.Server, str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return server, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"


async def run(url: str, sessions: list[tuple[str, list[str]]]) -> tuple[float, list[float]]:
    latencies: list[float] = []
    parts = urlsplit(url)
    connections = [Connection(parts.hostname, parts.port) for _ in sessions]

    async def one(connection: Connection, phone: str, texts: list[str]) -> None:
        session_id = f"bench-{uuid.uuid4().hex}"
        for text in texts:
            began = time.perf_counter()
            status, answer = await connection.post(parts.path, {
                "sessionId": session_id, "serviceCode": "*384#", "phoneNumber": phone, "networkCode": "63902",
                "text": text})
            latencies.append(time.perf_counter() - began)
            if status != 200 or not answer.startswith(("CON", "END")):
                raise RuntimeError(f"bad answer {status}: {answer!r}")

    began = time.perf_counter()
    try:
        await asyncio.gather(*(one(c, phone, texts) for c, (phone, texts) in zip(connections, sessions)))
    finally:
        for connection in connections:
            connection.close()
    return time.perf_counter() - began, latencies


def measure(url: str, sessions: list[tuple[str, list[str]]]) -> tuple[float, list[float]]:
    """Run the load from a separate process, so the client never competes with the server for the GIL."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_client, (url, sessions))


def _client(url: str, sessions: list[tuple[str, list[str]]]) -> tuple[float, list[float]]:
    return asyncio.run(run(url, sessions))


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--database-url", default=os.environ.get("OFISI_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    with bench_database(args.database_url) as db:
        ussd_rate, ussd_lat, bare_rate, bare_lat = _measure_both(db, args)
    print(json.dumps({
        "bench": "ussd_hops", "backend": db.dialect, "concurrent_sessions": args.sessions, "hops": len(ussd_lat),
        "ussd_hops_per_s": round(ussd_rate, 1), "ussd_p99_ms": round(p99(ussd_lat), 1),
        "bare_per_s": round(bare_rate, 1), "bare_p99_ms": round(p99(bare_lat), 1),
        "ratio": round(ussd_rate / bare_rate, 3),
    }))


def _measure_both(db, args) -> tuple[float, list[float], float, list[float]]:
    """The chama menu and the bare endpoint, round after round, on one server."""
    import ussd.gateway as gateway

    app = gateway.create_app(db, load_settings({}))
    app.router.routes.append(Route("/bench/hello", lambda request: PlainTextResponse("CON hello"),
                                   methods=["POST"]))
    server, base = start(app)
    try:
        phones = seed(db, args.sessions)
        hops = [(phone, HOPS) for phone in phones]
        measure(f"{base}/ussd/callback", hops[:5])  # warm up
        ussd_time, ussd_lat, bare_time, bare_lat = 0.0, [], 0.0, []
        for _ in range(args.rounds):
            t, lat = measure(f"{base}/ussd/callback", hops)
            ussd_time, ussd_lat = ussd_time + t, ussd_lat + lat
            t, lat = measure(f"{base}/bench/hello", hops)
            bare_time, bare_lat = bare_time + t, bare_lat + lat
    finally:
        server.should_exit = True
    return len(ussd_lat) / ussd_time, ussd_lat, len(bare_lat) / bare_time, bare_lat


if __name__ == "__main__":
    main()
