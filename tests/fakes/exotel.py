"""A fake Exotel SMS API on loopback: ``POST /v1/Accounts/<sid>/Sms/send.json`` with HTTP Basic
auth and form fields, answering ``{"SMSMessage": {"Sid": …, "Status": "queued"}}`` or Exotel's
``RestException``. Like the real one (DLT rules), it refuses an SMS to India without
``DltEntityId`` or ``DltTemplateId``. :meth:`FakeExotel.report` then posts a delivery report to the
``StatusCallback`` the send named, as Exotel does once the SMS reaches a state, and
:meth:`FakeExotel.incoming` passes on an SMS a vendor sent to the ExoPhone, as Exotel's SMS app does."""

from __future__ import annotations

import base64
import threading
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

import httpx
import pytest

from tests.fakes import LoopbackFake, reply_json

ACCOUNT_SID = "ofisi1"
API_KEY, API_TOKEN = "fake-exotel-key", "fake-exotel-token"
SENDER_ID = "OFISIM"


class FakeExotel(LoopbackFake):
    thread_name = "fake-exotel"

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._received: list[dict[str, str]] = []

    def handler(self):
        return _Handler

    def settings_env(self) -> dict[str, str]:
        """The environment that points Ofisi's Exotel route here."""
        return {"OFISI_EXOTEL_BASE_URL": self.url, "OFISI_EXOTEL_ACCOUNT_SID": ACCOUNT_SID,
                "OFISI_EXOTEL_SENDER_ID": SENDER_ID, "OFISI_EXOTEL_API_KEY": API_KEY,
                "OFISI_EXOTEL_API_TOKEN": API_TOKEN}

    @property
    def messages(self) -> list[dict[str, str]]:
        with self._lock:
            return list(self._received)

    def report(self, sent: dict[str, str], status: str, detailed: str = "", code: str = "") -> httpx.Response:
        """Post Exotel's delivery report for a message it took to the StatusCallback it was sent with."""
        return httpx.post(sent["StatusCallback"], timeout=10, data={
            "SmsSid": sent["Sid"], "To": sent["To"], "Status": status, "DetailedStatus": detailed,
            "DetailedStatusCode": code, "SmsUnits": "1", "DateSent": "2026-12-06 09:30:00"})

    def incoming(self, url: str, sender: str, to: str, text: str, *, sid: str | None = None,
                 method: str = "GET") -> httpx.Response:
        """An SMS ``sender`` sent to the ExoPhone ``to``, passed on to ``url`` as Exotel's SMS app does:
        a HEAD, then a GET with SmsSid, From, To, Date (IST) and Body as query parameters; or, as the
        dashboard's Inbound SMS webhook set to POST does, a form. Returns the answer to the GET/POST."""
        from datetime import datetime, timedelta, timezone

        now = datetime.now(timezone(timedelta(hours=5, minutes=30)))
        fields = {"SmsSid": sid or uuid.uuid4().hex, "From": sender, "To": to,
                  "Date": now.strftime("%Y-%m-%d %H:%M:%S"), "Body": text}
        if method == "POST":
            return httpx.post(url, data=fields, timeout=10)
        called = httpx.URL(url).copy_merge_params(fields)  # Exotel adds its fields to the URL's own query
        head = httpx.head(called, timeout=10)
        if head.status_code != 200 or head.headers.get("content-type") != "text/plain":
            return head  # Exotel gives up on a URL that does not answer text/plain
        return httpx.get(called, timeout=10)

    def answer(self, path: str, authorization: str, fields: dict[str, str]) -> tuple[int, dict]:
        if path != f"/v1/Accounts/{ACCOUNT_SID}/Sms/send.json":
            return 404, {"RestException": {"Status": 404, "Message": "Not Found"}}
        if authorization != "Basic " + base64.b64encode(f"{API_KEY}:{API_TOKEN}".encode()).decode():
            return 401, {"RestException": {"Status": 401, "Message": "Authentication failed."}}
        if fields.get("To", "").startswith("+91") and not fields.get("DltEntityId"):
            return 400, {"RestException": {"Status": 400, "Message": "DltEntityId is mandatory"}}
        if fields.get("To", "").startswith("+91") and not fields.get("DltTemplateId"):
            return 400, {"RestException": {"Status": 400, "Message": "DltTemplateId is mandatory"}}
        sid = uuid.uuid4().hex
        with self._lock:
            self._received.append({**fields, "Sid": sid})
        return 200, {"SMSMessage": {"Sid": sid, "To": fields.get("To"), "Status": "queued",
                                    "DltTemplateId": fields.get("DltTemplateId")}}


class _Handler(BaseHTTPRequestHandler):
    owner: FakeExotel
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        fields = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        status, reply = self.owner.answer(self.path, self.headers.get("Authorization", ""), fields)
        reply_json(self, status, reply)

    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def fake_exotel():
    server = FakeExotel().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def india(fake_exotel, monkeypatch):
    """The settings with SMS to Indian numbers going through the fake Exotel."""
    from config.settings import get_settings

    for name, value in fake_exotel.settings_env().items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()
