"""A soak of the whole deployment on loopback: two gateway processes and two senders on one
PostgreSQL, mixed traffic for a bounded time, then checks that nothing was done twice or lost.

    python bench/soak.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test [--seconds 120]

What runs, each a real OS process as in production (see README, "Deployment"):

* ``ofisi serve --workers 2``: the gateway, two processes on one port, each with its own
  M-Pesa payment sender thread (so two payment senders claim from one table);
* ``ofisi send due --every 0.5`` twice: two outbox senders claiming from one queue;
* the fakes of Africa's Talking and Daraja (``tests/fakes``) in this process, which the real
  provider clients are pointed at; they record every request, so they are the witnesses;
* the USSD load in a process of its own (``loadgen``): ``--sessions`` phones, each dialling
  journey after journey with a person's pause between inputs: a look (PIN, balance, back,
  mini statement, home) or a contribution by M-Pesa (PIN, contribute, amount, confirm);
* in threads here: Daraja's STK callbacks for every push (nine in ten paid, one cancelled;
  a quarter posted again, as Safaricom retries), inbound SMS (``BAL``; one in ten delivered
  twice), delivery reports for sent messages (one in ten twice, some with an older status
  after), and a campaign to every contact launched once the load is under way;
* half-way through, one sender is killed with SIGKILL (mid-campaign, a batch on the wire)
  and started again, as ``Restart=always`` would (``--no-kill-sender`` leaves it alone).

When the time is up the load stops, the work in hand is drained (every due message and
every payment settled, at most ``--drain`` seconds), the processes are stopped, and these
checks are made against the fakes' records and the database:

* ``sessions_answered``: every USSD hop was answered CON or END with HTTP 200, and every
  contribution journey ended with the promise of a prompt;
* ``payments_credited_once``: one payment request per confirmed contribution, each pushed
  to Daraja exactly once, every one settled (none pending, sending, awaiting, unknown or
  under review), and each succeeded one credited by exactly one ledger entry of its amount;
* ``messages_sent_once_or_unknown``: no message left queued, claimed or sending, and for
  every (number, text) the provider received it as many times as the outbox says it was
  sent (an ``unknown`` one may have gone once);
* ``callbacks_answered``: every callback, inbound SMS and delivery report got HTTP 200;
* ``inbound_once``: each inbound SMS kept once and answered once, replays included;
* ``reports_applied``: every message a delivery report said was delivered is delivered.

It prints the figures and the checks as one JSON line and exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadgen import Connection  # noqa: E402
from scratch import bench_database  # noqa: E402

TOKEN = "soak-callback-token"
PIN = "2580"
LOOK = ["", PIN, f"{PIN}*1", f"{PIN}*1*0", f"{PIN}*1*0*4", f"{PIN}*1*0*4*00"]
PROMISE = "END Check your phone"
STALE_AFTER_S = 10


# ---------------------------------------------------------------- the data

def seed(db, members: int, contacts: int) -> tuple[int, list[str], int]:
    """A chama of ``members`` members with their PINs and some savings, ``contacts`` more people
    in its contacts, and a campaign to them all (a draft, launched during the run)."""
    from sqlalchemy import insert

    from core.actors import Actor
    from core.campaigns import service
    from core.chama import ledger
    from core.chama.members import add_member
    from core.orgs import create_org
    from core.ussd_pins import set_pin
    from db.models import Contact
    from db.types import utcnow

    actor = Actor.system_actor("soak")
    phones = [f"+2547{i:08d}" for i in range(10_000_000, 10_000_000 + members)]
    with db.session() as session:
        org = create_org(session, actor, f"soak-{uuid.uuid4().hex[:8]}", kind="chama", name="Soak Chama")
        for i, phone in enumerate(phones):
            member = add_member(session, actor, org.id, name=f"Member {i}", phone=phone,
                                role="chair" if i == 0 else "member")
            ledger.record_contribution(session, actor, org.id, member.id, 100_000, source="cash", reference=f"S{i}")
            set_pin(session, phone, PIN)
        now = utcnow()
        session.execute(insert(Contact), [{"org_id": org.id, "name": f"Contact {i}", "phone": f"+2541{i:08d}",
                                           "notes": "", "created_at": now, "updated_at": now}
                                          for i in range(contacts)])
        session.commit()
        # The soak runs at any hour: the org keeps no quiet hours, so the campaign goes at once.
        service.campaign_settings(session, actor, org.id, quiet_from="00:00", quiet_until="00:00")
        campaign = service.create_campaign(session, actor, org.id, name="Soak", audience="contacts",
                                           text="Habari {{ name }}, mkutano ni Jumamosi saa nane. {{ phone }}")
        session.commit()
        return org.id, phones, campaign.id


def launch(db, org_id: int, campaign_id: int) -> int:
    from core.actors import Actor
    from core.campaigns import service

    with db.session() as session:
        return service.launch_campaign(session, Actor.system_actor("soak"), org_id, campaign_id).queued


# ---------------------------------------------------------------- the USSD load (its own process)

def ussd_load(base: str, phones: list[str], seconds: float, think: float, pay_share: float) -> dict:
    return asyncio.run(_ussd_load(base, phones, seconds, think, pay_share))


async def _ussd_load(base: str, phones: list[str], seconds: float, think: float, pay_share: float) -> dict:
    parts = urlsplit(base)
    path = f"/ussd/callback?token={TOKEN}"
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    bad: list[str] = []
    journeys: Counter[str] = Counter()
    rng = random.Random(1)

    async def person(phone: str) -> None:
        connection = Connection(parts.hostname, parts.port)
        await asyncio.sleep(rng.uniform(0, think))
        while time.monotonic() < deadline:
            pay = rng.random() < pay_share
            texts = [*LOOK[:2], f"{PIN}*2", f"{PIN}*2*{rng.randint(50, 2000)}"] if pay else LOOK
            if pay:
                texts.append(f"{texts[-1]}*1")
            session_id = f"soak-{uuid.uuid4().hex}"
            for n, text in enumerate(texts):
                if n:
                    await asyncio.sleep(think * rng.uniform(0.5, 1.5))
                began = time.perf_counter()
                try:
                    status, answer = await connection.post(path, {
                        "sessionId": session_id, "serviceCode": "*384#", "phoneNumber": phone,
                        "networkCode": "63902", "text": text})
                except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                    bad.append(f"{text!r}: {type(exc).__name__} {exc}")
                    connection.close()
                    connection = Connection(parts.hostname, parts.port)
                    break
                latencies.append(time.perf_counter() - began)
                if status != 200 or not answer.startswith(("CON", "END")):
                    bad.append(f"{text!r}: HTTP {status} {answer[:60]!r}")
                    break
            else:
                kind = "pay" if pay else "look"
                if pay and not answer.startswith(PROMISE):
                    bad.append(f"a contribution ended {answer[:60]!r}")
                    continue
                journeys[kind] += 1
        connection.close()

    await asyncio.gather(*(person(phone) for phone in phones))
    return {"latencies": latencies, "bad": bad, "journeys": dict(journeys)}


# ---------------------------------------------------------------- providers' traffic (threads here)

class Traffic:
    """What Daraja and Africa's Talking post to the gateway while the load runs."""

    def __init__(self, db, base: str, fake_daraja, phones: list[str]) -> None:
        import httpx

        self.db, self.base, self.daraja, self.phones = db, base, fake_daraja, phones
        self.http = httpx.Client(timeout=30)
        self.rng = random.Random(2)
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.bad: list[str] = []
        self.completed: set[str] = set()
        self.inbound_ids: set[str] = set()
        self.delivered_ids: set[int] = set()
        self.stop_posting = threading.Event()  # inbound SMS and reports: only while the load runs
        self.stop_all = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="soak-callbacks")

    def post(self, what: str, path: str, **kwargs) -> None:
        reply = self.http.post(f"{self.base}{path}", **kwargs)
        with self.lock:
            self.counts[what] += 1
            if reply.status_code != 200:
                self.bad.append(f"{what}: HTTP {reply.status_code} {reply.text[:80]!r}")

    # Daraja: a callback for every push, some of them twice.
    def callbacks(self) -> None:
        while not self.stop_all.is_set():
            for checkout in self._pushes():
                if checkout not in self.completed:
                    self.completed.add(checkout)
                    code = 0 if self.rng.random() < 0.9 else 1032
                    self.pool.submit(self._result, checkout, code, self.rng.random() < 0.25, self.rng.uniform(0, 1))
            time.sleep(0.05)

    def _pushes(self) -> list[str]:
        while True:
            try:
                return list(self.daraja.pushes)
            except RuntimeError:  # the fake added one as we read
                continue

    def _result(self, checkout: str, code: int, replay: bool, after: float) -> None:
        try:
            payload = self.daraja.callback_for(checkout, code)
            self.daraja.complete(checkout, code, post=False)  # what an STK query would now say
            self.post("stk_callbacks", f"/mpesa/stk/callback?token={TOKEN}", json=payload)
            if replay:
                time.sleep(after)
                self.post("stk_replays", f"/mpesa/stk/callback?token={TOKEN}", json=payload)
        except Exception as exc:  # noqa: BLE001  (counted as a failed check, not a crash of the run)
            with self.lock:
                self.bad.append(f"stk callback {checkout}: {type(exc).__name__} {exc}")

    # Africa's Talking: inbound SMS and delivery reports.
    def sms(self) -> None:
        n = 0
        while not self.stop_posting.is_set():
            try:
                n += 1
                self._inbound(n)
                if n % 3 == 0:
                    self._reports()
            except Exception as exc:  # noqa: BLE001
                with self.lock:
                    self.bad.append(f"sms traffic: {type(exc).__name__} {exc}")
            time.sleep(0.1)

    def _inbound(self, n: int) -> None:
        message_id = f"ATXid_soak_in_{n}"
        form = {"from": self.rng.choice(self.phones), "to": "22384", "text": self.rng.choice(["BAL", "bal", "Balance"]),
                "date": "2026-12-06 00:00:00", "id": message_id, "linkId": ""}
        self.inbound_ids.add(message_id)
        self.post("inbound_sms", f"/sms/inbound?token={TOKEN}", data=form)
        if self.rng.random() < 0.1:
            self.post("inbound_replays", f"/sms/inbound?token={TOKEN}", data=form)

    def _reports(self) -> None:
        from sqlalchemy import select

        from db.models import Message

        with self.db.session() as session:
            rows = session.execute(
                select(Message.id, Message.provider_message_id, Message.to_address)
                .where(Message.status == "sent", Message.provider_message_id.is_not(None))
                .order_by(Message.id).limit(25)).all()
        for message_id, provider_id, to in rows:
            if message_id in self.delivered_ids:
                continue
            form = {"id": provider_id, "status": "Success", "phoneNumber": to, "networkCode": "63902"}
            self.post("delivery_reports", f"/sms/delivery?token={TOKEN}", data=form)
            self.delivered_ids.add(message_id)
            roll = self.rng.random()
            if roll < 0.1:
                self.post("report_replays", f"/sms/delivery?token={TOKEN}", data=form)
            elif roll < 0.2:  # an older report arriving late must not move it back
                self.post("report_replays", f"/sms/delivery?token={TOKEN}", data={**form, "status": "Sent"})

    def close(self) -> None:
        self.stop_posting.set()
        self.stop_all.set()
        self.pool.shutdown(wait=True)
        self.http.close()


