"""`ofisi send due` killed with SIGKILL in the middle of a campaign, then run again:
nobody gets two messages, nobody is skipped silently, and only the batch that was in
flight may be left ``unknown`` (listed for an operator)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

from sqlalchemy import select

import core.campaigns  # noqa: F401
from core.campaigns import service
from core.outbox import list_messages
from db.models import Message
from tests.campaigns_support import ACTOR, add_contacts
from tests.fakes import phone, wait_until
from tests.fakes.africastalking import fake_at  # noqa: F401  (fixture)

TOTAL, BATCH = 600, 50


def ofisi_env(db_url: str, fake) -> dict[str, str]:
    return {**os.environ, "OFISI_DATABASE_URL": db_url, "OFISI_SMS_PROVIDER": "africastalking",
            "OFISI_AT_BASE_URL": fake.url, "OFISI_AT_API_KEY": fake.api_key, "OFISI_AT_USERNAME": fake.username,
            "OFISI_SEND_PARALLEL": "8", "OFISI_SEND_BATCH_SIZE": str(BATCH), "OFISI_SEND_STALE_AFTER_SECONDS": "1"}


def ofisi(*args: str) -> list[str]:
    return [sys.executable, "-c", "from commands.main import run; run()", *args]


def test_a_sender_killed_mid_campaign_and_run_again_sends_nobody_twice(committed_db, make_org, fake_at):
    with committed_db.session() as s:
        org = make_org(s, "chama")
        add_contacts(s, org.id, TOTAL)
        c = service.create_campaign(s, ACTOR, org.id, name="Kill", text="Habari {{ first_name }} {{ phone }}")
        service.launch_campaign(s, ACTOR, org.id, c.id)
    fake_at.delay = 0.004
    env = ofisi_env(committed_db.url, fake_at)
    doomed = subprocess.Popen(ofisi("send", "due"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: len(fake_at.requests) >= 150 or doomed.poll() is not None, timeout=60,
                   what="the sender to be well into the campaign")
        assert doomed.poll() is None, doomed.stderr.read().decode()
        doomed.send_signal(signal.SIGKILL)
        assert doomed.wait(timeout=10) == -signal.SIGKILL
    finally:
        if doomed.poll() is None:
            doomed.kill()
    fake_at.delay = 0.0
    time.sleep(1.2)  # past OFISI_SEND_STALE_AFTER_SECONDS: the dead sender's rows are stale
    again = subprocess.run(ofisi("send", "due", "--json"), env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)

    got = Counter(number for r in fake_at.requests for number in r.to)
    assert max(got.values()) == 1, "somebody got two messages"
    with committed_db.session() as s:
        rows = s.execute(select(Message.to_address, Message.status).where(Message.campaign_id == c.id)).all()
    statuses = Counter(status for _, status in rows)
    assert set(statuses) <= {"sent", "unknown"}
    assert statuses["unknown"] <= BATCH and statuses["unknown"] == summary["stale_unknown"]
    assert statuses["sent"] + statuses["unknown"] == TOTAL
    # Every message marked sent reached the provider exactly once; none was skipped silently.
    assert all(got[to] == 1 for to, status in rows if status == "sent")
    with committed_db.session() as s:  # what `ofisi send unknown` lists for an operator
        assert len(list_messages(s, ACTOR, org.id, status="unknown")) == statuses["unknown"]
    assert {phone(i) for i in range(TOTAL)} == {to for to, _ in rows}
