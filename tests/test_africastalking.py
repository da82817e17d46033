"""Africa's Talking SMS through the real SDK, against a fake API on loopback.

Each test drives ``core.outbox.send_due`` with ``AfricasTalkingSMS`` pointed at
the fake, then checks both sides: the rows, and what the fake received.
"""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from sqlalchemy import select

from config.settings import load_settings
from core import outbox
from core.outbox import RetryPolicy
from core.providers import (
    AmbiguousSendError,
    OutgoingMessage,
    PermanentSendError,
    ProviderUnavailable,
    TransientSendError,
    build_providers,
)
from core.providers.log import LogProvider
from db.models import Message
from tests.fakes import Clock, phone
from tests.fakes.africastalking import STATUS_NAMES, Script, fake_at  # noqa: F401  (fixture)

POLICY = RetryPolicy(max_attempts=3, base_seconds=60, max_seconds=3600)


@pytest.fixture
def org_id(committed_db, make_org) -> int:
    with committed_db.session() as s:
        return make_org(s, "salon").id


def queue(db, org_id: int, count: int = 1, first: int = 0) -> list[int]:
    with db.session() as s:
        ids = [outbox.enqueue(s, org_id, purpose="transactional", to=phone(first + i),
                              body=f"Habari {first + i}") for i in range(count)]
        s.commit()
    return ids


def row(db, message_id: int) -> Message:
    with db.session() as s:
        return s.get(Message, message_id)


def send(db, provider, clock=None, **kw):
    kw.setdefault("policy", POLICY)
    if clock is not None:
        kw["clock"] = clock
    return outbox.send_due(db, {"sms": provider}, **kw)


# ---------------------------------------------------------------- success


def test_sent_message_keeps_the_provider_id_and_the_request_is_right(committed_db, org_id, fake_at):
    [message_id] = queue(committed_db, org_id)
    summary = send(committed_db, fake_at.provider(sender_id="OFISI"))
    assert (summary.sent, summary.stopped) == (1, None)
    [request] = fake_at.requests
    assert request.path == "/version1/messaging"
    assert request.form == {"username": "sandbox", "to": phone(0), "message": "Habari 0", "from": "OFISI",
                            "bulkSMSMode": "1"}
    assert request.api_key == "fake-at-key"
    assert request.headers["accept"] == "application/json"
    m = row(committed_db, message_id)
    assert (m.status, m.attempts, m.provider, m.last_error) == ("sent", 1, "africastalking", None)
    assert m.provider_message_id.startswith("ATXid_")


@pytest.mark.parametrize("code", [100, 101, 102], ids=lambda c: STATUS_NAMES[c])
def test_processed_sent_and_queued_all_count_as_sent(committed_db, org_id, fake_at, code):
    [message_id] = queue(committed_db, org_id)
    fake_at.on_number(phone(0), status_code=code)
    assert send(committed_db, fake_at.provider()).sent == 1
    assert row(committed_db, message_id).status == "sent"


def test_each_message_is_its_own_request_and_the_summary_counts_them(committed_db, org_id, fake_at):
    ids = queue(committed_db, org_id, 5)
    fake_at.on_number(phone(1), status_code=403)
    fake_at.on_number(phone(2), status_code=502)
    fake_at.on_number(phone(3), status_code=406)
    summary = send(committed_db, fake_at.provider(), batch_size=2)
    assert (summary.sent, summary.failed, summary.retried, summary.unknown) == (2, 2, 1, 0)
    assert [r.to for r in fake_at.requests] == [[phone(i)] for i in range(5)]
    assert [row(committed_db, i).status for i in ids] == ["sent", "failed", "queued", "failed", "sent"]


# ---------------------------------------------------------------- permanent failures