# ---------------------------------------------------------------- the processes

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ofisi(*args: str) -> list[str]:
    return [sys.executable, "-c", "from commands.main import run; run()", *args]


class Processes:
    """The gateway and the senders, as an operator runs them; their stderr kept in ``folder``."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env, self.folder = env, folder
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str) -> None:
        log = open(self.folder / f"{name}.log", "ab")
        self.running[name] = subprocess.Popen(ofisi(*args), env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                              cwd=ROOT)

    def kill(self, name: str) -> int:
        """SIGKILL, as a crash or the OOM killer stops a process mid-send; returns its exit code."""
        self.running[name].kill()
        return self.running[name].wait(30)

    def alive(self) -> list[str]:
        return [name for name, proc in self.running.items() if proc.poll() is None]

    def stop(self, *names: str) -> dict[str, int | None]:
        """SIGTERM, as systemd stops a unit; returns each exit code."""
        for name in names:
            if self.running[name].poll() is None:
                self.running[name].send_signal(signal.SIGTERM)
        codes = {}
        for name in names:
            try:
                codes[name] = self.running[name].wait(30)
            except subprocess.TimeoutExpired:
                self.running[name].kill()
                codes[name] = self.running[name].wait()
        return codes

    def tail(self, name: str, lines: int = 15) -> str:
        return "\n".join((self.folder / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])


def wait_healthy(base: str, proc: subprocess.Popen) -> None:
    import httpx

    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit("the gateway stopped as it started")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("the gateway did not answer /health within a minute")


# ---------------------------------------------------------------- draining and checking

def wait_sending(db, pid: int, seconds: float) -> int:
    """Wait (at most ``seconds``) until process ``pid`` has messages on the wire; how many."""
    from sqlalchemy import func, select

    from db.models import Message

    deadline = time.monotonic() + seconds
    while True:
        with db.session() as session:
            count = session.scalar(select(func.count()).where(Message.status == "sending",
                                                              Message.claimed_by.like(f"%:{pid}:%")))
        if count or time.monotonic() > deadline:
            return count
        time.sleep(0.005)


def unsettled(db) -> tuple[int, int]:
    """Messages due and not yet gone, and payments not yet settled."""
    from sqlalchemy import func, select

    from db.models import Message
    from db.models_payments import PaymentRequest
    from db.types import utcnow

    with db.session() as session:
        messages = session.scalar(select(func.count()).where(
            Message.status.in_(("queued", "claimed", "sending")), Message.next_attempt_at <= utcnow()))
        payments = session.scalar(select(func.count()).where(
            PaymentRequest.status.in_(("pending", "sending", "awaiting"))))
    return messages, payments


def check(db, org_id: int, load: dict, traffic: Traffic, fake_at, fake_daraja) -> tuple[dict, dict]:
    from sqlalchemy import func, select

    from db.models import InboundMessage, Message
    from db.models_chama import ChamaLedgerEntry
    from db.models_payments import PaymentCallback, PaymentRequest

    figures: dict = {}
    checks: dict[str, bool] = {}
    problems: list[str] = []
    with db.session() as session:
        # Payments.
        requests = session.execute(select(PaymentRequest.id, PaymentRequest.status, PaymentRequest.amount_minor,
                                          PaymentRequest.checkout_request_id, PaymentRequest.claimed_by)).all()
        statuses = Counter(r.status for r in requests)
        credits = Counter()
        credited_amount: dict[str, int] = {}
        for key, amount in session.execute(select(ChamaLedgerEntry.idempotency_key, ChamaLedgerEntry.amount_minor)
                                           .where(ChamaLedgerEntry.org_id == org_id,
                                                  ChamaLedgerEntry.idempotency_key.like("mpesa:%"))):
            credits[key] += 1
            credited_amount[key] = amount
        pushed = Counter(p.body["AccountReference"] for p in fake_daraja.pushes.values())
        succeeded = [r for r in requests if r.status == "succeeded"]
        pushes = len(fake_daraja.pushes)
        problem_callbacks = dict(session.execute(
            select(PaymentCallback.problem, func.count()).where(PaymentCallback.problem.is_not(None))
            .group_by(PaymentCallback.problem)).all())
        verdicts = dict(session.execute(select(PaymentCallback.verdict, func.count())
                                        .group_by(PaymentCallback.verdict)).all())
        once = all(credits[f"mpesa:{r.checkout_request_id}"] == 1
                   and credited_amount[f"mpesa:{r.checkout_request_id}"] == r.amount_minor for r in succeeded)
        checkouts = [r.checkout_request_id for r in requests]
        payments_ok = (len(requests) == load["journeys"].get("pay", 0)
                       and set(statuses) <= {"succeeded", "cancelled"}
                       and pushes == len(requests) == len(set(checkouts)) and set(checkouts) == set(fake_daraja.pushes)
                       and once and sum(credits.values()) == len(succeeded) and not problem_callbacks)
        if not payments_ok:
            problems.append(f"payments: {dict(statuses)}, {pushes} pushes, {len(requests)} requests, "
                            f"{sum(credits.values())} credits for {len(succeeded)} successes, problems "
                            f"{problem_callbacks}")
        checks["payments_credited_once"] = payments_ok
        figures["payments"] = {"requests": len(requests), **dict(statuses), "pushes": pushes,
                               "pushed_by": dict(Counter(r.claimed_by.rsplit(":", 1)[0] for r in requests
                                                         if r.claimed_by)),
                               "callback_verdicts": verdicts, "accounts": len(pushed)}

        # Messages.
        messages = session.execute(select(Message.to_address, Message.body, Message.status, Message.claimed_by,
                                          Message.campaign_id)).all()
        by_status = Counter(m.status for m in messages)
        outbox: dict[tuple[str, str], Counter] = {}
        for m in messages:
            outbox.setdefault((m.to_address, m.body), Counter())[m.status] += 1
        received = Counter((number, r.message) for r in fake_at.requests for number in r.to)
        wrong = [key for key, states in outbox.items()
                 if not (states["sent"] + states["delivered"] <= received.get(key, 0)
                         <= states["sent"] + states["delivered"] + states["unknown"])]
        strays = [key for key in received if key not in outbox]
        left = {s: n for s, n in by_status.items() if s in ("queued", "claimed", "sending")}
        checks["messages_sent_once_or_unknown"] = not wrong and not strays and not left
        if not checks["messages_sent_once_or_unknown"]:
            problems.append(f"messages: {len(wrong)} sent a wrong number of times (e.g. {wrong[:3]}), "
                            f"{len(strays)} received but not in the outbox, left {left}")
        figures["messages"] = {**dict(by_status), "campaign": sum(1 for m in messages if m.campaign_id),
                               "provider_requests": len(fake_at.requests), "recipients": sum(received.values()),
                               "sent_by": dict(Counter(m.claimed_by.rsplit(":", 1)[0] for m in messages
                                                       if m.claimed_by))}

        # Inbound SMS, their replies, delivery reports.
        kept = session.execute(select(InboundMessage.provider_message_id, InboundMessage.status)).all()
        replies = Counter(session.scalars(select(Message.idempotency_key)
                                          .where(Message.idempotency_key.like("inbound:%:reply"))))
        checks["inbound_once"] = (sorted(k.provider_message_id for k in kept) == sorted(traffic.inbound_ids)
                                  and all(k.status == "handled" for k in kept)
                                  and len(replies) == len(kept) and set(replies.values()) <= {1})
        if not checks["inbound_once"]:
            problems.append(f"inbound: {len(kept)} kept of {len(traffic.inbound_ids)}, "
                            f"{Counter(k.status for k in kept)}, {len(replies)} replies")
        delivered = session.scalars(select(Message.status).where(Message.id.in_(traffic.delivered_ids))).all() \
            if traffic.delivered_ids else []
        checks["reports_applied"] = set(delivered) <= {"delivered"} and len(delivered) == len(traffic.delivered_ids)
    checks["sessions_answered"] = not load["bad"] and bool(load["latencies"])
    if load["bad"]:
        problems.append(f"USSD: {len(load['bad'])} hops unanswered, e.g. {load['bad'][:3]}")
    checks["callbacks_answered"] = not traffic.bad
    if traffic.bad:
        problems.append(f"callbacks: {len(traffic.bad)} failed, e.g. {traffic.bad[:3]}")
    figures["problems"] = problems
    return figures, checks


# ---------------------------------------------------------------- the run

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="how long the load runs (default 120)")
    parser.add_argument("--database-url", default=os.environ.get("OFISI_BENCH_DATABASE_URL")
                        or os.environ.get("OFISI_TEST_DATABASE_URL"),
                        help="a PostgreSQL server; a scratch database is made beside it and dropped")
    parser.add_argument("--sessions", type=int, default=40, help="phones dialling at once (default 40)")
    parser.add_argument("--think-ms", type=float, default=400.0, help="a person's pause before each input")
    parser.add_argument("--pay-share", type=float, default=0.3, help="share of journeys that contribute")
    parser.add_argument("--contacts", type=int, default=3000, help="the campaign's extra recipients")
    parser.add_argument("--drain", type=float, default=60.0, help="most seconds to settle the work in hand")
    parser.add_argument("--no-kill-sender", dest="kill_sender", action="store_false",
                        help="leave both senders alone (by default one is killed with SIGKILL half-way and restarted)")
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgresql"):
        raise SystemExit("The soak runs on PostgreSQL (several processes write at once): pass --database-url "
                         "postgresql+psycopg://… or set OFISI_TEST_DATABASE_URL.")

    import logging
    import multiprocessing

    from tests.fakes.africastalking import FakeAfricasTalking
    from tests.fakes.daraja import FakeDaraja

    logging.getLogger("ofisi").setLevel(logging.ERROR)
    load_before = os.getloadavg()
    fake_at, fake_daraja = FakeAfricasTalking().start(), FakeDaraja().start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with bench_database(args.database_url) as db, tempfile.TemporaryDirectory(prefix="ofisi-soak-") as folder:
        org_id, phones, campaign_id = seed(db, args.sessions, args.contacts)
        env = {**os.environ, **fake_daraja.env(public_url=base, callback_token=TOKEN),
               "OFISI_DATABASE_URL": db.url, "OFISI_SMS_PROVIDER": "africastalking",
               "OFISI_AT_BASE_URL": fake_at.url, "OFISI_AT_API_KEY": fake_at.api_key,
               "OFISI_AT_USERNAME": fake_at.username, "OFISI_SEND_PARALLEL": "4",
               # A killed sender's claims go back, and its messages on the wire become unknown, this soon.
               "OFISI_SEND_STALE_AFTER_SECONDS": str(STALE_AFTER_S),
               "XDG_CONFIG_HOME": folder, "XDG_DATA_HOME": folder, "XDG_STATE_HOME": folder}
        env.pop("OFISI_CONFIG", None)
        processes = Processes(env, Path(folder))
        traffic = Traffic(db, base, fake_daraja, phones)
        threads = [threading.Thread(target=traffic.callbacks, daemon=True),
                   threading.Thread(target=traffic.sms, daemon=True)]
        try:
            processes.start("gateway", "serve", "--workers", "2", "--port", str(port))
            wait_healthy(base, processes.running["gateway"])
            for n in (1, 2):
                processes.start(f"sender-{n}", "send", "due", "--every", "0.5")
            for thread in threads:
                thread.start()
            began = time.monotonic()
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                pending = pool.apply_async(ussd_load, (base, phones, args.seconds, args.think_ms / 1000,
                                                       args.pay_share))
                time.sleep(min(10.0, args.seconds / 10))
                campaign = launch(db, org_id, campaign_id)
                killed = None
                if args.kill_sender:
                    # Mid-campaign, one sender dies with a batch on the wire and comes back, as
                    # systemd's Restart= brings it back.
                    time.sleep(max(0.0, args.seconds / 2 - (time.monotonic() - began)))
                    on_the_wire = wait_sending(db, processes.running["sender-1"].pid, 10.0)
                    killed = {"at_s": round(time.monotonic() - began, 1), "exit": processes.kill("sender-1"),
                              "on_the_wire": on_the_wire}
                    processes.start("sender-1", "send", "due", "--every", "0.5")
                load = pending.get(timeout=args.seconds + 120)
            load_seconds = time.monotonic() - began
            traffic.stop_posting.set()
            threads[1].join(30)
            drain_began = time.monotonic()
            while time.monotonic() - drain_began < args.drain and any(unsettled(db)):
                time.sleep(0.5)
            left = unsettled(db)
            drain_seconds = time.monotonic() - drain_began
            alive = processes.alive()
            traffic.stop_all.set()
            threads[0].join(30)
            traffic.pool.shutdown(wait=True)  # the last replays, while the gateway still answers
            codes = processes.stop("sender-1", "sender-2", "gateway")
        finally:
            traffic.close()
            for name in processes.alive():
                processes.stop(name)
            fake_at.stop()
            fake_daraja.stop()
        figures, checks = check(db, org_id, load, traffic, fake_at, fake_daraja)
        checks["drained"] = not any(left)
        checks["processes_ran_throughout"] = set(alive) == set(codes) and set(codes.values()) == {0}
        if not checks["processes_ran_throughout"]:
            figures["problems"].append(f"alive at the end: {alive}; exit codes {codes}; "
                                       + " | ".join(f"{n}: {processes.tail(n)}" for n in processes.running))
    latencies = load["latencies"] or [0.0]
    result = {
        "bench": "soak", "backend": "postgresql", "seconds": round(load_seconds, 1),
        "gateway_workers": 2, "senders": 2, "sessions": args.sessions, "think_ms": args.think_ms,
        "ussd": {"hops": len(load["latencies"]), "hops_per_s": round(len(load["latencies"]) / load_seconds, 1),
                 "p50_ms": round(statistics.median(latencies) * 1000, 1),
                 "p99_ms": round(statistics.quantiles(latencies, n=100)[98] * 1000, 1) if len(latencies) > 1 else 0,
                 "journeys": load["journeys"], "unanswered": len(load["bad"])},
        "posted": dict(traffic.counts), "campaign_queued": campaign, "sender_killed": killed, **figures,
        "drain_seconds": round(drain_seconds, 1), "unsettled_after_drain": {"messages": left[0], "payments": left[1]},
        "loadavg_before": [round(x, 2) for x in load_before], "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "checks": checks, "passed": all(checks.values()),
    }
    print(json.dumps(result))
    sys.stdout.flush()
    sys.exit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
