"""Due work: registering handlers and planners, scheduling by key, running each job once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from core import jobs, outbox
from core.errors import InvalidInput
from db.models import Job, Message
from tests.fakes import Clock, phone


@pytest.fixture(autouse=True)
def registry(monkeypatch):
    """Each test registers its own handlers and planners; the areas' ones stay out of the way."""
    monkeypatch.setattr(jobs, "HANDLERS", {})
    monkeypatch.setattr(jobs, "PLANNERS", {})
    return jobs


@pytest.fixture
def org_id(committed_db, make_org) -> int:
    with committed_db.session() as s:
        return make_org(s, "chama").id


def all_jobs(db) -> dict[str, Job]:
    with db.session() as s:
        return {j.key: j for j in s.scalars(select(Job).order_by(Job.id))}


def message_bodies(db) -> list[str]:
    with db.session() as s:
        return list(s.scalars(select(Message.body).order_by(Message.id)))


def reminder_handler(ran: list[str]):
    @jobs.handler("remind")
    def remind(session, job: jobs.DueJob) -> None:
        ran.append(job.key)
        outbox.enqueue(session, job.org_id, purpose="transactional", to=job.payload["to"], body=f"Reminder {job.key}")

    return remind


def test_schedule_needs_a_handler_and_is_idempotent_by_key(session, make_org):
    org = make_org(session, "salon")
    clock = Clock()
    with pytest.raises(ValueError, match="no handler"):
        jobs.schedule(session, "remind", "remind:1", clock.now)
    reminder_handler([])
    assert jobs.schedule(session, "remind", "remind:1", clock.now, org_id=org.id, payload={"to": "0712345678"})
    assert not jobs.schedule(session, "remind", "remind:1", clock.now + timedelta(days=1))
    [job] = session.scalars(select(Job)).all()
    assert (job.key, job.due_at, job.status, job.attempts, job.payload) == (
        "remind:1", clock.now, "pending", 0, {"to": "0712345678"})


def test_run_due_runs_each_due_job_once_and_a_second_run_changes_nothing(committed_db, org_id):
    ran: list[str] = []
    reminder_handler(ran)
    clock = Clock()
    with committed_db.session() as s:
        for i, minutes in enumerate([-30, -10, 0, 60]):
            jobs.schedule(s, "remind", f"remind:{i}", clock.now + timedelta(minutes=minutes), org_id=org_id,
                          payload={"to": phone(i)})
        s.commit()
    summary = jobs.run_due(committed_db, now=clock.now)
    assert (summary.ran, summary.retrying, summary.failed) == (3, 0, 0)
    assert summary.line() == "3 done, 0 to retry, 0 failed"
    assert ran == ["remind:0", "remind:1", "remind:2"]
    got = all_jobs(committed_db)
    assert [(got[f"remind:{i}"].status, got[f"remind:{i}"].attempts) for i in range(4)] == [
        ("done", 1), ("done", 1), ("done", 1), ("pending", 0)]
    assert got["remind:0"].finished_at == clock.now
    assert message_bodies(committed_db) == ["Reminder remind:0", "Reminder remind:1", "Reminder remind:2"]

    again = jobs.run_due(committed_db, now=clock.now)
    assert (again.ran, again.retrying, again.failed) == (0, 0, 0)
    assert len(ran) == 3 and len(message_bodies(committed_db)) == 3

    assert jobs.run_due(committed_db, now=clock.advance(hours=1).now).ran == 1
    assert ran[-1] == "remind:3"


def test_limit_runs_at_most_that_many(committed_db, org_id):
    ran: list[str] = []
    reminder_handler(ran)
    clock = Clock()
    with committed_db.session() as s:
        for i in range(5):
            jobs.schedule(s, "remind", f"r{i}", clock.now, org_id=org_id, payload={"to": phone(i)})
        s.commit()
    assert jobs.run_due(committed_db, now=clock.now, limit=2).ran == 2
    assert jobs.run_due(committed_db, now=clock.now).ran == 3
    assert sorted(ran) == [f"r{i}" for i in range(5)]


def test_a_planner_schedules_recurring_work_once_per_period(committed_db, org_id):
    ran: list[str] = []
    reminder_handler(ran)

    @jobs.planner("daily-reminders")
    def plan(session, now) -> None:
        jobs.schedule(session, "remind", f"daily:{now.date()}", now, org_id=org_id, payload={"to": phone(1)})

    clock = Clock(datetime(2030, 1, 15, 6, 0, tzinfo=timezone.utc))  # not near midnight, whatever the real time
    jobs.run_due(committed_db, now=clock.now)
    jobs.run_due(committed_db, now=clock.advance(minutes=5).now)
    assert ran == [f"daily:{clock.now.date()}"]
    jobs.run_due(committed_db, now=clock.advance(days=1).now)
    assert len(ran) == 2 and len(all_jobs(committed_db)) == 2


