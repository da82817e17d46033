"""USSD hops per second and p99 latency at 50 concurrent sessions, beside a bare
``CON hello`` endpoint served by the same uvicorn server in the same run.

The load comes from a separate process (as from wrk), so client and server
do not share a GIL, through ``loadgen`` (one kept-alive connection per
phone). Each session is a member dialling the chama menu: dial, PIN, balance, back,
mini statement, home (six hops, each a real form POST in Africa's Talking's
format). The floor is the same number of POSTs to an endpoint that answers
``CON hello`` without touching the database. Prints one JSON line.

A third figure says where the rest goes: ``state_only_per_s`` is the same
POSTs to an endpoint that does only what every hop must (pass the gateway's
limits and callback gate and read the form, as ``/ussd/callback`` does; lock
or open the session row, save it, commit, in the hops' own threads) and none
of the menu's work; ``state_only_ratio`` is its share of the bare endpoint, and
``hop_to_state_ratio`` the hops' share of it (what the menu costs beyond the
session store). ``load_average`` is the machine's 1-minute load at the end:
the figures are only as quiet as the machine was.

By default the next input goes the moment an answer arrives (the most the
server can answer); ``--think-ms`` paces each session like a person reading.

    python bench/ussd_hops.py [--sessions 50] [--rounds 4] [--workers N] [--think-ms T] [--ramp-s R]
                              [--population N] [--no-pin-key] [--database-url URL]
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
from collections.abc import Iterator
from contextlib import contextmanager
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


def populate(db, members: int, per_chama: int = 50) -> None:
    """``members`` other people in chamas of their own (``per_chama`` to a chama), as a platform that
    serves a nation holds: the callers' look-ups then run against a table that size, not 50 rows."""
    from datetime import date

    from sqlalchemy import insert, select

    from db.models import Contact, Org
    from db.models_chama import ChamaMember
    from db.types import utcnow

    now, batch = utcnow(), uuid.uuid4().hex[:6]
    with db.engine.begin() as conn:
        chamas = -(-members // per_chama)
        conn.execute(insert(Org), [{"slug": f"pop-{batch}-{n}", "name": f"Chama {n}", "kind": "chama",
                                    "timezone": "Africa/Nairobi", "currency": "KES", "country": "KE",
                                    "created_at": now} for n in range(chamas)])
        orgs = conn.execute(select(Org.id).where(Org.slug.like(f"pop-{batch}-%")).order_by(Org.id)).scalars().all()
        for start in range(0, members, 20_000):
            people = range(start, min(members, start + 20_000))
            ids = conn.execute(insert(Contact).returning(Contact.id, Contact.org_id, sort_by_parameter_order=True), [
                {"org_id": orgs[n // per_chama], "name": f"Person {n}", "phone": f"+2541{n:08d}", "notes": "",
                 "created_at": now, "updated_at": now} for n in people]).all()
            conn.execute(insert(ChamaMember), [
                {"org_id": org_id, "contact_id": contact_id, "member_number": str(contact_id), "role": "member",
                 "status": "active", "joined_on": date(2025, 1, 1), "created_at": now, "updated_at": now}
                for contact_id, org_id in ids])
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")


def start(app) -> tuple[uvicorn.Server, str]:
    """The app under uvicorn as `ofisi serve` runs it, the gateway's limits included."""
    from ussd.server import GatewayConfig

    server = uvicorn.Server(GatewayConfig(app, app.state.settings, host="127.0.0.1", port=0, log_level="warning",
                                          lifespan="on"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return server, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"


async def run(url: str, sessions: list[tuple[str, list[str]]], think: float = 0.0,
              ramp: float | None = None) -> tuple[float, list[float]]:
    """Every session at once; with ``think`` seconds, each waits about that long before each
    input (uniformly half to one and a half times), as a person reading the screen does. The
    sessions dial at moments spread evenly over ``ramp`` seconds (``think`` by default)."""
    import random

    latencies: list[float] = []
    parts = urlsplit(url)
    connections = [Connection(parts.hostname, parts.port) for _ in sessions]

    async def one(connection: Connection, phone: str, texts: list[str]) -> None:
        session_id = f"bench-{uuid.uuid4().hex}"
        await asyncio.sleep(random.uniform(0, think if ramp is None else ramp))  # nor in the same millisecond
        for n, text in enumerate(texts):
            if n:
                await asyncio.sleep(think * random.uniform(0.5, 1.5))
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


def measure(url: str, sessions: list[tuple[str, list[str]]], think: float = 0.0,
            ramp: float | None = None) -> tuple[float, list[float]]:
    """Run the load from a separate process, so the client never competes with the server for the GIL."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_client, (url, sessions, think, ramp))


def _client(url: str, sessions: list[tuple[str, list[str]]], think: float,
            ramp: float | None) -> tuple[float, list[float]]:
    return asyncio.run(run(url, sessions, think, ramp))


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--database-url", default=os.environ.get("OFISI_BENCH_DATABASE_URL"))
    parser.add_argument("--workers", type=int, default=1,
                        help="gateway processes, as `ofisi serve --workers N` (PostgreSQL only)")
    parser.add_argument("--think-ms", type=float, default=0.0,
                        help="a person's pause before each input; 0 (the default) sends the next hop at once")
    parser.add_argument("--ramp-s", type=float, default=None,
                        help="spread the sessions' first dials over this many seconds (default: the pause, so with "
                             "--think-ms 1000 every session dials within the first second)")
    parser.add_argument("--population", type=int, default=0,
                        help="put this many other members, in chamas of 50, on the books first")
    parser.add_argument("--no-pin-key", action="store_true",
                        help="PINs hashed with scrypt, as without the pin_key secret (the README's deployment sets it)")
    args = parser.parse_args()
    if not args.no_pin_key:
        # As the README's deployment runs: PINs hashed under a key (inherited by --workers' processes).
        os.environ.setdefault("OFISI_PIN_KEY", f"bench-{uuid.uuid4().hex}")
    with bench_database(args.database_url) as db:
        (ussd_rate, ussd_lat), (bare_rate, bare_lat), (state_rate, state_lat) = _measure_all(db, args)
    print(json.dumps({
        "bench": "ussd_hops", "backend": db.dialect, "workers": args.workers, "concurrent_sessions": args.sessions,
        "think_ms": args.think_ms, "ramp_s": args.ramp_s, "pin_key": not args.no_pin_key,
        "population": args.population, "hops": len(ussd_lat),
        "ussd_hops_per_s": round(ussd_rate, 1), "ussd_p99_ms": round(p99(ussd_lat), 1),
        "bare_per_s": round(bare_rate, 1), "bare_p99_ms": round(p99(bare_lat), 1),
        "ratio": round(ussd_rate / bare_rate, 3),
        "state_only_per_s": round(state_rate, 1), "state_only_p99_ms": round(p99(state_lat), 1),
        "state_only_ratio": round(state_rate / bare_rate, 3),
        "hop_to_state_ratio": round(ussd_rate / state_rate, 3),
        "load_average": round(os.getloadavg()[0], 2),
    }))


def _state_only():
    """An endpoint that does only what every hop does: behind the gateway's limits and callback gate,
    it reads the form as the callback does and does the session-row work in the hops' threads."""
    import functools

    import anyio

    from core.ussd_sessions import begin_hop, save_hop
    from ussd.callback import hop_threads
    from ussd.gateway import KB, Endpoint, guarded, read_form

    def hop(db, session_id: str, phone: str, text: str) -> str:
        with db.session() as session:
            state = begin_hop(session, session_id, phone, "*384#", "entry", new=not text)  # as handle_hop
            state.last_text = text
            save_hop(session, state, ended=False)
            session.commit()
        return "CON hello"

    async def endpoint(request):
        form = await read_form(request)
        answer = await anyio.to_thread.run_sync(
            functools.partial(hop, request.app.state.database, form["sessionId"], form["phoneNumber"], form["text"]),
            limiter=hop_threads(request))
        return PlainTextResponse(answer)

    # As the gateway registers /ussd/callback (ussd.callback): the same body limit and provider.
    return guarded(Endpoint("/bench/state", endpoint, max_body=8 * KB, provider="africastalking"))


def _with_bench_routes(app):
    app.router.routes.append(Route("/bench/hello", lambda request: PlainTextResponse("CON hello"),
                                   methods=["POST"]))
    app.router.routes.append(Route("/bench/state", _state_only(), methods=["POST"]))
    return app


def bench_app():
    """What each worker of ``--workers N`` serves: the gateway plus the two bench endpoints."""
    from ussd.gateway import app_from_settings

    return _with_bench_routes(app_from_settings())


def _limits(sessions: int) -> dict[str, str]:
    """The gateway's settings for the run: its connection limit (256 by default) raised to take one
    kept-alive connection per session, as the load generator opens (Africa's Talking pools its own)."""
    return {"OFISI_GATEWAY_MAX_CONCURRENCY": str(max(256, 2 * sessions))}


@contextmanager
def serving(db, workers: int, sessions: int = 50) -> Iterator[str]:
    """The gateway on ``db``: in a thread of this process, or as ``ofisi serve --workers N`` does."""
    if workers == 1:
        import ussd.gateway as gateway

        app = gateway.create_app(db, load_settings(_limits(sessions)))
        app.state.settle_heap = True  # as `ofisi serve` runs it
        server, base = start(_with_bench_routes(app))
        try:
            yield base
        finally:
            server.should_exit = True
        return
    import socket
    import subprocess

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    here = Path(__file__).resolve().parent
    env = {**os.environ, **_limits(sessions), "OFISI_DATABASE_URL": db.url,
           "PYTHONPATH": os.pathsep.join([str(here.parent), str(here), os.environ.get("PYTHONPATH", "")])}
    server = subprocess.Popen([sys.executable, "-c", (
        "from ussd.server import run_workers; "
        f"run_workers('ussd_hops:bench_app', '127.0.0.1', {port}, {workers}, log_level='warning')")], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(30)


def _measure_all(db, args) -> list[tuple[float, list[float]]]:
    """The chama menu, the bare endpoint and the session row alone, round after round, on one server."""
    paths = ["/ussd/callback", "/bench/hello", "/bench/state"]
    totals = {path: (0.0, []) for path in paths}
    phones = seed(db, args.sessions)
    if args.population:
        populate(db, args.population)
    hops = [(phone, HOPS) for phone in phones]
    with serving(db, args.workers, args.sessions) as base:
        measure(f"{base}/ussd/callback", hops[:5])  # warm up
        for _ in range(args.rounds):
            for path in paths:
                t, lat = measure(f"{base}{path}", hops, args.think_ms / 1000, args.ramp_s)
                totals[path] = (totals[path][0] + t, totals[path][1] + lat)
    return [(len(lat) / t, lat) for t, lat in (totals[path] for path in paths)]


if __name__ == "__main__":
    main()
