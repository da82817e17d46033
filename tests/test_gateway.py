"""The gateway over real HTTP, in the providers' own formats."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from config import load_settings
from core import outbox
from db.models import Message
from tests.live_gateway import running_gateway


@pytest.fixture
def sent_message(committed_db, make_org):
    """A message Africa's Talking accepted with id ATXid_1."""
    with committed_db.session() as session:
        org = make_org(session, "chama")
        message_id = outbox.enqueue(session, org.id, purpose="transactional", to="0712345678",
                                    body="Your contribution is due")
        message = session.get(Message, message_id)
        message.status, message.provider, message.provider_message_id = "sent", "africastalking", "ATXid_1"
        session.commit()
    return message_id


def status_of(db, message_id: int) -> str:
    with db.session() as session:
        return session.get(Message, message_id).status


def report(base: str, **fields) -> httpx.Response:
    return httpx.post(f"{base}/sms/delivery", data=fields, timeout=10)


def test_health_says_whether_callbacks_are_signed(committed_db):
    with running_gateway(committed_db) as base:
        answer = httpx.get(f"{base}/health", timeout=10)
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok", "callbacks": "unsigned", "refused_callbacks": 0}
    with running_gateway(committed_db, load_settings({"OFISI_CALLBACK_TOKEN": "t0ken"})) as base:
        httpx.post(f"{base}/sms/inbound", data={"id": "ATXid_9", "from": "+254712345678", "text": "STOP"})
        answer = httpx.get(f"{base}/health", timeout=10)
    assert answer.json() == {"status": "ok", "database": "ok", "callbacks": "signed", "refused_callbacks": 1}


def test_delivery_reports_move_messages_forward_only(committed_db, sent_message):
    with running_gateway(committed_db) as base:
        first = report(base, id="ATXid_1", status="Success", phoneNumber="+254712345678", networkCode="63902")
        assert first.status_code == 200 and first.text == "ok"
        assert status_of(committed_db, sent_message) == "delivered"
        # A replay, and a late "Sent" after "Success", change nothing.
        assert report(base, id="ATXid_1", status="Success").status_code == 200
        assert report(base, id="ATXid_1", status="Sent").status_code == 200
        assert status_of(committed_db, sent_message) == "delivered"


def test_failed_delivery_keeps_the_reason(committed_db, sent_message):
    with running_gateway(committed_db) as base:
        report(base, id="ATXid_1", status="Failed", failureReason="AbsentSubscriber")
    with committed_db.session() as session:
        message = session.get(Message, sent_message)
        assert message.status == "failed" and "AbsentSubscriber" in message.last_error


def test_a_report_settles_an_unknown_message(committed_db, sent_message):
    with committed_db.session() as session:
        session.get(Message, sent_message).status = "unknown"
        session.commit()
    with running_gateway(committed_db) as base:
        report(base, id="ATXid_1", status="Success")
    assert status_of(committed_db, sent_message) == "delivered"


@pytest.mark.parametrize("fields", [{}, {"id": "ATXid_404", "status": "Success"}, {"id": "ATXid_1", "status": "Odd"},
                                    {"garbage": "\xff"}])
def test_odd_reports_are_answered_and_ignored(committed_db, sent_message, fields):
    with running_gateway(committed_db) as base:
        answer = report(base, **fields)
    assert answer.status_code == 200
    assert status_of(committed_db, sent_message) == "sent"