@pytest.mark.parametrize("code", [401, 402, 403, 404, 405, 406, 407, 409], ids=lambda c: f"{c}-{STATUS_NAMES[c]}")
def test_permanent_status_codes_fail_once_and_are_never_retried(committed_db, org_id, fake_at, code):
    [message_id] = queue(committed_db, org_id)
    fake_at.on_number(phone(0), status_code=code)
    clock = Clock()
    summary = send(committed_db, fake_at.provider(), clock)
    assert summary.failed == 1
    m = row(committed_db, message_id)
    assert (m.status, m.attempts) == ("failed", 1)
    assert m.last_error == f"Africa's Talking {code} {STATUS_NAMES[code]}"
    # Later runs, long after any backoff, leave it alone.
    for _ in range(2):
        send(committed_db, fake_at.provider(), clock.advance(days=1))
    assert len(fake_at.requests) == 1
    assert row(committed_db, message_id).status == "failed"


def test_insufficient_balance_fails_that_message_and_stops_the_run(committed_db, org_id, fake_at):
    """405 would fail every message after it the same way: the run stops instead of burning the queue."""
    ids = queue(committed_db, org_id, 4)
    fake_at.on_number(phone(1), status_code=405)
    summary = send(committed_db, fake_at.provider(), batch_size=10)
    assert summary.stopped and "InsufficientBalance" in summary.stopped
    assert (summary.sent, summary.failed, summary.released) == (1, 1, 2)
    assert [row(committed_db, i).status for i in ids] == ["sent", "failed", "queued", "queued"]
    assert all(row(committed_db, i).attempts == 0 for i in ids[2:])
    assert len(fake_at.requests) == 2


def test_http_400_is_permanent(committed_db, org_id, fake_at):
    [message_id] = queue(committed_db, org_id)
    fake_at.next_calls(Script(http_status=400))
    assert send(committed_db, fake_at.provider()).failed == 1
    assert row(committed_db, message_id).last_error.startswith("Africa's Talking HTTP 400")


# ---------------------------------------------------------------- transient failures


@pytest.mark.parametrize(
    "script",
    [Script(status_code=500), Script(status_code=501), Script(status_code=502),
     Script(http_status=500), Script(http_status=502), Script(http_status=503)],
    ids=["code-500", "code-501", "code-502", "http-500", "http-502", "http-503"],
)
def test_transient_errors_requeue_with_backoff_and_jitter(committed_db, org_id, fake_at, script):
    [message_id] = queue(committed_db, org_id)
    fake_at.on_number(phone(0), script)
    clock = Clock()
    summary = send(committed_db, fake_at.provider(), clock)
    assert summary.retried == 1
    m = row(committed_db, message_id)
    assert (m.status, m.attempts, m.claimed_by) == ("queued", 1, None)
    assert m.last_error
    base = timedelta(seconds=POLICY.base_seconds)
    assert clock.now + base * 0.5 <= m.next_attempt_at <= clock.now + base
    # Not due yet: nothing is resent before the backoff is over.
    send(committed_db, fake_at.provider(), clock.advance(seconds=POLICY.base_seconds * 0.5 - 1))
    assert len(fake_at.requests) == 1


def test_transient_errors_back_off_then_dead_letter(committed_db, org_id, fake_at):
    [message_id] = queue(committed_db, org_id)
    fake_at.on_number(phone(0), status_code=502)
    clock = Clock()
    for attempt in range(1, POLICY.max_attempts):
        assert send(committed_db, fake_at.provider(), clock).retried == 1
        m = row(committed_db, message_id)
        ceiling = timedelta(seconds=POLICY.base_seconds * 2 ** (attempt - 1))
        assert (m.status, m.attempts) == ("queued", attempt)
        assert clock.now + ceiling * 0.5 <= m.next_attempt_at <= clock.now + ceiling
        clock.now = m.next_attempt_at
    summary = send(committed_db, fake_at.provider(), clock)
    assert summary.dead == 1
    m = row(committed_db, message_id)
    assert (m.status, m.attempts) == ("dead", POLICY.max_attempts)
    assert m.last_error.startswith(f"gave up after {POLICY.max_attempts} attempts")
    send(committed_db, fake_at.provider(), clock.advance(days=30))
    assert len(fake_at.requests) == POLICY.max_attempts


