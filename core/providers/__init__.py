"""Providers that carry outbox messages: ``log`` for development, Africa's Talking SMS.

A provider turns one message into one send and says how it went by return
value or by raising one of the errors below; the dispatcher alone decides
what a failure means for the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    id: int
    org_id: int
    channel: str
    to: str
    subject: str | None
    body: str


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str | None


class SendError(Exception):
    """Base of provider failures; ``str(exc)`` is stored as the row's last error."""


class TransientSendError(SendError):
    """Not sent, worth retrying later (network down, provider 5xx, gateway busy)."""


class PermanentSendError(SendError):
    """Not sent and never will be as it is (invalid number, blacklisted, …).

    ``stop_run`` says the cause lies with the account, not the message (no
    credit left): the dispatcher fails this one message and stops, instead of
    failing every message after it the same way.
    """

    def __init__(self, message: str, *, stop_run: bool = False) -> None:
        super().__init__(message)
        self.stop_run = stop_run


class AmbiguousSendError(SendError):
    """The provider may or may not have sent it (timeout after the request left,
    a reply that cannot be read). The dispatcher never resends it by itself;
    any other exception out of ``send`` is treated the same way."""


class ProviderUnavailable(SendError):
    """Nothing can be sent with this provider now (bad credentials, missing setting).

    The dispatcher stops and gives the message back untouched.
    """


class Provider(Protocol):
    name: str

    def send(self, message: OutgoingMessage) -> SendResult: ...

    def close(self) -> None: ...


def build_providers(settings) -> dict[str, Provider]:
    """The provider for each channel that this installation can send on."""
    from core.providers.log import LogProvider

    if settings.sms_provider == "africastalking":
        from core.providers.africastalking import AfricasTalkingSMS

        sms: Provider = AfricasTalkingSMS.from_settings(settings)
    else:
        sms = LogProvider()
    return {"sms": sms}
