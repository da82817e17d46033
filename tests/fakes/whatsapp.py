"""A fake WhatsApp Cloud API on loopback: ``POST /<phone-number-id>/messages`` with a
Bearer token and the Cloud API's JSON, answering ``{"messages": [{"id": "wamid…"}]}``
or the API's error format. Scripting per recipient (:meth:`FakeWhatsApp.on_number`):
an HTTP status with an error code, and a Retry-After header."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

import pytest

from tests.fakes import LoopbackFake, reply_json

PHONE_NUMBER_ID = "1055500000"
TOKEN = "fake-whatsapp-token"


@dataclass(frozen=True)
class Answer:
    http_status: int
    code: int | None = None
    retry_after: str | None = None
    times: int | None = None


@dataclass(frozen=True)
class Received:
    path: str
    authorization: str
    body: dict
    at: float


class FakeWhatsApp(LoopbackFake):
    thread_name = "fake-whatsapp"

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._numbers: dict[str, list] = {}

    def handler(self):
        return _Handler

    def provider(self):
        from core.providers.whatsapp import WhatsAppCloud

        return WhatsAppCloud(TOKEN, PHONE_NUMBER_ID, base_url=self.url)

    def on_number(self, number: str, answer: Answer) -> None:
        with self._lock:
            self._numbers[number.lstrip("+")] = [answer, answer.times]

    @property
    def requests(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def answer(self, received: Received) -> tuple[int, dict, dict]:
        with self._lock:
            self._received.append(received)
            rule = self._numbers.get(str(received.body.get("to")))
            if rule is not None and rule[1] is not None:
                rule[1] -= 1
                if rule[1] <= 0:
                    del self._numbers[str(received.body.get("to"))]
        if received.path != f"/{PHONE_NUMBER_ID}/messages":
            return 404, {}, {"error": {"message": "Unknown path", "code": 100}}
        if received.authorization != f"Bearer {TOKEN}":
            return 401, {}, {"error": {"message": "Invalid OAuth access token", "code": 190}}
        if rule is not None:
            answer = rule[0]
            headers = {"Retry-After": answer.retry_after} if answer.retry_after else {}
            return answer.http_status, headers, {"error": {"message": "scripted", "code": answer.code}}
        return 200, {}, {"messaging_product": "whatsapp", "contacts": [{"wa_id": received.body.get("to")}],
                         "messages": [{"id": f"wamid.{uuid.uuid4().hex}"}]}


class _Handler(BaseHTTPRequestHandler):
    owner: FakeWhatsApp
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        received = Received(self.path, self.headers.get("Authorization", ""), body, time.monotonic())
        status, headers, reply = self.owner.answer(received)
        reply_json(self, status, reply, headers)

    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def fake_whatsapp():
    server = FakeWhatsApp().start()
    try:
        yield server
    finally:
        server.stop()
