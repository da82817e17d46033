"""Providers that carry outbox messages: ``log`` for development, Africa's Talking SMS,
Exotel SMS for Indian numbers (routed by :class:`core.providers.india.CountryRoute`), email
over SMTP and the WhatsApp Cloud API.

A provider turns one message into one send and says how it went by return
value or by raising one of the errors below; the dispatcher alone decides
what a failure means for the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Attachment:
    """A file that goes with an email (an ``.ics`` invitation); built when the message is sent."""

    filename: str
    content_type: str  # "text/calendar"
    data: bytes


@dataclass(frozen=True)
class OutgoingMessage:
    id: int
    org_id: int
    channel: str
    to: str
    subject: str | None
    body: str
    campaign_id: int | None = None
    secret: bool = False  # it carries a code: never logged
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str | None
    # What the provider says the send cost, when it says (Africa's Talking does per recipient):
    # minor units of ``cost_currency`` (see core.money.parse_provider_cost).
    cost_minor: int | None = None
    cost_currency: str | None = None


class SendError(Exception):
    """Base of provider failures; ``str(exc)`` is stored as the row's last error."""


class TransientSendError(SendError):
    """Not sent, worth retrying later (network down, provider 5xx, gateway busy)."""


class ThrottledSendError(TransientSendError):
    """The provider asked us to slow down (HTTP 429); ``retry_after`` is its delay in seconds,
    or None when it named none. The dispatcher backs the whole channel off, and the
    message goes back to the queue without using up an attempt."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None) -> float | None:
    """An HTTP ``Retry-After`` header (seconds or an HTTP date) as seconds from now."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from datetime import datetime, timezone
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


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
    """One send per call. A provider that can carry one text to many recipients in one
    request also has ``send_many(messages) -> list[SendResult | SendError]`` (the
    messages share body and subject; one outcome per message, in order; an error
    raised instead applies to them all). One that hands each message to another provider by
    its destination also has ``name_for(to) -> str`` (see :func:`provider_name`)."""

    name: str

    def send(self, message: OutgoingMessage) -> SendResult: ...

    def close(self) -> None: ...


def provider_name(provider: Provider, to: str) -> str:
    """The name a message to ``to`` is recorded under: the provider's, or, for one that routes by
    destination (``name_for``, see :class:`core.providers.india.CountryRoute`), the name of the
    provider it goes through, which is the one whose delivery reports come back for it."""
    name_for = getattr(provider, "name_for", None)
    return name_for(to) if name_for is not None else provider.name


def build_providers(settings) -> dict[str, Provider]:
    """The provider for each channel that this installation can send on."""
    from core.providers.log import LogProvider

    if settings.sms_provider == "africastalking":
        from core.providers.africastalking import AfricasTalkingSMS

        sms: Provider = AfricasTalkingSMS.from_settings(settings)
    else:
        sms = LogProvider()
    if settings.exotel_account_sid and settings.has_secret("exotel_api_key"):
        from core.providers.exotel import ExotelSMS
        from core.providers.india import INDIA, CountryRoute

        sms = CountryRoute(sms, {INDIA: ExotelSMS.from_settings(settings)})
    providers: dict[str, Provider] = {"sms": sms}
    if settings.has_secret("smtp_url"):
        from core.providers.smtp import SMTPEmail

        providers["email"] = SMTPEmail.from_settings(settings)
    if settings.has_secret("whatsapp_token") and settings.whatsapp_phone_number_id:
        from core.providers.whatsapp import WhatsAppCloud

        providers["whatsapp"] = WhatsAppCloud.from_settings(settings)
    return providers
