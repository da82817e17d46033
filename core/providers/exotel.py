"""Exotel SMS (India) over ``httpx``: ``POST {base}/v1/Accounts/{sid}/Sms/send.json`` with HTTP
Basic auth (API key and token), form fields ``From`` (the DLT-registered sender ID), ``To``,
``Body``, ``DltEntityId`` and ``DltTemplateId`` (read from the row, see
:mod:`core.providers.india`), and ``EncodingType=unicode`` when the text is not GSM-7.

Settings: ``OFISI_EXOTEL_BASE_URL`` (``https://api.exotel.com``, or ``api.in.exotel.com`` for
Mumbai), ``OFISI_EXOTEL_ACCOUNT_SID``, ``OFISI_EXOTEL_SENDER_ID``; secrets ``exotel_api_key`` and
``exotel_api_token``. A reply of 200/202 carries ``SMSMessage.Sid``; errors carry
``RestException``.

Delivery reports: every send names ``StatusCallback``, the gateway's ``/sms/exotel/delivery``
under ``OFISI_PUBLIC_URL`` with the ``callback_token`` secret as its ``token`` (Exotel signs
nothing, so the token is the check, as for Africa's Talking). Exotel posts a form there
(``SmsSid``, ``To``, ``Status``, ``DetailedStatus``, ``DetailedStatusCode``, ``SmsUnits``,
``DateSent``) once the SMS reaches a state; :func:`delivery_status` reads it.

Incoming SMS: the ExoPhone's SMS app ("Send a Reply" applet, or the dashboard's Inbound SMS
webhook) calls the gateway's ``/sms/exotel/inbound`` with the token, by GET (a HEAD first, and
query parameters) or by POST (a form), with ``SmsSid``, ``From`` (the sender, often written
``09876543210``), ``To`` (the ExoPhone), ``Date`` (``YYYY-MM-DD HH:mm:ss`` in IST, as every
Exotel time) and ``Body``. :func:`incoming_sms` reads them. The body of the answer to a GET
is sent back to the sender as an SMS, so the gateway answers with none: replies leave through
the outbox, with the DLT IDs India needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import httpx

from core.gsm7 import gsm7_septets
from core.providers import AmbiguousSendError, OutgoingMessage, PermanentSendError, ProviderUnavailable, SendResult
from core.providers.http import HttpClients, refused
from core.providers.india import read_dlt

DELIVERY_PATH = "/sms/exotel/delivery"
INBOUND_PATH = "/sms/exotel/inbound"
IST = timezone(timedelta(hours=5, minutes=30), "IST")  # Exotel's clock; India keeps no summer time
# Exotel's statuses: on the way, handed to the carrier, or failed (with DetailedStatus saying why).
_ON_THE_WAY = frozenset({"queued", "sending", "submitted", "sent"})
_FAILED = frozenset({"failed", "failed-dnd", "failed_dnd", "undelivered", "expired"})
_HANDSET = "DELIVERED_TO_HANDSET"


def delivery_status(fields: dict[str, str]) -> tuple[str | None, str | None]:
    """A StatusCallback's meaning for the message: ("delivered" | "sent" | "failed", the reason
    of a failure), or (None, None) for a status Exotel does not document."""
    status, detail = fields.get("Status", "").strip().lower(), fields.get("DetailedStatus", "").strip()
    code = fields.get("DetailedStatusCode", "").strip()
    if status == "delivered" or (status == "sent" and detail.upper() == _HANDSET):
        return "delivered", None
    if status in _ON_THE_WAY:
        return "sent", None
    if status in _FAILED:
        said = f"{detail} ({code})" if detail and code else detail or code
        reason = f"Exotel {status}" + (f": {said}" if said else "")
        if status in ("failed-dnd", "failed_dnd"):
            reason += "; the number is on India's Do Not Disturb registry"
        return "failed", reason
    return None, None


@dataclass(frozen=True)
class IncomingSms:
    """One SMS an ExoPhone received, as :func:`core.inbound.receive` takes it."""

    sid: str
    sender: str  # E.164 when it reads as an Indian number, else as Exotel wrote it
    to: str
    text: str
    received_at: datetime | None  # UTC; None when Exotel's Date is missing or unreadable


def incoming_sms(fields: dict[str, str]) -> IncomingSms:
    """Exotel's incoming-SMS fields read: the sender in E.164 (Exotel writes Indian numbers
    without +91) and the Date moved from IST to UTC."""
    from core.errors import InvalidInput
    from core.phones import normalize_phone

    sender = fields.get("From", "").strip()
    try:
        sender = normalize_phone(sender, "IN")
    except InvalidInput:
        pass  # core.inbound says it is no phone number
    try:
        sent = datetime.strptime(fields.get("Date", "").strip(), "%Y-%m-%d %H:%M:%S")
        # A Date ahead of ours is a clock that is wrong; the message is not from the future.
        received_at = min(sent.replace(tzinfo=IST).astimezone(timezone.utc), datetime.now(timezone.utc))
    except ValueError:
        received_at = None
    return IncomingSms(fields.get("SmsSid", "").strip(), sender, fields.get("To", "").strip(),
                       fields.get("Body", ""), received_at)


def status_callback(settings) -> str:
    """The URL Exotel reports each SMS's delivery to, with the callback token when one is set."""
    from urllib.parse import urlencode

    token = settings.secret("callback_token", required=False)
    query = f"?{urlencode({'token': token.reveal()})}" if token is not None else ""
    return f"{settings.public_url.rstrip('/')}{DELIVERY_PATH}{query}"


