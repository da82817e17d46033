"""`ofisi send due --every` as a deployment runs it: two sender services on one PostgreSQL
database, messages arriving while they run, stopped with SIGTERM as systemd stops them.
The fake Africa's Talking is the witness of every send; an open console's
:class:`core.changes.ChangeWatcher` hears the senders' commits from their processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from core import outbox
from core.changes import ChangeWatcher
from db.models import Message
from tests.fakes import phone, wait_until
from tests.fakes.africastalking import fake_at  # noqa: F401  (fixture)

WAVES, PER_WAVE = 4, 30


@pytest.fixture(autouse=True)
def postgresql_only(backend):
    if backend != "postgresql":
        pytest.skip("sender services on several hosts share a PostgreSQL database")


def test_two_sender_services_send_what_arrives_once_each_and_stop_on_sigterm(committed_db, make_org, fake_at,
                                                                           tmp_path):
    with committed_db.session() as s:
        org_id = make_org(s, "chama").id
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFISI_")}
    env.update(OFISI_DATABASE_URL=committed_db.url, OFISI_SMS_PROVIDER="africastalking",
               OFISI_AT_BASE_URL=fake_at.url, OFISI_AT_API_KEY=fake_at.api_key, OFISI_AT_USERNAME=fake_at.username,
               OFISI_SEND_BATCH_SIZE="5", PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    fake_at.delay = 0.01  # a provider that takes a moment, so the two senders overlap
    watcher = ChangeWatcher(committed_db.url)
    senders = [subprocess.Popen([sys.executable, "-c", "from commands.main import run; run()", "send", "due",
                                 "--every", "0.3"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for _ in range(2)]
    try:
        for wave in range(WAVES):  # people's messages keep arriving while the services run
            with committed_db.session() as s:
                for i in range(wave * PER_WAVE, (wave + 1) * PER_WAVE):
                    outbox.enqueue(s, org_id, purpose="transactional", to=phone(i), body=f"Risiti {i}")
                s.commit()
            time.sleep(0.2)

        def all_sent() -> bool:
            with committed_db.session() as s:
                return s.scalar(select(func.count()).where(Message.status == "sent")) == WAVES * PER_WAVE

        wait_until(all_sent, timeout=60, interval=0.1, what="every message to be sent")
        # Their commits are announced to consoles in other processes (pg_notify), within a second or so.
        heard: set[int] = set()
        wait_until(lambda: heard.update(watcher.wait(1.0)) or org_id in heard, timeout=10,
                   what="the senders' changes to be announced")
        assert all(sender.poll() is None for sender in senders), "a sender service stopped by itself"
    finally:
        watcher.close()
        for sender in senders:
            if sender.poll() is None:
                sender.send_signal(signal.SIGTERM)
        outputs = [sender.communicate(timeout=30) for sender in senders]
    assert [sender.returncode for sender in senders] == [0, 0], outputs
    assert all("Sender stopped." in err for _, err in outputs)

    sent_to = Counter(number for r in fake_at.requests for number in r.to)
    assert sent_to == {phone(i): 1 for i in range(WAVES * PER_WAVE)}
    with committed_db.session() as s:
        share = dict(s.execute(select(Message.claimed_by, func.count()).group_by(Message.claimed_by)).all())
    assert len({worker.split(":")[1] for worker in share}) == 2, f"both services sent some: {share}"