def test_transient_then_success(committed_db, org_id, fake_at):
    [message_id] = queue(committed_db, org_id)
    fake_at.next_calls(Script(http_status=503))
    clock = Clock()
    send(committed_db, fake_at.provider(), clock)
    assert send(committed_db, fake_at.provider(), clock.advance(hours=1)).sent == 1
    m = row(committed_db, message_id)
    assert (m.status, m.attempts, m.last_error) == ("sent", 2, None)
    assert len(fake_at.requests) == 2


def test_connection_refused_is_transient(committed_db, org_id):
    with socket.socket() as s:  # a port that was free a moment ago and has nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    from core.providers.africastalking import AfricasTalkingSMS

    provider = AfricasTalkingSMS("sandbox", "k", base_url=f"http://127.0.0.1:{port}", timeout=(1.0, 1.0))
    [message_id] = queue(committed_db, org_id)
    clock = Clock()
    assert send(committed_db, provider, clock).retried == 1
    m = row(committed_db, message_id)
    assert (m.status, m.attempts) == ("queued", 1)
    assert "cannot reach Africa's Talking" in m.last_error
    assert clock.now + timedelta(seconds=30) <= m.next_attempt_at <= clock.now + timedelta(seconds=60)


# ---------------------------------------------------------------- stop, don't guess


def test_bad_api_key_stops_the_run_and_gives_everything_back(committed_db, org_id, fake_at):
    ids = queue(committed_db, org_id, 3)
    summary = send(committed_db, fake_at.provider(api_key="not-the-key"), batch_size=10)
    assert summary.stopped and "refused the credentials (HTTP 401)" in summary.stopped
    assert "not-the-key" not in summary.stopped
    assert summary.sent == summary.retried == summary.failed == 0
    for message_id in ids:
        m = row(committed_db, message_id)
        assert (m.status, m.attempts, m.claimed_by) == ("queued", 0, None)
    assert len(fake_at.requests) == 1
    # With the right key, everything goes, once.
    assert send(committed_db, fake_at.provider()).sent == 3
    assert sorted(r.to[0] for r in fake_at.requests[1:]) == [phone(i) for i in range(3)]


@pytest.mark.parametrize("base", ["127.0.0.1:9", "{url}/not-the-api"], ids=["no-scheme", "http-404"])
def test_a_wrong_base_url_stops_the_run_instead_of_failing_every_message(committed_db, org_id, fake_at, base):
    ids = queue(committed_db, org_id, 3)
    summary = send(committed_db, fake_at.provider(base_url=base.format(url=fake_at.url)))
    assert summary.stopped and "OFISI_AT_BASE_URL" in summary.stopped
    assert summary.failed == 0
    assert [(row(committed_db, i).status, row(committed_db, i).attempts) for i in ids] == [("queued", 0)] * 3


def test_read_timeout_is_unknown_and_never_resent(committed_db, org_id, fake_at):
    ids = queue(committed_db, org_id, 2)
    fake_at.on_number(phone(0), delay=2.0)
    clock = Clock()
    summary = send(committed_db, fake_at.provider(timeout=(2.0, 0.5)), clock)
    assert (summary.unknown, summary.sent) == (1, 1)
    m = row(committed_db, ids[0])
    assert (m.status, m.attempts) == ("unknown", 1)
    assert "may have gone" in m.last_error
    send(committed_db, fake_at.provider(), clock.advance(days=1))
    assert len(fake_at.received_for(phone(0))) == 1
    assert row(committed_db, ids[0]).status == "unknown"


