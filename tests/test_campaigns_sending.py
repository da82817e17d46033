"""The send engine against the fake Africa's Talking on loopback: personalised and bulk
campaigns, pause/resume without copies, 429 and 5xx retried under a rate limit that holds,
permanent failures not retried and a failing campaign paused with its reason."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

import core.campaigns  # noqa: F401
from core import outbox
from core.campaigns import service
from core.outbox import RetryPolicy
from db.models import Message
from tests.campaigns_support import ACTOR, add_contacts, message_states
from tests.fakes import phone, wait_until
from tests.fakes.africastalking import Script, fake_at  # noqa: F401  (fixture)

QUICK_RETRY = RetryPolicy(max_attempts=4, base_seconds=0.05, max_seconds=0.2)


@pytest.fixture
def org_id(committed_db, make_org) -> int:
    with committed_db.session() as s:
        return make_org(s, "chama", name="Umoja").id


def launch(db, org_id: int, count: int, text: str, **kw) -> int:
    with db.session() as s:
        add_contacts(s, org_id, count)
        c = service.create_campaign(s, ACTOR, org_id, name="Test", text=text, **kw)
        service.launch_campaign(s, ACTOR, org_id, c.id)
        return c.id


def received(fake) -> Counter[str]:
    return Counter(number for r in fake.requests for number in r.to)


def states(db, campaign_id: int) -> Counter[str]:
    with db.session() as s:
        return message_states(s, campaign_id)


def send_until_done(db, fake, *, rounds: int = 40, **kw) -> None:
    """Run the dispatcher until nothing of the campaign waits (retries come due in real time)."""
    import time

    for _ in range(rounds):
        outbox.send_due(db, {"sms": fake.provider()}, **kw)
        with db.session() as s:
            if not s.scalar(select(Message.id).where(Message.status.in_(("queued", "claimed"))).limit(1)):
                return
        time.sleep(0.05)
    raise AssertionError("the dispatcher did not finish")


def test_two_thousand_personalised_messages_each_go_once(committed_db, org_id, fake_at):
    campaign_id = launch(committed_db, org_id, 2000, "Habari {{ first_name }} {{ phone }}")
    summary = outbox.send_due(committed_db, {"sms": fake_at.provider()}, batch_size=200, parallel=16)
    assert summary.sent == 2000 and summary.stopped is None
    assert received(fake_at) == {phone(i): 1 for i in range(2000)}
    bodies = {r.to[0]: r.message for r in fake_at.requests}
    assert bodies[phone(7)] == f"Habari Member {phone(7)}"
    assert states(committed_db, campaign_id) == {"sent": 2000}
    with committed_db.session() as s:
        assert service.campaign_progress(s, ACTOR, org_id, campaign_id).status == "completed"


def test_one_text_to_many_goes_in_bulk_requests(committed_db, org_id, fake_at):
    campaign_id = launch(committed_db, org_id, 1200, "Meeting on Saturday at 10")
    summary = outbox.send_due(committed_db, {"sms": fake_at.provider()}, batch_size=600, parallel=4)
    assert summary.sent == 1200
    assert len(fake_at.requests) <= 4  # 500 recipients a request at most
    assert received(fake_at) == {phone(i): 1 for i in range(1200)}
    with committed_db.session() as s:
        ids = s.scalars(select(Message.provider_message_id).where(Message.campaign_id == campaign_id)).all()
    assert len(set(ids)) == 1200  # each recipient's own id, from the bulk reply


def test_pause_mid_run_then_resume_sends_nobody_a_second_copy(committed_db, org_id, fake_at):
    campaign_id = launch(committed_db, org_id, 300, "Hi {{ first_name }} {{ phone }}")
    fake_at.delay = 0.01
    done = threading.Event()

    def run() -> None:
        outbox.send_due(committed_db, {"sms": fake_at.provider()}, batch_size=20, parallel=4)
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    wait_until(lambda: len(fake_at.requests) >= 40, what="some messages to go out")
    with committed_db.session() as s:
        service.pause_campaign(s, ACTOR, org_id, campaign_id)
    thread.join(timeout=30)
    assert done.is_set()
    fake_at.delay = 0.0
    at_pause = states(committed_db, campaign_id)
    assert at_pause["queued"] > 0 and at_pause["sent"] >= 40
    assert set(at_pause) <= {"queued", "sent"}
    # While paused, another sender sends nothing of it.
    assert outbox.send_due(committed_db, {"sms": fake_at.provider()}, parallel=4).sent == 0
    with committed_db.session() as s:
        service.resume_campaign(s, ACTOR, org_id, campaign_id)
    summary = outbox.send_due(committed_db, {"sms": fake_at.provider()}, batch_size=50, parallel=4)
    assert summary.sent == at_pause["queued"]
    assert received(fake_at) == {phone(i): 1 for i in range(300)}
    assert states(committed_db, campaign_id) == {"sent": 300}


def test_429_and_5xx_are_retried_with_backoff_and_the_rate_limit_holds(committed_db, org_id, fake_at):
    limit = 100.0
    campaign_id = launch(committed_db, org_id, 120, "Hi {{ first_name }} {{ phone }}")
    fake_at.next_calls(Script(http_status=429, retry_after="0.2"), Script(http_status=503),
                       Script(status_code=500))
    send_until_done(committed_db, fake_at, batch_size=30, parallel=8, rate_limits={"sms": limit},
                    policy=QUICK_RETRY)
    assert states(committed_db, campaign_id) == {"sent": 120}
    got = received(fake_at)
    assert len(got) == 120 and sum(got.values()) == 123  # three refused calls, each tried again once
    times = sorted(r.at for r in fake_at.requests)
    # No second ever holds more than the limit (one message of slack for the arrival clock).
    for i, t in enumerate(times):
        in_window = sum(1 for u in times[i:] if u - t < 1.0)
        assert in_window <= limit + 1
    overall = (len(times) - 1) / (times[-1] - times[0])
    assert overall <= limit * 1.05
    # The 429's Retry-After: its message went again no sooner than 0.2 s later.
    first = fake_at.requests[0]
    again = [r.at for r in fake_at.received_for(first.to[0])]
    assert len(again) == 2 and again[1] - again[0] >= 0.2
    with committed_db.session() as s:
        retried = s.scalars(select(Message.attempts).where(Message.campaign_id == campaign_id)).all()
    assert sorted(retried)[-2:] == [2, 2] and retried.count(1) == 118  # the 429 gave its attempt back


def test_permanent_failures_are_not_retried_and_a_failing_campaign_pauses_with_its_reason(
        committed_db, org_id, fake_at):
    campaign_id = launch(committed_db, org_id, 60, "Hi {{ first_name }} {{ phone }}",
                         failure_threshold_pct=20, failure_min_sample=20)
    for i in range(0, 60, 2):  # half the numbers are blacklisted
        fake_at.on_number(phone(i), status_code=406)
    summary = outbox.send_due(committed_db, {"sms": fake_at.provider()}, batch_size=20, parallel=4,
                              policy=QUICK_RETRY)
    assert summary.failed == 10 and summary.retried == 0
    got = received(fake_at)
    assert all(n == 1 for n in got.values())
    with committed_db.session() as s:
        progress = service.campaign_progress(s, ACTOR, org_id, campaign_id)
    assert progress.status == "paused" and progress.failed == 10 and progress.queued == 40
    assert "UserInBlacklist" in progress.pause_reason and "10 of 20" in progress.pause_reason
    # Later runs send none of it while it is paused, and never retry the failed ones.
    outbox.send_due(committed_db, {"sms": fake_at.provider()}, parallel=4,
                    clock=lambda: outbox.utcnow() + timedelta(hours=2))
    assert received(fake_at) == got


def test_the_rate_limiter_spaces_sends_counts_bulk_recipients_and_holds_for_retry_after():
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        now[0] += seconds

    limiter = outbox.RateLimiter(10, monotonic=lambda: now[0], sleep=sleep)
    limiter.acquire()
    limiter.acquire()
    limiter.acquire(5)  # a bulk request of five numbers
    limiter.acquire()
    assert slept == [0.1, 0.1, 0.5]
    limiter.hold(2.0)
    limiter.acquire()
    assert slept[-1] == 2.0
    unlimited = outbox.RateLimiter(None, monotonic=lambda: now[0], sleep=sleep)
    unlimited.acquire(1000)
    assert len(slept) == 4