def test_callback_token_is_required_when_configured(committed_db, sent_message):
    settings = load_settings({"OFISI_CALLBACK_TOKEN": "t0ken"})
    with running_gateway(committed_db, settings) as base:
        assert report(base, id="ATXid_1", status="Success").status_code == 403
        assert httpx.post(f"{base}/sms/delivery?token=wrong", data={"id": "ATXid_1", "status": "Success"}).status_code == 403
        assert status_of(committed_db, sent_message) == "sent"
        ok = httpx.post(f"{base}/sms/delivery?token=t0ken", data={"id": "ATXid_1", "status": "Success"})
        assert ok.status_code == 200
    assert status_of(committed_db, sent_message) == "delivered"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ofisi_serve(database_url: str, port: int, *args: str, **settings: str) -> subprocess.Popen:
    ofisi = Path(sys.executable).parent / "ofisi"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OFISI_")}, "OFISI_DATABASE_URL": database_url,
           **settings}
    return subprocess.Popen([str(ofisi), "serve", "--port", str(port), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _healthy(process: subprocess.Popen, port: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).json()
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError(process.stderr.read() if process.poll() is not None else "no answer")
            time.sleep(0.1)


def test_ofisi_serve_runs_the_gateway(request, backend):
    if backend != "sqlite":
        pytest.skip("one backend is enough to see the command start and stop")
    fresh_database_url = request.getfixturevalue("fresh_database_url")  # a PostgreSQL one is never made
    port = _free_port()
    process = _ofisi_serve(fresh_database_url, port)
    try:
        assert _healthy(process, port)["status"] == "ok"
    finally:
        process.terminate()
        process.wait(10)


def test_ofisi_serve_refuses_unsigned_callbacks_on_a_reachable_address(request, backend):
    if backend != "sqlite":
        pytest.skip("the check comes before the database; one backend shows it")
    fresh_database_url = request.getfixturevalue("fresh_database_url")
    port = _free_port()
    refused = _ofisi_serve(fresh_database_url, port, "--host", "0.0.0.0")
    _out, err = refused.communicate(timeout=60)
    assert refused.returncode == 1 and "Traceback" not in err
    assert "Not serving on 0.0.0.0 without the callback_token secret" in err
    assert "ofisi secrets set callback_token" in err and "--allow-unsigned-callbacks" in err
    # Told to, it serves, says so, and /health shows the mode; with the token it is signed.
    for args, settings, mode in ((["--allow-unsigned-callbacks"], {}, "unsigned"),
                                 ([], {"OFISI_CALLBACK_TOKEN": "t0ken"}, "signed")):
        process = _ofisi_serve(fresh_database_url, port, "--host", "0.0.0.0", *args, **settings)
        try:
            assert _healthy(process, port)["callbacks"] == mode
        finally:
            process.terminate()
            _out, err = process.communicate(timeout=30)
        assert ("Callbacks are unsigned" in err) == (mode == "unsigned")


def test_several_gateway_workers_share_the_port_on_postgresql(backend, fresh_database_url):
    port = _free_port()
    process = _ofisi_serve(fresh_database_url, port, "--workers", "2")
    if backend == "sqlite":
        out, err = process.communicate(timeout=30)
        assert process.returncode == 1 and "Several gateway workers need PostgreSQL" in err
        assert "Traceback" not in err
        return
    try:
        assert _healthy(process, port)["status"] == "ok"
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:  # one kept-alive connection
            times = []
            for n in range(30):  # hops of new sessions, answered by whichever worker accepted the connection
                began = time.perf_counter()
                answer = client.post("/ussd/callback", data={
                    "sessionId": f"w-{n}", "serviceCode": "*384#", "phoneNumber": "+254712345678", "text": ""})
                times.append(time.perf_counter() - began)
                assert answer.status_code == 200 and answer.text.startswith("END ")
        # An answer does not wait on the client's delayed ACK (40 ms) before its body leaves.
        assert sorted(times)[len(times) // 2] < 0.03, times
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=30)
    assert err.count("Application startup complete") == 2, err

@pytest.mark.parametrize("serving_only", [False, True])
def test_the_gateway_builds_its_menus_before_the_first_caller(committed_db, monkeypatch, serving_only):
    """The first dial after a start does not wait while the menus are imported and built; a
    process that only serves also leaves what start-up made out of the collector's full passes."""
    import asyncio

    import ussd.callback
    import ussd.gateway

    settled = []
    monkeypatch.setattr(ussd.gateway, "_settle_heap", lambda: settled.append(True))
    monkeypatch.setattr(ussd.callback, "_machine", [])
    app = ussd.gateway.create_app(committed_db, load_settings({}))
    app.state.settle_heap = serving_only

    async def start_and_stop() -> None:
        async with ussd.gateway.lifespan(app):
            assert ussd.callback._machine, "no menu was built at start-up"
            assert settled == ([True] if serving_only else [])

    asyncio.run(start_and_stop())
