"""The outbox across real OS processes: several senders at once, and a sender killed mid-send.

Children are fresh interpreters (``spawn``) with their own engine, sending
through the real Africa's Talking provider to the fake on loopback, which is
the witness: it records every request it received.
"""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_module
import signal
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import outbox
from db.models import Message
from tests.fakes import Clock, phone, wait_until
from tests.fakes.africastalking import fake_at  # noqa: F401  (fixture)

SPAWN = mp.get_context("spawn")
DEADLINE_S = 60


def _sender(url: str, at_url: str, api_key: str, worker: str, batch_size: int, ready, go, results) -> None:
    """A child process: one ``send_due`` run against the shared database."""
    from core import outbox
    from core.providers.africastalking import AfricasTalkingSMS
    from db.engine import open_database

    db = open_database(url)
    provider = AfricasTalkingSMS("sandbox", api_key, base_url=at_url)
    ready.set()
    if go is not None and not go.wait(DEADLINE_S):
        return
    summary = outbox.send_due(db, {"sms": provider}, batch_size=batch_size, worker=worker)
    results.put((worker, summary.as_dict()))
    db.dispose()


@pytest.fixture
def children():
    """Start child processes; any still alive at the end are killed."""
    started: list = []

    def start(*args) -> mp.Process:
        proc = SPAWN.Process(target=_sender, args=args, daemon=True)
        proc.start()
        started.append((proc, args))  # the args hold queues and events the child still needs
        return proc

    yield start
    for proc, _args in started:
        if proc.is_alive():
            proc.kill()
        proc.join(timeout=10)


def _wait_all(events, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    for event in events:
        assert event.wait(max(0.0, deadline - time.monotonic())), f"timed out waiting for {what}"


@pytest.fixture
def org_id(committed_db, make_org) -> int:
    with committed_db.session() as s:
        return make_org(s, "chama").id


def queue(db, org_id: int, count: int) -> list[int]:
    with db.session() as s:
        ids = [outbox.enqueue(s, org_id, purpose="transactional", to=phone(i), body=f"Mchango {i}")
               for i in range(count)]
        s.commit()
    return ids


def by_status(db) -> dict[str, int]:
    with db.session() as s:
        return dict(s.execute(select(Message.status, func.count()).group_by(Message.status)).all())


def test_processes_sending_at_once_send_each_message_exactly_once(committed_db, org_id, fake_at, children, backend):
    total, senders = 300, 3 if backend == "postgresql" else 2
    queue(committed_db, org_id, total)
    fake_at.delay = 0.003  # a provider that takes a moment, so the senders overlap
    go, results = SPAWN.Event(), SPAWN.Queue()
    ready = [SPAWN.Event() for _ in range(senders)]
    for i in range(senders):
        children(committed_db.url, fake_at.url, fake_at.api_key, f"sender-{i}", 5, ready[i], go, results)
    _wait_all(ready, "the senders to start")
    go.set()
    summaries = {}
    deadline = time.monotonic() + DEADLINE_S
    while len(summaries) < senders:
        try:
            worker, summary = results.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue_module.Empty:
            pytest.fail(f"only {len(summaries)} of {senders} senders finished in {DEADLINE_S}s")
        summaries[worker] = summary

    sent_to = Counter(r.to[0] for r in fake_at.requests)
    assert [n for n, times in sent_to.items() if times > 1] == []
    assert set(sent_to) == {phone(i) for i in range(total)}
    assert sum(s["sent"] for s in summaries.values()) == total
    assert all(s["stopped"] is None and s["retried"] == s["unknown"] == 0 for s in summaries.values())
    assert by_status(committed_db) == {"sent": total}
    with committed_db.session() as s:
        share = dict(s.execute(select(Message.claimed_by, func.count()).group_by(Message.claimed_by)).all())
    assert set(share) == set(summaries), f"every sender did some of the work: {share}"
    assert {w: s["sent"] for w, s in summaries.items()} == share


def test_sender_killed_mid_send_leaves_its_message_unknown_not_resent(committed_db, org_id, fake_at, children):
    ids = queue(committed_db, org_id, 6)
    fake_at.on_number(phone(3), hang=True)
    ready = SPAWN.Event()
    proc = children(committed_db.url, fake_at.url, fake_at.api_key, "doomed:1", 10, ready, None, SPAWN.Queue())
    wait_until(lambda: fake_at.received_for(phone(3)) or not proc.is_alive(), timeout=DEADLINE_S,
               what="the sender to reach the hanging message")
    assert proc.is_alive(), f"the sender stopped by itself (exit code {proc.exitcode})"
    proc.kill()
    proc.join(timeout=10)
    assert proc.exitcode == -signal.SIGKILL

    def states() -> list[str]:
        with committed_db.session() as s:
            got = dict(s.execute(select(Message.id, Message.status)).all())
        return [got[i] for i in ids]

    assert states() == ["sent"] * 3 + ["sending", "claimed", "claimed"]

    # At once, nobody can tell a dead sender from a slow one: its rows are left alone.
    summary = outbox.send_due(committed_db, {"sms": fake_at.provider()})
    assert (summary.sent, summary.released, summary.stale_unknown) == (0, 0, 0)
    assert states() == ["sent"] * 3 + ["sending", "claimed", "claimed"]

    # Past stale_after: the claims it never tried go back and are sent; the one on the wire is unknown.
    clock = Clock().advance(minutes=6)
    summary = outbox.send_due(committed_db, {"sms": fake_at.provider()}, clock=clock,
                              stale_after=timedelta(minutes=5))
    assert (summary.stale_unknown, summary.released, summary.sent) == (1, 2, 2)
    assert states() == ["sent"] * 3 + ["unknown", "sent", "sent"]
    assert Counter(r.to[0] for r in fake_at.requests) == {phone(i): 1 for i in range(6)}
    # And it stays that way.
    outbox.send_due(committed_db, {"sms": fake_at.provider()}, clock=clock.advance(days=1))
    assert len(fake_at.requests) == 6
    with committed_db.session() as s:
        unknown = s.get(Message, ids[3])
    assert (unknown.attempts, unknown.provider_message_id) == (1, None)
    assert "stopped before the provider answered" in unknown.last_error
