"""Exotel SMS (India) over ``httpx``: ``POST {base}/v1/Accounts/{sid}/Sms/send.json`` with HTTP
Basic auth (API key and token), form fields ``From`` (the DLT-registered sender ID), ``To``,
``Body``, ``DltEntityId`` and ``DltTemplateId`` (read from the row, see
:mod:`core.providers.india`), and ``EncodingType=unicode`` when the text is not GSM-7.

Settings: ``OFISI_EXOTEL_BASE_URL`` (``https://api.exotel.com``, or ``api.in.exotel.com`` for
Mumbai), ``OFISI_EXOTEL_ACCOUNT_SID``, ``OFISI_EXOTEL_SENDER_ID``; secrets ``exotel_api_key`` and
``exotel_api_token``. A reply of 200/202 carries ``SMSMessage.Sid``; errors carry
``RestException``.
"""

from __future__ import annotations

import httpx

from core.gsm7 import gsm7_septets
from core.providers import AmbiguousSendError, OutgoingMessage, PermanentSendError, ProviderUnavailable, SendResult
from core.providers.http import HttpClients, refused
from core.providers.india import read_dlt


def form(message: OutgoingMessage, sender_id: str) -> dict[str, str]:
    entity, template = read_dlt(message.subject)
    if not entity or not template:
        raise PermanentSendError(
            f"not sent to {message.to}: an SMS to India needs the DLT entity ID and the DLT template ID "
            "(`ofisi campaigns settings --dlt-entity-id`, `ofisi templates edit --dlt-template-id`)")
    fields = {"From": sender_id, "To": message.to, "Body": message.body, "DltEntityId": entity,
              "DltTemplateId": template}
    if gsm7_septets(message.body) is None:
        fields["EncodingType"] = "unicode"
    return fields


class ExotelSMS:
    name = "exotel"

    def __init__(self, api_key: str, api_token: str, account_sid: str, sender_id: str, *,
                 base_url: str = "https://api.exotel.com", timeout: float = 15.0) -> None:
        self._url = f"{base_url.rstrip('/')}/v1/Accounts/{account_sid}/Sms/send.json"
        self._sender = sender_id
        self._http = HttpClients("Exotel", timeout, auth=httpx.BasicAuth(api_key, api_token))

    @classmethod
    def from_settings(cls, settings) -> ExotelSMS:
        if not (settings.exotel_account_sid and settings.exotel_sender_id):
            raise ProviderUnavailable("set OFISI_EXOTEL_ACCOUNT_SID and OFISI_EXOTEL_SENDER_ID to send SMS to India")
        return cls(settings.secret("exotel_api_key").reveal(), settings.secret("exotel_api_token").reveal(),
                   settings.exotel_account_sid, settings.exotel_sender_id, base_url=settings.exotel_base_url)

    def send(self, message: OutgoingMessage) -> SendResult:
        reply, body = self._http.post(self._url, data=form(message, self._sender))
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
