"""The ``log`` provider: writes each message to the log instead of sending it."""

from __future__ import annotations

import logging

from core.providers import OutgoingMessage, SendResult

log = logging.getLogger("ofisi.outbox.log")


class LogProvider:
    name = "log"

    def send(self, message: OutgoingMessage) -> SendResult:
        log.info("%s to %s: %s", message.channel.upper(), message.to,
                 "(a one-time code, not logged)" if message.secret else message.body)
        return SendResult(provider_message_id=f"log-{message.id}")

    def close(self) -> None:
        pass
