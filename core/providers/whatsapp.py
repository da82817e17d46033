"""WhatsApp Cloud API over ``httpx`` (``OFISI_WHATSAPP_BASE_URL``, token
``OFISI_WHATSAPP_TOKEN``, sender ``OFISI_WHATSAPP_PHONE_NUMBER_ID``).

Inside the 24-hour customer-service window a plain text message may go; outside
it only an approved template. A message whose subject is ``template:NAME`` (or
``template:NAME/LANG``) goes as that template with its text as the one body
parameter; anything else as text, and WhatsApp's "outside the window" refusal
(131047) fails it with a message that says to use a template.
"""

from __future__ import annotations

import threading

import httpx

from core.providers import (
    AmbiguousSendError,
    OutgoingMessage,
    PermanentSendError,
    ProviderUnavailable,
    SendResult,
    ThrottledSendError,
    TransientSendError,
    retry_after_seconds,
)

OUTSIDE_WINDOW = 131047
RATE_LIMITED = {4, 80007, 130429, 131048, 131056}


def payload(message: OutgoingMessage) -> dict:
    to = message.to.lstrip("+")
    subject = message.subject or ""
    if subject.startswith("template:"):
        name, _, language = subject[len("template:"):].partition("/")
        return {"messaging_product": "whatsapp", "to": to, "type": "template",
                "template": {"name": name, "language": {"code": language or "en"},
                             "components": [{"type": "body",
                                             "parameters": [{"type": "text", "text": message.body}]}]}}
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": message.body}}


class WhatsAppCloud:
    name = "whatsapp"

    def __init__(self, token: str, phone_number_id: str, *, base_url: str = "https://graph.facebook.com/v21.0",
                 timeout: float = 15.0) -> None:
        self._url = f"{base_url.rstrip('/')}/{phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout = httpx.Timeout(timeout, connect=3.05)
        self._local = threading.local()
        self._clients: list[httpx.Client] = []

    @classmethod
    def from_settings(cls, settings) -> WhatsAppCloud:
        if not settings.whatsapp_phone_number_id:
            raise ProviderUnavailable("set OFISI_WHATSAPP_PHONE_NUMBER_ID to send WhatsApp messages")
        return cls(settings.secret("whatsapp_token").reveal(), settings.whatsapp_phone_number_id,
                   base_url=settings.whatsapp_base_url)

    def _client(self) -> httpx.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = httpx.Client(headers=self._headers, timeout=self._timeout)
            self._clients.append(client)
        return client

    def send(self, message: OutgoingMessage) -> SendResult:
        try:
            reply = self._client().post(self._url, json=payload(message))
        except httpx.ConnectError as exc:
            raise TransientSendError(f"cannot reach WhatsApp: {type(exc).__name__}") from None
        except httpx.HTTPError as exc:
            raise AmbiguousSendError(f"WhatsApp did not answer ({type(exc).__name__}); the message may have gone") \
                from None
        try:
            data = reply.json()
        except ValueError:
            data = {}
        if reply.status_code == 200:
            try:
                return SendResult(provider_message_id=data["messages"][0]["id"])
            except (KeyError, IndexError, TypeError):
                raise AmbiguousSendError(f"unexpected reply from WhatsApp: {reply.text[:120]!r}") from None
        error = data.get("error") if isinstance(data, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        text = f"WhatsApp HTTP {reply.status_code}" + (f" ({code}: {error.get('message')})" if code else "")
        if reply.status_code == 429 or code in RATE_LIMITED:
            raise ThrottledSendError(text, retry_after=retry_after_seconds(reply.headers.get("Retry-After")))
        if reply.status_code in (401, 403) or code == 190:
            raise ProviderUnavailable(f"{text}; check OFISI_WHATSAPP_TOKEN")
        if code == OUTSIDE_WINDOW:
            raise PermanentSendError(f"{text}: outside the 24-hour window, only a template message can go")
        if reply.status_code >= 500:
            raise TransientSendError(text)
        raise PermanentSendError(text)

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()