def form(message: OutgoingMessage, sender_id: str, callback: str | None = None) -> dict[str, str]:
    entity, template = read_dlt(message.subject)
    if not entity or not template:
        raise PermanentSendError(
            f"not sent to {message.to}: an SMS to India needs the DLT entity ID and the DLT template ID "
            "(`ofisi campaigns settings --dlt-entity-id`, and `ofisi templates edit --dlt-template-id` for a "
            "campaign's template or `ofisi campaigns settings --dlt-template KIND=ID` for the org's own SMS)")
    fields = {"From": sender_id, "To": message.to, "Body": message.body, "DltEntityId": entity,
              "DltTemplateId": template}
    if gsm7_septets(message.body) is None:
        fields["EncodingType"] = "unicode"
    if callback:
        fields["StatusCallback"] = callback
    return fields


class ExotelSMS:
    name = "exotel"

    def __init__(self, api_key: str, api_token: str, account_sid: str, sender_id: str, *,
                 base_url: str = "https://api.exotel.com", status_callback: str | None = None,
                 timeout: float = 15.0) -> None:
        self._url = f"{base_url.rstrip('/')}/v1/Accounts/{account_sid}/Sms/send.json"
        self._sender, self._callback = sender_id, status_callback
        self._http = HttpClients("Exotel", timeout, auth=httpx.BasicAuth(api_key, api_token))

    @classmethod
    def from_settings(cls, settings) -> ExotelSMS:
        if not (settings.exotel_account_sid and settings.exotel_sender_id):
            raise ProviderUnavailable("set OFISI_EXOTEL_ACCOUNT_SID and OFISI_EXOTEL_SENDER_ID to send SMS to India")
        return cls(settings.secret("exotel_api_key").reveal(), settings.secret("exotel_api_token").reveal(),
                   settings.exotel_account_sid, settings.exotel_sender_id, base_url=settings.exotel_base_url,
                   status_callback=status_callback(settings))

    def send(self, message: OutgoingMessage) -> SendResult:
        reply, body = self._http.post(self._url, data=form(message, self._sender, self._callback))
        if reply.status_code in (200, 202):
            try:
                return SendResult(provider_message_id=body["SMSMessage"]["Sid"])
            except (KeyError, TypeError):
                raise AmbiguousSendError(f"unexpected reply from Exotel: {reply.text[:120]!r}") from None
        error = body.get("RestException") if isinstance(body, dict) else None
        text = f"Exotel HTTP {reply.status_code}" + (f": {error.get('Message')}" if isinstance(error, dict) else "")
        refused(reply, text, credentials="the exotel_api_key and exotel_api_token secrets")

    def close(self) -> None:
        self._http.close()
