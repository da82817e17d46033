"""A fake SMTP server on loopback: enough of RFC 5321 for ``smtplib`` (EHLO/HELO, MAIL,
RCPT, DATA, RSET, NOOP, QUIT), recording every message it accepted.

Scripting per recipient: :meth:`FakeSMTP.refuse` answers RCPT TO with a code
(``550`` permanent, ``451`` transient).
"""

from __future__ import annotations

import email
import socketserver
import threading
from dataclasses import dataclass
from email.message import Message

import pytest


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: tuple[str, ...]
    message: Message

    @property
    def message_id(self) -> str:
        return self.message["Message-ID"]


class _Handler(socketserver.StreamRequestHandler):
    owner: FakeSMTP

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 fake-smtp ready")
        sender, recipients = "", []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode(errors="replace").rstrip("\r\n")
            verb = line[:4].upper()
            if verb == "EHLO":
                self.wfile.write(b"250-fake-smtp\r\n250 8BITMIME\r\n")
            elif verb == "HELO":
                self.reply("250 fake-smtp")
            elif verb == "MAIL":
                sender, recipients = line.split(":", 1)[1].strip().strip("<>").split(">")[0], []
                self.reply("250 OK")
            elif verb == "RCPT":
                address = line.split(":", 1)[1].strip().strip("<>").split(">")[0]
                code = self.owner.refused.get(address)
                if code:
                    self.reply(f"{code} {'mailbox unavailable' if code >= 500 else 'try again later'}")
                else:
                    recipients.append(address)
                    self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with <CR><LF>.<CR><LF>")
                lines = []
                while True:
                    data = self.rfile.readline()
                    if data in (b".\r\n", b".\n", b""):
                        break
                    lines.append(data[1:] if data.startswith(b"..") else data)
                self.owner.record(Received(sender, tuple(recipients), email.message_from_bytes(b"".join(lines))))
                self.reply("250 OK queued")
            elif verb == "RSET":
                sender, recipients = "", []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 command not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeSMTP:
    def __init__(self) -> None:
        self.refused: dict[str, int] = {}
        self._lock = threading.Lock()
        self._received: list[Received] = []

    def start(self) -> FakeSMTP:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="fake-smtp")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"smtp://{host}:{port}"

    def refuse(self, address: str, code: int) -> None:
        self.refused[address] = code

    def record(self, received: Received) -> None:
        with self._lock:
            self._received.append(received)

    @property
    def messages(self) -> list[Received]:
        with self._lock:
            return list(self._received)


@pytest.fixture
def fake_smtp():
    server = FakeSMTP().start()
    try:
        yield server
    finally:
        server.stop()
