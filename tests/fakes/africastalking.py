"""A fake Africa's Talking messaging API on loopback.

It speaks the real format: ``POST /version1/messaging`` with form fields
``username``, ``to`` (comma-separated), ``message``, ``from``,
``bulkSMSMode`` and the ``apiKey`` header; a wrong key gets HTTP 401 with a
text body, a good request gets HTTP 201 with ``SMSMessageData`` JSON and one
entry per recipient. Every request is recorded (thread-safe) when it
arrives, before any scripted delay, so a test can tell what the provider
*received* even when the client gave up waiting.

Scripting, per recipient number (:meth:`FakeAfricasTalking.on_number`) or per
call in arrival order (:meth:`FakeAfricasTalking.next_calls`), with a
:class:`Script`: force a per-recipient ``statusCode``, force an HTTP status,
delay the reply, or hang until :meth:`FakeAfricasTalking.release` (bounded).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

import pytest

from tests.fakes import LoopbackFake

# What the messaging API says for each per-recipient status code.
STATUS_NAMES = {
    100: "Processed",
    101: "Success",
    102: "Queued",
    401: "RiskHold",
    402: "InvalidSenderId",
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    405: "InsufficientBalance",
    406: "UserInBlacklist",
    407: "CouldNotRoute",
    409: "DoNotDisturbRejection",
    500: "InternalServerError",
    501: "GatewayError",
    502: "RejectedByGateway",
}
SENT = {100, 101, 102}
HTTP_TEXT = {
    400: "Request is missing required form field 'to'",
    401: "The supplied authentication is invalid",
    403: "Request is forbidden",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
HANG_LIMIT_S = 30.0  # a hung reply gives up by itself, so no test can wait forever


@dataclass(frozen=True)
class Script:
    """How to answer a call. ``times=None`` applies to every matching call."""

    status_code: int | None = None  # per-recipient statusCode (e.g. 403, 405, 502)
    http_status: int | None = None  # answer the whole call with this HTTP status and a text body
    delay: float = 0.0  # seconds to wait before answering
    hang: bool = False  # wait for release() (at most HANG_LIMIT_S) before answering
    raw_body: str | None = None  # answer 201 with this body instead of the JSON
    retry_after: str | None = None  # with http_status (429): the Retry-After header to send
    cost: str | None = None  # the per-recipient "cost" of a sent message (default: the price by segments)
    times: int | None = None


@dataclass(frozen=True)
class Received:
    """One request as the fake saw it."""

    path: str
    headers: dict[str, str]
    form: dict[str, str]
    at: float
    reply_headers: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def to(self) -> list[str]:
        return [n for n in self.form.get("to", "").split(",") if n]

    @property
    def message(self) -> str:
        return self.form.get("message", "")

    @property
    def username(self) -> str:
        return self.form.get("username", "")

    @property
    def api_key(self) -> str | None:
        return self.headers.get("apikey")


@dataclass
class _Rule:
    script: Script
    left: int | None = None


class FakeAfricasTalking(LoopbackFake):
    thread_name = "fake-africastalking"

    def __init__(self, username: str = "sandbox", api_key: str = "fake-at-key") -> None:
        super().__init__()
        self.username = username
        self.api_key = api_key
        self.delay = 0.0  # default delay for every call
        self.currency, self.price = "KES", 0.8  # the price of one SMS segment
        self._lock = threading.Condition()
        self._received: list[Received] = []
        self._calls: deque[Script] = deque()
        self._numbers: dict[str, _Rule] = {}

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def provider(self, **kwargs):
        """The real provider, pointed at this fake."""
        from core.providers.africastalking import AfricasTalkingSMS

        kwargs.setdefault("base_url", self.url)
        return AfricasTalkingSMS(kwargs.pop("username", self.username), kwargs.pop("api_key", self.api_key), **kwargs)

    # ------------------------------------------------------------ scripting

    def on_number(self, number: str, script: Script | None = None, **kw) -> None:
        """Answer every call to ``number`` (or the next ``times`` of them) as scripted."""
        script = script or Script(**kw)
        with self._lock:
            self._numbers[number] = _Rule(script, script.times)

    def next_calls(self, *scripts: Script) -> None:
        """Answer the next calls, in order of arrival, with these scripts."""
        with self._lock:
            self._calls.extend(scripts)

    # ------------------------------------------------------------ inspection

    @property
    def requests(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def received_for(self, number: str) -> list[Received]:
        return [r for r in self.requests if number in r.to]

    # ------------------------------------------------------------ the API

    def answer(self, received: Received) -> tuple[int, str, bytes]:
        """Record one request and work out its (HTTP status, content type, body)."""
        with self._lock:
            self._received.append(received)
            self._lock.notify_all()
        if received.path.split("?")[0] != "/version1/messaging":
            return 404, "text/plain", b"Not Found"
        if received.api_key != self.api_key or received.username != self.username:
            return 401, "text/plain", HTTP_TEXT[401].encode()
        if not received.to or not received.message:
            return 400, "text/plain", HTTP_TEXT[400].encode()
        call, per_number = self._scripts_for(received)
        scripts = ([call] if call else []) + list(per_number.values())
        if any(s.hang for s in scripts):
            self._release.wait(HANG_LIMIT_S)
        else:
            wait = max([self.delay] + [s.delay for s in scripts])
            if wait:
                time.sleep(wait)
        for script in scripts:
            if script.http_status:
                if script.retry_after is not None:
                    received.reply_headers["Retry-After"] = script.retry_after
                return script.http_status, "text/plain", HTTP_TEXT.get(script.http_status, "Error").encode()
            if script.raw_body is not None:
                return 201, "text/plain", script.raw_body.encode()
        recipients = []
        for number in received.to:
            script = per_number.get(number) or call
            code = script.status_code if script and script.status_code else 101
            sent = code in SENT
            recipients.append({
                "statusCode": code,
                "number": number,
                "status": STATUS_NAMES.get(code, "Unknown"),
                "cost": (script and script.cost or self.cost_of(received.message)) if sent else "0",
                "messageId": f"ATXid_{uuid.uuid4().hex}" if sent else "None",
            })
        ok = sum(1 for r in recipients if r["statusCode"] in SENT)
        total = sum(float(r["cost"].split()[1]) for r in recipients if r["statusCode"] in SENT)
        body = {"SMSMessageData": {
            "Message": f"Sent to {ok}/{len(recipients)} Total Cost: KES {total:.4f}",
            "Recipients": recipients,
        }}
        return 201, "application/json", json.dumps(body).encode()

    def cost_of(self, text: str) -> str:
        """What the real API charges a recipient: ``price`` per segment (160 GSM-7 characters
        alone, 153 each when concatenated; 70 and 67 for Unicode)."""
        gsm = all(ord(ch) < 128 for ch in text)
        single, part = (160, 153) if gsm else (70, 67)
        segments = 1 if len(text) <= single else -(-len(text) // part)
        return f"{self.currency} {self.price * segments:.4f}"

    def _scripts_for(self, received: Received) -> tuple[Script | None, dict[str, Script]]:
        with self._lock:
            call = self._calls.popleft() if self._calls else None
            per_number: dict[str, Script] = {}
            for number in received.to:
                rule = self._numbers.get(number)
                if rule is None:
                    continue
                per_number[number] = rule.script
                if rule.left is not None:
                    rule.left -= 1
                    if rule.left <= 0:
                        del self._numbers[number]
            return call, per_number


class _Handler(BaseHTTPRequestHandler):
    owner: FakeAfricasTalking
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        received = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, form, time.monotonic())
        status, content_type, body = self.owner.answer(received)
        self.send_response(status)
        for name, value in received.reply_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def fake_at():
    """A running fake Africa's Talking; stopped (and any hung reply released) after the test."""
    server = FakeAfricasTalking().start()
    try:
        yield server
    finally:
        server.stop()
