"""A fake M-Pesa Daraja API on loopback.

It speaks the real formats: ``GET /oauth/v1/generate?grant_type=client_credentials``
with basic auth gives ``{"access_token", "expires_in"}``; ``POST
/mpesa/stkpush/v1/processrequest`` and ``POST /mpesa/stkpushquery/v1/query``
take a bearer token and JSON, check every field a real push needs (the
``Password`` is base64 of short code + passkey + timestamp), and answer as
Daraja does, errors included (``{"requestId", "errorCode", "errorMessage"}``).
Every request is recorded (thread-safe) as it arrives, before any scripted
delay, so a test can tell what Daraja *received* even when the client gave up.

A push stays "being processed" (STK query answers HTTP 500, errorCode
``500.001.1001``) until the test completes it with :meth:`FakeDaraja.complete`,
which can also post Daraja's callback to the push's ``CallBackURL``, in
Safaricom's ``Body.stkCallback`` format. :meth:`FakeDaraja.next_calls`
scripts the next calls to an endpoint: an HTTP status, a delay, a hang until
:meth:`FakeDaraja.release` (bounded), or a dropped connection.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.fakes import LoopbackFake

TOKEN_PATH = "/oauth/v1/generate"
PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
QUERY_PATH = "/mpesa/stkpushquery/v1/query"
HANG_LIMIT_S = 30.0  # a hung reply gives up by itself, so no test can wait forever
RESULT_DESCS = {
    0: "The service request is processed successfully.",
    1: "The balance is insufficient for the transaction.",
    1032: "Request cancelled by user",
    1037: "DS timeout user cannot be reached",
    2001: "The initiator information is invalid.",
}
KENYAN_MOBILE = re.compile(r"^254(7|1)\d{8}$")


@dataclass(frozen=True)
class Script:
    """How to answer one call: an HTTP status (with a Daraja error body), a delay,
    a hang until release(), or a connection closed without an answer."""

    http_status: int | None = None
    error_code: str | None = None
    delay: float = 0.0
    hang: bool = False
    drop: bool = False


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


@dataclass
class Push:
    """A push Daraja accepted, and its result once the test decides it."""

    body: dict[str, Any]
    merchant_request_id: str
    checkout_request_id: str
    result_code: int | None = None
    result_desc: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def callback_payload(merchant_request_id: str, checkout_request_id: str, result_code: int = 0, *,
                     amount: float | int | None = None, receipt: str | None = None, phone: int | None = None,
                     transaction_date: int = 20261121103000, desc: str | None = None) -> dict[str, Any]:
    """Daraja's STK callback, as Safaricom posts it."""
    callback: dict[str, Any] = {
        "MerchantRequestID": merchant_request_id,
        "CheckoutRequestID": checkout_request_id,
        "ResultCode": result_code,
        "ResultDesc": desc or RESULT_DESCS.get(result_code, "The transaction failed."),
    }
    if result_code == 0:
        callback["CallbackMetadata"] = {"Item": [
            {"Name": "Amount", "Value": amount},
            {"Name": "MpesaReceiptNumber", "Value": receipt},
            {"Name": "Balance"},
            {"Name": "TransactionDate", "Value": transaction_date},
            {"Name": "PhoneNumber", "Value": phone},
        ]}
    return {"Body": {"stkCallback": callback}}


