"""`ofisi send due` killed with SIGKILL in the middle of a 2,000-message personalised
campaign, then run again: nobody gets two messages, nobody is skipped silently (every
message ends sent or unknown, none left queued), and only the batch that was in flight
may be left ``unknown`` (listed for an operator)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

from sqlalchemy import func, select

import core.campaigns  # noqa: F401
from core.campaigns import service
from core.outbox import list_messages
from db.models import Message
from tests.campaigns_support import ACTOR, add_contacts
from tests.fakes import phone, wait_until
from tests.fakes.africastalking import fake_at  # noqa: F401  (fixture)

TOTAL, BATCH = 2000, 50
STALE_AFTER_S = 0.5


def ofisi_env(db_url: str, fake) -> dict[str, str]:
    return {**os.environ, "OFISI_DATABASE_URL": db_url, "OFISI_SMS_PROVIDER": "africastalking",
            "OFISI_AT_BASE_URL": fake.url, "OFISI_AT_API_KEY": fake.api_key, "OFISI_AT_USERNAME": fake.username,
            "OFISI_SEND_PARALLEL": "8", "OFISI_SEND_BATCH_SIZE": str(BATCH),
            "OFISI_SEND_STALE_AFTER_SECONDS": str(STALE_AFTER_S)}


def ofisi(*args: str) -> list[str]:
    return [sys.executable, "-c", "from commands.main import run; run()", *args]


def ofisi_when_told(*args: str) -> list[str]:
    """``ofisi ARGS`` that loads what a send needs, then waits for a line on stdin before it runs:
    the restart is ready the moment the killed sender is gone, not a start-up later."""
    return [sys.executable, "-c", "import sys, commands.main, core.outbox, core.providers.africastalking, "
            "core.registry; core.registry.load_areas(); sys.stdin.readline(); commands.main.run()", *args]


def test_a_sender_killed_mid_campaign_and_run_again_sends_nobody_twice(committed_db, make_org, fake_at):
    with committed_db.session() as s:
        org = make_org(s, "chama")
        add_contacts(s, org.id, TOTAL)
        c = service.create_campaign(s, ACTOR, org.id, name="Kill", text="Habari {{ first_name }} {{ phone }}")
        service.launch_campaign(s, ACTOR, org.id, c.id)
    fake_at.delay = 0.004  # a batch spends most of its time on the wire: the kill lands mid-batch
    env = ofisi_env(committed_db.url, fake_at)
    restart = subprocess.Popen(ofisi_when_told("send", "due", "--json"), env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    doomed = subprocess.Popen(ofisi("send", "due"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: len(fake_at.requests) >= TOTAL // 4 or doomed.poll() is not None, timeout=60,
                   what="the sender to be well into the campaign")
        assert doomed.poll() is None, doomed.stderr.read().decode()
        doomed.send_signal(signal.SIGKILL)
        assert doomed.wait(timeout=10) == -signal.SIGKILL
        killed_at = time.monotonic()
        before_restart = len(fake_at.requests)
        assert before_restart < TOTAL, "the sender finished before it was killed"
        with committed_db.session() as s:  # what the killed sender left on the wire
            in_flight = s.scalar(select(func.count()).where(Message.campaign_id == c.id,
                                                            Message.status == "sending"))
        assert in_flight <= BATCH
        fake_at.delay = 0.0
        time.sleep(max(0.0, STALE_AFTER_S + 0.1 - (time.monotonic() - killed_at)))  # the dead sender's rows are stale
        out, errors = restart.communicate("go\n", timeout=120)
    finally:
        for process in (doomed, restart):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert restart.returncode == 0, errors
    summary = json.loads(out)

    got = Counter(number for r in fake_at.requests for number in r.to)
    assert max(got.values()) == 1, "somebody got two messages"
    assert summary["sent"] == len(fake_at.requests) - before_restart > 0, "the restart sends the rest"
    with committed_db.session() as s:
        rows = s.execute(select(Message.to_address, Message.status).where(Message.campaign_id == c.id)).all()
    statuses = Counter(status for _, status in rows)
    assert len(rows) == TOTAL and set(statuses) <= {"sent", "unknown"}, statuses  # none queued, none lost
    assert statuses["unknown"] <= BATCH and statuses["unknown"] == summary["stale_unknown"] == in_flight
    # Every message marked sent reached the provider exactly once; none was skipped silently.
    assert all(got[to] == 1 for to, status in rows if status == "sent")
    with committed_db.session() as s:  # what `ofisi send unknown` lists for an operator
        assert len(list_messages(s, ACTOR, org.id, status="unknown")) == statuses["unknown"]
    assert {phone(i) for i in range(TOTAL)} == {to for to, _ in rows}
