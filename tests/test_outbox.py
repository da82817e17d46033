"""The outbox: what enqueue accepts, idempotency keys, and the dispatcher with the log provider."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from core import outbox
from core.actors import Actor
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.outbox import RetryPolicy, SendSummary
from core.providers import OutgoingMessage, SendResult, TransientSendError
from core.providers.log import LogProvider
from core.users import add_user
from db.models import AuditEntry, Message
from db.types import utcnow
from tests.fakes import Clock, phone, wait_until


@pytest.fixture
def org(session, make_org):
    return make_org(session, "salon")


@pytest.fixture
def org_id(committed_db, make_org) -> int:
    with committed_db.session() as s:
        return make_org(s, "salon").id


def queue(db, org_id: int, count: int, *, first: int = 0, **kw) -> list[int]:
    with db.session() as s:
        ids = [outbox.enqueue(s, org_id, purpose="transactional", to=phone(first + i),
                              body=f"message {first + i}", **kw)
               for i in range(count)]
        s.commit()
    return ids


def rows(db, ids=None) -> dict[int, Message]:
    with db.session() as s:
        query = select(Message).order_by(Message.id)
        if ids is not None:
            query = query.where(Message.id.in_(ids))
        return {m.id: m for m in s.scalars(query)}


def statuses(db) -> dict[str, int]:
    with db.session() as s:
        return dict(s.execute(select(Message.status, func.count()).group_by(Message.status)).all())


# ---------------------------------------------------------------- enqueue


def test_enqueue_stores_e164_and_queues_now(session, org):
    before = utcnow()
    message_id = outbox.enqueue(session, org.id, purpose="transactional", to="0712 345 678", body="Karibu")
    m = session.get(Message, message_id)
    assert (m.to_address, m.channel, m.status, m.attempts) == ("+254712345678", "sms", "queued", 0)
    assert before <= m.next_attempt_at <= utcnow()


def test_enqueue_email_address_is_lower_cased(session, org):
    m = session.get(Message, outbox.enqueue(session, org.id, purpose="transactional", to=" Wanjiku@Example.COM ",
                                            body="Hi", channel="email", subject="Hello"))
    assert (m.to_address, m.subject) == ("wanjiku@example.com", "Hello")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"to": "0712345678", "body": "hi", "channel": "fax"}, "not a channel"),
        ({"to": "0712345678", "body": "   "}, "needs some text"),
        ({"to": "12", "body": "hi"}, "not a valid phone number"),
        ({"to": "", "body": "hi"}, "phone number is needed"),
        ({"to": "no-at-sign", "body": "hi", "channel": "email"}, "not an email address"),
    ],
    ids=["channel", "empty-body", "bad-phone", "no-phone", "bad-email"],
)
def test_enqueue_refuses_what_cannot_be_sent(session, org, kwargs, match):
    with pytest.raises(InvalidInput, match=match):
        outbox.enqueue(session, org.id, purpose="transactional", **kwargs)
    assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_enqueue_for_missing_org(session):
    with pytest.raises(NotFound):
        outbox.enqueue(session, 999_999, purpose="transactional", to="0712345678", body="hi")


def test_same_idempotency_key_twice_is_one_message(session, org, make_org):
    first = outbox.enqueue(session, org.id, purpose="transactional", to="0712345678",
                           body="Invoice 7", idempotency_key="invoice-7")
    again = outbox.enqueue(session, org.id, purpose="transactional", to="0712345678",
                           body="Invoice 7 (replayed)", idempotency_key="invoice-7")
    session.commit()
    assert again == first
    assert session.scalar(select(func.count()).select_from(Message)) == 1
    assert session.get(Message, first).body == "Invoice 7"
    # The key is per org: another org's "invoice-7" is its own message.
    other = make_org(session, "chama")
    assert outbox.enqueue(session, other.id, purpose="transactional", to="0712345678",
                          body="x", idempotency_key="invoice-7") != first
    # No key, no deduplication.
    assert outbox.enqueue(session, org.id, purpose="transactional", to="0712345678", body="Invoice 7") != first


def test_threads_racing_one_key_make_one_row(committed_db, org_id):
    """Several sessions enqueue the same key at the same moment; one row results, all get its id."""
    threads, barrier, ids, errors = 6, threading.Barrier(6, timeout=10), [], []

    def race():
        try:
            with committed_db.session() as s:
                barrier.wait()
                ids.append(outbox.enqueue(s, org_id, purpose="transactional", to="0712345678",
                                          body="once", idempotency_key="race"))
                s.commit()
        except Exception as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)

    workers = [threading.Thread(target=race) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert not errors and len(ids) == threads
    assert len(set(ids)) == 1
    assert len(rows(committed_db)) == 1


def test_insert_that_loses_the_race_returns_the_winner(committed_db, org_id, backend):
    """PostgreSQL: the loser passes the "already there?" check, blocks on the unique index
    until the winner commits, then gets the winner's id instead of an error."""
    if backend != "postgresql":
        pytest.skip("the unique-index wait is PostgreSQL's; SQLite's write lock orders the two")
    winner = committed_db.session()
    winner_id = outbox.enqueue(winner, org_id, purpose="transactional", to="0712345678",
                               body="first", idempotency_key="k1")
    result: dict = {}

    def loser():
        try:
            with committed_db.session() as s:
                result["id"] = outbox.enqueue(s, org_id, purpose="transactional", to="0712345678",
                                              body="second", idempotency_key="k1")
                s.commit()
        except Exception as exc:
            result["error"] = exc

    thread = threading.Thread(target=loser)
    thread.start()
    with committed_db.engine.connect() as watch:
        wait_until(lambda: watch.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'")).scalar(), what="the loser to block on the unique index")
    winner.commit()
    winner.close()
    thread.join(timeout=15)
    assert result == {"id": winner_id}
    assert [m.body for m in rows(committed_db).values()] == ["first"]


# ---------------------------------------------------------------- people's side


def test_send_message_list_and_counts(session, org, cli_actor):
    view = outbox.send_message(session, cli_actor, org.id, to="0712345678", body="Your booking is at 10")
    assert (view.status, view.to) == ("queued", "+254712345678")
    more = [outbox.send_message(session, cli_actor, org.id, to=phone(i), body=f"n{i}").id for i in range(4)]
    page = outbox.list_messages(session, cli_actor, org.id, limit=3)
    assert [m.id for m in page] == [more[3], more[2], more[1]]
    assert [m.id for m in outbox.list_messages(session, cli_actor, org.id, before_id=page[-1].id)] == [more[0], view.id]
    assert outbox.status_counts(session, cli_actor, org.id) == {"queued": 5}


def test_send_message_needs_the_permission(session, make_org, cli_actor):
    org = make_org(session, "campaigns")
    viewer = add_user(session, cli_actor, "v@example.org", org_id=org.id, role="viewer", password="password-v")
    actor = Actor.staff(viewer.id, viewer.email)
    with pytest.raises(PermissionDenied):
        outbox.send_message(session, actor, org.id, to="0712345678", body="hi")
    assert outbox.list_messages(session, actor, org.id) == []
    outsider = make_org(session, "salon")
    with pytest.raises(NotFound):
        outbox.list_messages(session, actor, outsider.id)


# ---------------------------------------------------------------- dispatching with the log provider


def test_send_due_sends_what_is_queued(committed_db, org_id, caplog):
    ids = queue(committed_db, org_id, 5)
    progress = []
    with caplog.at_level(logging.INFO, logger="ofisi.outbox.log"):
        summary = outbox.send_due(committed_db, {"sms": LogProvider()}, batch_size=2, on_progress=progress.append)
    assert (summary.sent, summary.retried, summary.failed, summary.unknown, summary.stopped) == (5, 0, 0, 0, None)
    assert sum(progress) == 5
    for m in rows(committed_db).values():
        assert (m.status, m.attempts, m.provider, m.provider_message_id) == ("sent", 1, "log", f"log-{m.id}")
        assert m.sent_at is not None and m.last_error is None
    assert sorted(r.getMessage() for r in caplog.records) == sorted(
        f"SMS to {phone(i)}: message {i}" for i in range(5))
    # A second run finds nothing to do.
    again = outbox.send_due(committed_db, {"sms": LogProvider()})
    assert again == SendSummary()
    assert len(ids) == 5 and statuses(committed_db) == {"sent": 5}


def test_send_at_in_the_future_waits(committed_db, org_id):
    clock = Clock()
    later = queue(committed_db, org_id, 2, send_at=clock.now + timedelta(hours=1))
    now = queue(committed_db, org_id, 1, first=2, send_at=clock.now)
    summary = outbox.send_due(committed_db, {"sms": LogProvider()}, clock=clock)
    assert summary.sent == 1
    assert {i: m.status for i, m in rows(committed_db).items()} == {later[0]: "queued", later[1]: "queued",
                                                                    now[0]: "sent"}
    assert outbox.send_due(committed_db, {"sms": LogProvider()}, clock=clock.advance(minutes=59)).sent == 0
    assert outbox.send_due(committed_db, {"sms": LogProvider()}, clock=clock.advance(minutes=1)).sent == 2


def test_limit_sends_at_most_that_many_oldest_first(committed_db, org_id):
    ids = queue(committed_db, org_id, 7)
    summary = outbox.send_due(committed_db, {"sms": LogProvider()}, limit=3, batch_size=2)
    assert summary.sent == 3 and summary.released == 0
    got = rows(committed_db)
    assert [got[i].status for i in ids] == ["sent"] * 3 + ["queued"] * 4
    assert all(got[i].attempts == 0 and got[i].claimed_by is None for i in ids[3:])
    assert outbox.send_due(committed_db, {"sms": LogProvider()}, limit=10).sent == 4


def test_channels_without_a_provider_wait_and_are_counted(committed_db, org_id):
    queue(committed_db, org_id, 1)
    with committed_db.session() as s:
        outbox.enqueue(s, org_id, purpose="transactional", to="a@example.org", body="hi", channel="email", subject="x")
        outbox.enqueue(s, org_id, purpose="transactional", to="+254712345678", body="hi", channel="whatsapp")
        s.commit()
    summary = outbox.send_due(committed_db, {"sms": LogProvider()})
    assert summary.sent == 1
    assert summary.waiting == {"email": 1, "whatsapp": 1}
    assert "no provider for 1 email, 1 whatsapp" in summary.line()
    assert statuses(committed_db) == {"sent": 1, "queued": 2}


class Exploding:
    """A provider with a bug: it raises something no provider contract allows."""

    name = "exploding"

    def __init__(self, exc: BaseException, after: int = 0) -> None:
        self.exc, self.after, self.calls = exc, after, []

    def send(self, message: OutgoingMessage) -> SendResult:
        self.calls.append(message.id)
        if len(self.calls) > self.after:
            raise self.exc
        return SendResult(f"ok-{message.id}")

    def close(self) -> None:
        pass


@pytest.mark.parametrize("exc", [RuntimeError("provider bug"), KeyboardInterrupt()], ids=["bug", "ctrl-c"])
def test_unexpected_error_mid_send_leaves_that_message_unknown(committed_db, org_id, exc):
    """The request may have left: that message is ``unknown`` at once (not resent), the
    ones never tried go back to the queue, and the error is not swallowed."""
    ids = queue(committed_db, org_id, 4)
    provider = Exploding(exc, after=1)
    with pytest.raises(type(exc)):
        outbox.send_due(committed_db, {"sms": provider}, batch_size=10)
    got = rows(committed_db)
    assert [got[i].status for i in ids] == ["sent", "unknown", "queued", "queued"]
    assert got[ids[1]].last_error
    assert all(got[i].claimed_by is None and got[i].attempts == 0 for i in ids[2:])
    again = Exploding(RuntimeError("unused"), after=99)
    assert outbox.send_due(committed_db, {"sms": again}).sent == 2
    assert again.calls == ids[2:]


class Witness:
    """A provider that looks at the outbox from its own connection while it "sends"."""

    name = "witness"

    def __init__(self, db, transient: set[int] = frozenset(), on_send=None) -> None:
        self.db, self.transient, self.on_send = db, transient, on_send
        self.seen: list[tuple[int, dict[int, str]]] = []

    def send(self, message: OutgoingMessage) -> SendResult:
        with self.db.session() as s:  # on SQLite this waits if the dispatcher held a write transaction
            self.seen.append((message.id, dict(s.execute(select(Message.id, Message.status)).all())))
        if self.on_send:
            self.on_send(message)
        if message.id in self.transient:
            raise TransientSendError("gateway busy")
        return SendResult(f"w-{message.id}")

    def close(self) -> None:
        pass


def test_each_call_starts_with_its_sending_and_every_earlier_outcome_committed(committed_db, org_id):
    ids = queue(committed_db, org_id, 5)
    witness = Witness(committed_db, transient={ids[2]})
    summary = outbox.send_due(committed_db, {"sms": witness}, batch_size=10)
    assert (summary.sent, summary.retried) == (4, 1)
    assert [message_id for message_id, _ in witness.seen] == ids
    outcome = {i: "sent" for i in ids} | {ids[2]: "queued"}
    for n, (message_id, seen) in enumerate(witness.seen):
        assert seen[message_id] == "sending"
        assert {i: seen[i] for i in ids[:n]} == {i: outcome[i] for i in ids[:n]}
        assert {seen[i] for i in ids[n + 1:]} <= {"claimed"}
    got = rows(committed_db)
    assert {i: got[i].status for i in ids} == outcome


def test_a_slow_batch_keeps_its_claims_from_looking_abandoned(committed_db, org_id):
    """Each call takes two minutes; meanwhile another host's run looks for abandoned claims.
    The batch's claims stay ours (refreshed at half of stale_after) and all go out, once."""
    ids = queue(committed_db, org_id, 6)
    clock = Clock()
    stale_after = timedelta(minutes=5)
    recovered = []

    def slow(message):
        clock.advance(minutes=2)
        with committed_db.session() as other_host:
            recovered.append(outbox.recover_stale(other_host, clock.now, stale_after))

    witness = Witness(committed_db, on_send=slow)
    summary = outbox.send_due(committed_db, {"sms": witness}, batch_size=10, clock=clock, stale_after=stale_after)
    assert summary.sent == 6
    assert recovered == [(0, 0)] * 6
    assert [message_id for message_id, _ in witness.seen] == ids


def test_live_claims_of_another_worker_are_left_alone(committed_db, org_id):
    ids = queue(committed_db, org_id, 3)
    now = utcnow()
    with committed_db.session() as s:
        outbox.claim_due(s, "other-host:1", ["sms"], 2, now)
        s.execute(update(Message).where(Message.id == ids[1]).values(status="sending"))
        s.commit()
    summary = outbox.send_due(committed_db, {"sms": LogProvider()})
    assert (summary.sent, summary.released, summary.stale_unknown) == (1, 0, 0)
    got = rows(committed_db)
    assert [got[i].status for i in ids] == ["claimed", "sending", "sent"]


def test_recover_stale_releases_claims_and_marks_in_flight_unknown(committed_db, org_id):
    ids = queue(committed_db, org_id, 3)
    clock = Clock()
    with committed_db.session() as s:
        outbox.claim_due(s, "dead-host:1", ["sms"], 3, clock.now)
        s.execute(update(Message).where(Message.id == ids[0]).values(status="sending", attempts=1))
        s.commit()
        assert outbox.recover_stale(s, clock.now + timedelta(minutes=4), timedelta(minutes=5)) == (0, 0)
        assert outbox.recover_stale(s, clock.now + timedelta(minutes=6), timedelta(minutes=5)) == (2, 1)
    got = rows(committed_db)
    assert [got[i].status for i in ids] == ["unknown", "queued", "queued"]
    assert "stopped before the provider answered" in got[ids[0]].last_error


# ---------------------------------------------------------------- settling unknown messages


def _unknown(db, org_id) -> int:
    [message_id] = queue(db, org_id, 1)
    with db.session() as s:
        s.execute(update(Message).where(Message.id == message_id)
                  .values(status="unknown", attempts=1, claimed_by="gone:1", last_error="timed out"))
        s.commit()
    return message_id


def test_settle_unknown_as_sent(committed_db, org_id, cli_actor):
    message_id = _unknown(committed_db, org_id)
    with committed_db.session() as s:
        view = outbox.settle_unknown(s, cli_actor, org_id, message_id, sent=True)
    assert view.status == "sent"
    assert outbox.send_due(committed_db, {"sms": LogProvider()}).sent == 0
    with committed_db.session() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "message.settle"))
        assert (entry.entity_id, entry.before, entry.after, entry.actor) == (
            str(message_id), {"status": "unknown"}, {"status": "sent"}, cli_actor.label)


