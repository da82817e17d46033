"""A fake M-Pesa Daraja API on loopback.

It speaks the real formats: ``GET /oauth/v1/generate?grant_type=client_credentials``
with basic auth gives ``{"access_token", "expires_in"}``; ``POST
/mpesa/stkpush/v1/processrequest`` and ``POST /mpesa/stkpushquery/v1/query``
take a bearer token and JSON, check every field a real push needs (the
``Password`` is base64 of short code + passkey + timestamp), and answer as
Daraja does, errors included (``{"requestId", "errorCode", "errorMessage"}``).
Every request is recorded (thread-safe) as it arrives, before any scripted
delay, so a test can tell what Daraja *received* even when the client gave up.

C2B: ``POST /mpesa/c2b/v2/registerurl`` records the URLs a short code
registered; :func:`c2b_payload` is a validation or confirmation body as
Daraja posts it. B2C: ``POST /mpesa/b2c/v3/paymentrequest`` (initiator and
security credential checked) queues a payment; :meth:`FakeDaraja.settle_b2c`
decides it and, with ``post``, posts the ``Result`` to its ResultURL
(:meth:`FakeDaraja.b2c_timeout` posts to its QueueTimeOutURL instead).
``POST /mpesa/transactionstatus/v1/query`` is recorded;
:meth:`FakeDaraja.answer_status` posts its answer to the query's ResultURL
from what the fake knows of the payment (never received: not found).

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
REGISTER_PATH = "/mpesa/c2b/v2/registerurl"
B2C_PATH = "/mpesa/b2c/v3/paymentrequest"
STATUS_PATH = "/mpesa/transactionstatus/v1/query"
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


def c2b_payload(trans_id: str, account: str, amount: int | str = 500, *, shortcode: str = "600984",
                msisdn: str = "2547 ***** 126", first_name: str = "JOHN",
                trans_time: str = "20261202101530") -> dict[str, Any]:
    """A C2B validation or confirmation, as Daraja posts it (v2 masks the payer's number)."""
    return {"TransactionType": "Pay Bill", "TransID": trans_id, "TransTime": trans_time,
            "TransAmount": f"{amount}.00" if isinstance(amount, int) else amount, "BusinessShortCode": shortcode,
            "BillRefNumber": account, "InvoiceNumber": "", "OrgAccountBalance": "", "ThirdPartyTransID": "",
            "MSISDN": msisdn, "FirstName": first_name, "MiddleName": "", "LastName": ""}


@dataclass
class B2C:
    """A B2C payment Daraja queued, and its outcome once the test decides it."""

    body: dict[str, Any]
    conversation_id: str
    result_code: int | None = None
    receipt: str | None = None


class FakeDaraja(LoopbackFake):
    thread_name = "fake-daraja"

    def __init__(self, *, consumer_key: str = "fake-consumer-key", consumer_secret: str = "fake-consumer-secret",
                 shortcode: str = "174379", passkey: str = "fake-passkey", token_lifetime: int = 3599,
                 initiator_name: str = "ofisi-api", security_credential: str = "fake-credential") -> None:
        super().__init__()
        self.consumer_key, self.consumer_secret = consumer_key, consumer_secret
        self.shortcode, self.passkey = shortcode, passkey
        self.token_lifetime = token_lifetime
        self.initiator_name, self.security_credential = initiator_name, security_credential
        self.registered: dict[str, dict[str, Any]] = {}  # short code -> the registerurl body
        self.b2c: dict[str, B2C] = {}  # OriginatorConversationID -> the payment
        self._lock = threading.Condition()
        self._received: list[Received] = []
        self._scripts: dict[str, deque[Script]] = {
            path: deque() for path in (TOKEN_PATH, PUSH_PATH, QUERY_PATH, REGISTER_PATH, B2C_PATH, STATUS_PATH)}
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
               "OFISI_MPESA_PASSKEY": self.passkey, "OFISI_PUBLIC_URL": public_url,
               "OFISI_MPESA_INITIATOR_NAME": self.initiator_name,
               "OFISI_MPESA_SECURITY_CREDENTIAL": self.security_credential}
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

    def settle_b2c(self, originator_id: str, result_code: int = 0, *, post: bool = True, url: str | None = None,
                   receipt: str | None = None) -> httpx.Response | None:
        """Decide a B2C payment (what a status query says from now on) and, with ``post``, post its
        Result to its ResultURL (or ``url``), as Safaricom does."""
        payment = self.b2c[originator_id]
        payment.result_code = result_code
        payment.receipt = (receipt or f"TL{payment.conversation_id[-8:].upper()}") if result_code == 0 else None
        if not post:
            return None
        return httpx.post(url or payment.body["ResultURL"], json=self.b2c_result_for(originator_id), timeout=10)

    def b2c_result_for(self, originator_id: str) -> dict[str, Any]:
        payment = self.b2c[originator_id]
        code = payment.result_code
        result: dict[str, Any] = {
            "ResultType": 0, "ResultCode": code, "ResultDesc": RESULT_DESCS.get(code, "The transaction failed."),
            "OriginatorConversationID": originator_id, "ConversationID": payment.conversation_id,
            "TransactionID": payment.receipt or "TL00000000",
            "ReferenceData": {"ReferenceItem": {"Key": "QueueTimeoutURL", "Value": payment.body["QueueTimeOutURL"]}},
        }
        if code == 0:
            result["ResultParameters"] = {"ResultParameter": [
                {"Key": "TransactionAmount", "Value": payment.body["Amount"]},
                {"Key": "TransactionReceipt", "Value": payment.receipt},
                {"Key": "B2CRecipientIsRegisteredCustomer", "Value": "Y"},
                {"Key": "ReceiverPartyPublicName", "Value": f"{payment.body['PartyB']} - JANE DOE"},
                {"Key": "TransactionCompletedDateTime", "Value": "02.12.2026 10:15:30"},
            ]}
        return {"Result": result}

    def b2c_timeout(self, originator_id: str, *, url: str | None = None) -> httpx.Response:
        """Daraja's queue timed out on a payment: post to its QueueTimeOutURL (or ``url``)."""
        payment = self.b2c[originator_id]
        body = {"Result": {"ResultType": 1, "ResultCode": "SVC0001", "ResultDesc": "The request timed out in the queue",
                           "OriginatorConversationID": originator_id, "ConversationID": payment.conversation_id}}
        return httpx.post(url or payment.body["QueueTimeOutURL"], json=body, timeout=10)

    def answer_status(self, query: Received, *, url: str | None = None) -> httpx.Response:
        """Post the answer to a Transaction Status query to its ResultURL (or ``url``): completed or
        failed as the payment was settled, not found when Daraja never received (or never decided) it."""
        original = str(query.body.get("OriginalConversationID"))
        payment = self.b2c.get(original)
        result: dict[str, Any] = {"ResultType": 0, "OriginatorConversationID": query.body["OriginatorConversationID"],
                                  "ConversationID": f"AG_status_{next(self._numbers)}"}
        if payment is None or payment.result_code is None:
            result |= {"ResultCode": 2032, "ResultDesc": "The transaction could not be found", "TransactionID": ""}
        else:
            state = "Completed" if payment.result_code == 0 else "Failed"
            result |= {"ResultCode": 0, "ResultDesc": "The service request is processed successfully.",
                       "TransactionID": payment.receipt or "",
                       "ResultParameters": {"ResultParameter": [
                           {"Key": "ReceiptNo", "Value": payment.receipt or ""},
                           {"Key": "TransactionStatus", "Value": state},
                           {"Key": "Amount", "Value": payment.body["Amount"]},
                           {"Key": "ReasonType", "Value": "Business Payment to Customer via API"}]}}
        return httpx.post(url or query.body["ResultURL"], json={"Result": result}, timeout=10)

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
        if received.path not in self._scripts:
            return 404, self._error("404.001.01", "Resource not found")
        if received.headers.get("authorization", "").removeprefix("Bearer ") not in self._tokens:
            return 401, self._error("404.001.03", "Invalid Access Token")
        if received.path == REGISTER_PATH:
            return self._register(received.body)
        if received.path in (B2C_PATH, STATUS_PATH):
            return self._b2c(received.body) if received.path == B2C_PATH else self._status(received.body)
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

    def _register(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        checks = [
            (re.fullmatch(r"\d{5,7}", str(body.get("ShortCode", ""))) is not None, "Invalid ShortCode"),
            (body.get("ResponseType") in ("Completed", "Cancelled"), "Invalid ResponseType"),
            (urlsplit(str(body.get("ConfirmationURL", ""))).scheme in ("http", "https"), "Invalid ConfirmationURL"),
            (urlsplit(str(body.get("ValidationURL", ""))).scheme in ("http", "https"), "Invalid ValidationURL"),
        ]
        for ok, problem in checks:
            if not ok:
                return self._refuse(problem)
        with self._lock:
            self.registered[str(body["ShortCode"])] = body
        return 200, {"OriginatorCoversationID": f"{next(self._numbers)}-fake",  # sic: Daraja's own spelling
                     "ResponseCode": "0", "ResponseDescription": "Success"}

    def _initiator_problem(self, body: dict[str, Any], name_key: str) -> str | None:
        if body.get(name_key) != self.initiator_name or body.get("SecurityCredential") != self.security_credential:
            return "The initiator information is invalid."
        return None

    def _b2c(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        amount = body.get("Amount")
        checks = [
            (self._initiator_problem(body, "InitiatorName") is None, "Invalid Initiator"),
            (body.get("CommandID") in ("BusinessPayment", "SalaryPayment", "PromotionPayment"), "Invalid CommandID"),
            (isinstance(amount, int) and amount >= 10, "Invalid Amount"),
            (KENYAN_MOBILE.match(str(body.get("PartyB", ""))) is not None, "Invalid PartyB"),
            (bool(body.get("OriginatorConversationID")), "Invalid OriginatorConversationID"),
            (urlsplit(str(body.get("ResultURL", ""))).scheme in ("http", "https"), "Invalid ResultURL"),
            (urlsplit(str(body.get("QueueTimeOutURL", ""))).scheme in ("http", "https"), "Invalid QueueTimeOutURL"),
        ]
        for ok, problem in checks:
            if not ok:
                return self._refuse(problem)
        originator = str(body["OriginatorConversationID"])
        with self._lock:
            if originator in self.b2c:
                return self._refuse("Duplicate OriginatorConversationID")
            payment = B2C(body, f"AG_20261202_{next(self._numbers):020d}")
            self.b2c[originator] = payment
        return 200, {"ConversationID": payment.conversation_id, "OriginatorConversationID": originator,
                     "ResponseCode": "0", "ResponseDescription": "Accept the service request successfully."}

    def _status(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self._initiator_problem(body, "Initiator") is not None:
            return self._refuse("Invalid Initiator")
        if body.get("CommandID") != "TransactionStatusQuery" or not (
                body.get("TransactionID") or body.get("OriginalConversationID")):
            return self._refuse("Invalid TransactionStatusQuery")
        return 200, {"ConversationID": f"AG_status_{next(self._numbers)}",
                     "OriginatorConversationID": body.get("OriginatorConversationID"),
                     "ResponseCode": "0", "ResponseDescription": "Accept the service request successfully."}

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