class FakeDaraja(LoopbackFake):
    thread_name = "fake-daraja"

    def __init__(self, *, consumer_key: str = "fake-consumer-key", consumer_secret: str = "fake-consumer-secret",
                 shortcode: str = "174379", passkey: str = "fake-passkey", token_lifetime: int = 3599) -> None:
        super().__init__()
        self.consumer_key, self.consumer_secret = consumer_key, consumer_secret
        self.shortcode, self.passkey = shortcode, passkey
        self.token_lifetime = token_lifetime
        self._lock = threading.Condition()
        self._received: list[Received] = []
        self._scripts: dict[str, deque[Script]] = {TOKEN_PATH: deque(), PUSH_PATH: deque(), QUERY_PATH: deque()}
        self._tokens: set[str] = set()
        self._numbers = itertools.count(1)
        self.pushes: dict[str, Push] = {}
        self.refusals: list[str] = []  # why requests were refused, for assertions

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def env(self, public_url: str = "http://127.0.0.1:9", callback_token: str | None = "cb-token") -> dict[str, str]:
        """Settings (as environment variables) of an installation that uses this fake."""
        env = {"OFISI_MPESA_BASE_URL": self.url, "OFISI_MPESA_SHORTCODE": self.shortcode,
               "OFISI_MPESA_CONSUMER_KEY": self.consumer_key, "OFISI_MPESA_CONSUMER_SECRET": self.consumer_secret,
               "OFISI_MPESA_PASSKEY": self.passkey, "OFISI_PUBLIC_URL": public_url}
        if callback_token:
            env["OFISI_CALLBACK_TOKEN"] = callback_token
        return env

    def client(self, callback_url: str = "http://127.0.0.1:9/mpesa/stk/callback", **kwargs):
        """The real Daraja client, pointed at this fake."""
        from core.providers.mpesa import DarajaClient

        return DarajaClient(base_url=self.url, consumer_key=kwargs.pop("consumer_key", self.consumer_key),
                            consumer_secret=self.consumer_secret, shortcode=self.shortcode,
                            passkey=kwargs.pop("passkey", self.passkey), callback_url=callback_url, **kwargs)

    # ------------------------------------------------------------ scripting and results

    def next_calls(self, path: str, *scripts: Script) -> None:
        """Answer the next calls to ``path`` (TOKEN_PATH, PUSH_PATH, QUERY_PATH) with these scripts."""
        with self._lock:
            self._scripts[path].extend(scripts)

    def revoke_tokens(self) -> None:
        """Every token issued so far stops working (Daraja answers 401), as when one expires early."""
        with self._lock:
            self._tokens.clear()

    def complete(self, checkout_request_id: str, result_code: int = 0, *, amount: float | int | None = None,
                 receipt: str | None = None, post: bool = True, url: str | None = None) -> httpx.Response | None:
        """Decide a push's result (what STK query says from now on) and, with ``post``, call its
        CallBackURL (or ``url``) back as Safaricom does."""
        push = self.pushes[checkout_request_id]
        push.result_code, push.result_desc = result_code, RESULT_DESCS.get(result_code, "The transaction failed.")
        if not post:
            return None
        payload = self.callback_for(checkout_request_id, result_code, amount=amount, receipt=receipt)
        return httpx.post(url or push.body["CallBackURL"], json=payload, timeout=10)

    def callback_for(self, checkout_request_id: str, result_code: int = 0, *, amount: float | int | None = None,
                     receipt: str | None = None) -> dict[str, Any]:
        push = self.pushes[checkout_request_id]
        return callback_payload(push.merchant_request_id, checkout_request_id, result_code,
                                amount=push.body["Amount"] if amount is None else amount,
                                receipt=receipt or f"SK{checkout_request_id[-8:].upper()}",
                                phone=int(push.body["PhoneNumber"]))

    # ------------------------------------------------------------ inspection

    @property
    def requests(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def received(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    def password_for(self, timestamp: str) -> str:
        return base64.b64encode(f"{self.shortcode}{self.passkey}{timestamp}".encode()).decode()

    # ------------------------------------------------------------ the API

    def answer(self, received: Received) -> tuple[int, dict[str, Any]] | None:
        """Record one request and work out (HTTP status, JSON body); None drops the connection."""
        with self._lock:
            self._received.append(received)
            self._lock.notify_all()
            queue = self._scripts.get(received.path)
            script = queue.popleft() if queue else None
        if script and script.hang:
            self._release.wait(HANG_LIMIT_S)
        elif script and script.delay:
            time.sleep(script.delay)
        if script and script.drop:
            return None
        if script and script.http_status:
            return script.http_status, self._error(script.error_code or f"{script.http_status}.000.00",
                                                   "Scripted failure")
        if received.path == TOKEN_PATH:
            return self._token(received)
        if received.path not in (PUSH_PATH, QUERY_PATH):
            return 404, self._error("404.001.01", "Resource not found")
        if received.headers.get("authorization", "").removeprefix("Bearer ") not in self._tokens:
            return 401, self._error("404.001.03", "Invalid Access Token")
        problem = self._check_password(received.body)
        if problem:
            return self._refuse(problem)
        return self._push(received.body) if received.path == PUSH_PATH else self._query(received.body)

    def _token(self, received: Received) -> tuple[int, dict[str, Any]]:
        expected = base64.b64encode(f"{self.consumer_key}:{self.consumer_secret}".encode()).decode()
        if received.query != "grant_type=client_credentials" or \
                received.headers.get("authorization") != f"Basic {expected}":
            return 400, self._error("400.008.01", "Invalid Authentication passed")
        token = f"fake-token-{next(self._numbers)}"
        with self._lock:
            self._tokens.add(token)
        return 200, {"access_token": token, "expires_in": str(self.token_lifetime)}

    def _check_password(self, body: dict[str, Any]) -> str | None:
        timestamp = str(body.get("Timestamp", ""))
        if str(body.get("BusinessShortCode")) != self.shortcode:
            return "Invalid BusinessShortCode"
        if not re.fullmatch(r"\d{14}", timestamp):
            return "Invalid Timestamp"
        if body.get("Password") != self.password_for(timestamp):
            return "Wrong credentials"
        return None

    def _push(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        amount = body.get("Amount")
        checks = [
            (body.get("TransactionType") == "CustomerPayBillOnline", "Invalid TransactionType"),
            (isinstance(amount, int) and amount >= 1, "Invalid Amount"),
            (KENYAN_MOBILE.match(str(body.get("PartyA", ""))) is not None, "Invalid PartyA"),
            (str(body.get("PhoneNumber")) == str(body.get("PartyA")), "Invalid PhoneNumber"),
            (str(body.get("PartyB")) == self.shortcode, "Invalid PartyB"),
            (urlsplit(str(body.get("CallBackURL", ""))).scheme in ("http", "https"), "Invalid CallBackURL"),
            (0 < len(str(body.get("AccountReference", ""))) <= 12, "Invalid AccountReference"),
            (0 < len(str(body.get("TransactionDesc", ""))) <= 13, "Invalid TransactionDesc"),
        ]
        for ok, problem in checks:
            if not ok:
                return self._refuse(problem)
        number = next(self._numbers)
        push = Push(body, f"{29000 + number}-{34620000 + number}-1", f"ws_CO_2111202610{number:012d}")
        with self._lock:
            self.pushes[push.checkout_request_id] = push
        message = "Success. Request accepted for processing"
        return 200, {"MerchantRequestID": push.merchant_request_id, "CheckoutRequestID": push.checkout_request_id,
                     "ResponseCode": "0", "ResponseDescription": message, "CustomerMessage": message}

    def _query(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        push = self.pushes.get(str(body.get("CheckoutRequestID")))
        if push is None:
            return self._refuse("Invalid CheckoutRequestID")
        if push.result_code is None:
            return 500, self._error("500.001.1001", "The transaction is being processed")
        accepted = "The service request has been accepted successsfully"  # sic: Daraja's own spelling
        return 200, {"ResponseCode": "0", "ResponseDescription": accepted,
                     "MerchantRequestID": push.merchant_request_id, "CheckoutRequestID": push.checkout_request_id,
                     "ResultCode": str(push.result_code), "ResultDesc": push.result_desc}

    def _refuse(self, problem: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.refusals.append(problem)
        return 400, self._error("400.002.02", f"Bad Request - {problem}")

    def _error(self, code: str, message: str) -> dict[str, Any]:
        return {"requestId": f"{next(self._numbers)}-fake", "errorCode": code, "errorMessage": message}


class _Handler(BaseHTTPRequestHandler):
    owner: FakeDaraja
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes; do not let them wait on each other

    def do_GET(self) -> None:
        self._serve({})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"unreadable": raw.decode("utf-8", "replace")}
        self._serve(body if isinstance(body, dict) else {"unreadable": body})

    def _serve(self, body: dict[str, Any]) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        path, _, query = self.path.partition("?")
        received = Received(self.command, path, query, headers, body, time.monotonic())
        answer = self.owner.answer(received)
        if answer is None:
            self.close_connection = True
            self.connection.close()
            return
        status, data = answer
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def fake_daraja():
    """A running fake Daraja; stopped (and any hung reply released) after the test."""
    server = FakeDaraja().start()
    try:
        yield server
    finally:
        server.stop()