def test_settle_unknown_by_sending_again(committed_db, org_id, cli_actor):
    message_id = _unknown(committed_db, org_id)
    with committed_db.session() as s:
        assert outbox.settle_unknown(s, cli_actor, org_id, message_id, sent=False).status == "queued"
    provider = Exploding(RuntimeError("unused"), after=99)
    assert outbox.send_due(committed_db, {"sms": provider}).sent == 1
    assert provider.calls == [message_id]
    assert rows(committed_db)[message_id].attempts == 2
    with committed_db.session() as s, pytest.raises(InvalidInput, match="is sent, not unknown"):
        outbox.settle_unknown(s, cli_actor, org_id, message_id, sent=True)


def test_settle_unknown_of_another_org_is_not_found(committed_db, org_id, make_org, cli_actor):
    message_id = _unknown(committed_db, org_id)
    with committed_db.session() as s:
        other = make_org(s, "chama")
        with pytest.raises(NotFound):
            outbox.settle_unknown(s, cli_actor, other.id, message_id, sent=True)


# ---------------------------------------------------------------- retry policy


def test_retry_delay_doubles_with_jitter_and_a_cap():
    policy = RetryPolicy(max_attempts=6, base_seconds=30, max_seconds=100)
    assert policy.delay(1, rng=lambda: 0.0) == timedelta(seconds=15)
    assert policy.delay(1, rng=lambda: 1.0) == timedelta(seconds=30)
    assert policy.delay(2, rng=lambda: 1.0) == timedelta(seconds=60)
    assert policy.delay(3, rng=lambda: 0.0) == timedelta(seconds=50)  # capped at 100, then halved
    assert policy.delay(9, rng=lambda: 1.0) == timedelta(seconds=100)
    for attempts in range(1, 5):
        d = policy.delay(attempts).total_seconds()
        ceiling = min(100, 30 * 2 ** (attempts - 1))
        assert ceiling / 2 <= d <= ceiling