@pytest.mark.parametrize(
    "script", [Script(raw_body="<html>gateway says hi</html>"), Script(status_code=999)],
    ids=["unreadable-reply", "unheard-of-status-code"],
)
def test_a_reply_we_cannot_read_is_unknown(committed_db, org_id, fake_at, script):
    """A 2xx we do not understand may still mean sent: never resend it blindly."""
    [message_id] = queue(committed_db, org_id)
    fake_at.on_number(phone(0), script)
    assert send(committed_db, fake_at.provider()).unknown == 1
    assert row(committed_db, message_id).status == "unknown"


# ---------------------------------------------------------------- the provider alone


def _message(to: str = "+254712345678") -> OutgoingMessage:
    return OutgoingMessage(1, 1, "sms", to, None, "Jambo")


@pytest.mark.parametrize(
    ("script", "error"),
    [
        (Script(status_code=403), PermanentSendError),
        (Script(status_code=502), TransientSendError),
        (Script(http_status=503), TransientSendError),
        (Script(http_status=403), ProviderUnavailable),
        (Script(raw_body="{}"), AmbiguousSendError),
        (Script(raw_body='{"SMSMessageData": {"Message": "InvalidSenderId", "Recipients": []}}'),
         PermanentSendError),
        (Script(raw_body='{"SMSMessageData": {"Recipients": [{"number": "+254712345678"}]}}'),
         AmbiguousSendError),
    ],
    ids=["403", "502", "http-503", "http-403", "empty-json", "no-recipients", "no-status-code"],
)
def test_provider_classifies_replies(fake_at, script, error):
    fake_at.next_calls(script)
    with pytest.raises(error):
        fake_at.provider().send(_message())


def test_the_price_of_each_recipient_comes_back_in_minor_units(fake_at):
    fake_at.on_number("+254712345679", cost="UGX 25.0000")
    provider = fake_at.provider()
    one = provider.send(_message())
    assert (one.cost_minor, one.cost_currency) == (80, "KES")
    many = provider.send_many([OutgoingMessage(i, 1, "sms", to, None, "x" * 200)
                               for i, to in enumerate(["+254712345678", "+254712345679"], 1)])
    assert [(r.cost_minor, r.cost_currency) for r in many] == [(160, "KES"), (25, "UGX")]  # two segments
    fake_at.next_calls(Script(raw_body='{"SMSMessageData": {"Recipients": [{"number": "+254712345678", '
                                       '"statusCode": 101, "messageId": "ATXid_1", "cost": "0"}]}}'))
    assert provider.send(_message()).cost_minor is None  # no price named, none kept


def test_provider_refuses_a_number_the_sdk_cannot_send_to_without_a_request(fake_at):
    with pytest.raises(PermanentSendError, match="Invalid phone number"):
        fake_at.provider().send(_message("0712345678"))
    assert fake_at.requests == []


def test_build_providers_from_settings(fake_at):
    settings = load_settings({"OFISI_SMS_PROVIDER": "africastalking", "OFISI_AT_USERNAME": "sandbox",
                              "OFISI_AT_API_KEY": fake_at.api_key, "OFISI_AT_BASE_URL": fake_at.url})
    providers = build_providers(settings)
    assert providers["sms"].name == "africastalking"
    assert providers["sms"].send(_message()).provider_message_id.startswith("ATXid_")
    assert isinstance(build_providers(load_settings({}))["sms"], LogProvider)


def test_the_sending_session_keeps_the_environments_proxy_and_ca_bundle(monkeypatch, tmp_path):
    """Read once when a sending thread's session is made (not per SMS), and still honoured."""
    from core.providers.africastalking import _session_for

    bundle = tmp_path / "ca.pem"
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    http = _session_for("https://api.africastalking.com/version1/messaging")
    assert http.proxies["https"] == "http://proxy.example:3128" and http.verify == str(bundle)
    assert not http.trust_env  # no ~/.netrc login and no environment read on every request
    monkeypatch.setenv("NO_PROXY", "africastalking.com")
    assert "https" not in _session_for("https://api.africastalking.com/version1/messaging").proxies