def test_a_failing_planner_is_reported_and_the_rest_still_runs(committed_db, org_id):
    ran: list[str] = []
    reminder_handler(ran)

    @jobs.planner("broken")
    def broken(session, now) -> None:
        jobs.schedule(session, "remind", "from-broken", now, org_id=org_id, payload={"to": phone(1)})
        raise RuntimeError("planner bug")

    @jobs.planner("fine")
    def fine(session, now) -> None:
        jobs.schedule(session, "remind", "from-fine", now, org_id=org_id, payload={"to": phone(2)})

    summary = jobs.run_due(committed_db, now=Clock().now)
    assert summary.planned_errors == ["broken: planner bug"]
    assert "planners failed: broken: planner bug" in summary.line()
    assert ran == ["from-fine"]  # the broken planner's own schedule was rolled back with it


def test_a_failing_handler_rolls_back_its_writes_retries_with_backoff_then_fails(committed_db, org_id):
    calls: list[int] = []

    @jobs.handler("flaky")
    def flaky(session, job: jobs.DueJob) -> None:
        calls.append(job.id)
        outbox.enqueue(session, job.org_id, purpose="transactional", to="0712345678", body="half done")
        raise RuntimeError("boom")

    clock = Clock()
    start = clock.now
    with committed_db.session() as s:
        jobs.schedule(s, "flaky", "flaky:1", start, org_id=org_id)
        s.commit()

    summary = jobs.run_due(committed_db, now=start)
    assert (summary.ran, summary.retrying, summary.failed) == (0, 1, 0)
    job = all_jobs(committed_db)["flaky:1"]
    assert (job.status, job.attempts, job.last_error) == ("pending", 1, "RuntimeError: boom")
    assert job.due_at == start + timedelta(minutes=5)
    assert message_bodies(committed_db) == []

    assert jobs.run_due(committed_db, now=start + timedelta(minutes=4)).retrying == 0  # not due yet
    assert jobs.run_due(committed_db, now=start + timedelta(minutes=5)).retrying == 1
    job = all_jobs(committed_db)["flaky:1"]
    assert (job.attempts, job.due_at) == (2, start + timedelta(minutes=15))

    summary = jobs.run_due(committed_db, now=start + timedelta(minutes=15))
    assert summary.failed == 1
    job = all_jobs(committed_db)["flaky:1"]
    assert (job.status, job.attempts) == ("failed", jobs.MAX_ATTEMPTS)
    assert job.finished_at == start + timedelta(minutes=15)

    jobs.run_due(committed_db, now=start + timedelta(days=7))
    assert len(calls) == jobs.MAX_ATTEMPTS
    assert message_bodies(committed_db) == []


def test_a_domain_error_is_recorded_as_its_message(committed_db, org_id):
    @jobs.handler("refused")
    def refused(session, job) -> None:
        raise InvalidInput("The member has left the chama.")

    with committed_db.session() as s:
        jobs.schedule(s, "refused", "refused:1", Clock().now, org_id=org_id)
        s.commit()
    jobs.run_due(committed_db, now=Clock().now)
    assert all_jobs(committed_db)["refused:1"].last_error == "The member has left the chama."


def test_runners_at_once_run_each_job_exactly_once(committed_db, org_id, backend):
    """Several runners (threads, each with its own connection) on the same jobs at the same moment."""
    total, runners = 60, 4
    ran_by: Counter[str] = Counter()

    @jobs.handler("count")
    def count(session, job: jobs.DueJob) -> None:
        # Written in the job's own transaction: a second run of the job would add a second row.
        outbox.enqueue(session, job.org_id, purpose="transactional", to="0712345678", body=f"job {job.id}")
        ran_by[threading.current_thread().name] += 1
        time.sleep(0.002)

    @jobs.planner("one-more")
    def one_more(session, now) -> None:
        # Every runner plans the same job at the same moment; the key makes it one job.
        jobs.schedule(session, "count", "count:planned", now, org_id=org_id)

    clock = Clock()
    with committed_db.session() as s:
        for i in range(total):
            jobs.schedule(s, "count", f"count:{i}", clock.now, org_id=org_id)
        s.commit()
    barrier = threading.Barrier(runners, timeout=10)
    summaries, errors = [], []

    def run() -> None:
        try:
            barrier.wait()
            summaries.append(jobs.run_due(committed_db, now=clock.now))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, name=f"runner-{i}") for i in range(runners)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(summaries) == runners
    bodies = Counter(message_bodies(committed_db))
    assert len(bodies) == total + 1 and set(bodies.values()) == {1}
    assert sum(s.ran for s in summaries) == total + 1
    assert all(s.planned_errors == [] for s in summaries)
    assert {j.status for j in all_jobs(committed_db).values()} == {"done"}
    if backend == "postgresql":
        assert len(ran_by) > 1, f"the runners shared the work: {dict(ran_by)}"
