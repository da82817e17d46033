"""WhatsApp Cloud API over ``httpx`` (``OFISI_WHATSAPP_BASE_URL``, token
``OFISI_WHATSAPP_TOKEN``, sender ``OFISI_WHATSAPP_PHONE_NUMBER_ID``).

Inside the 24-hour customer-service window a plain text message may go; outside
it only an approved template. A message whose subject is ``template:NAME`` (or
``template:NAME/LANG``) goes as that template in that language (English when none
is named): a body written by :func:`template_body` carries its parameters in order,
any other text is its one body parameter. Anything else goes as text, and WhatsApp's "outside the window" refusal
(131047) fails it with a message that says to use a template.
"""

from __future__ import annotations

import json

from core.providers import (
    AmbiguousSendError,
    OutgoingMessage,
    PermanentSendError,
    ProviderUnavailable,
    SendResult,
)
from core.providers.http import HttpClients, refused

OUTSIDE_WINDOW = 131047
RATE_LIMITED = {4, 80007, 130429, 131048, 131056}


def template_subject(name: str, language: str) -> str:
    return f"template:{name}/{language}"


def template_body(parameters: tuple[str, ...] | list[str]) -> str:
    """An outbox body that carries an approved template's body parameters, in order."""
    return json.dumps({"whatsapp_parameters": list(parameters)}, ensure_ascii=False)


def _parameters(body: str) -> list[str]:
    if body.startswith('{"whatsapp_parameters"'):
        try:
            found = json.loads(body)["whatsapp_parameters"]
            if isinstance(found, list):
                return [str(p) for p in found]
        except (ValueError, KeyError, TypeError):
            pass
    return [body]


def payload(message: OutgoingMessage) -> dict:
    to = message.to.lstrip("+")
    subject = message.subject or ""
    if subject.startswith("template:"):
        name, _, language = subject[len("template:"):].partition("/")
        parameters = [{"type": "text", "text": p} for p in _parameters(message.body)]
        return {"messaging_product": "whatsapp", "to": to, "type": "template",
                "template": {"name": name, "language": {"code": language or "en"},
                             "components": [{"type": "body", "parameters": parameters}] if parameters else []}}
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": message.body}}


class WhatsAppCloud:
    name = "whatsapp"

    def __init__(self, token: str, phone_number_id: str, *, base_url: str = "https://graph.facebook.com/v21.0",
                 timeout: float = 15.0) -> None:
        self._url = f"{base_url.rstrip('/')}/{phone_number_id}/messages"
        self._http = HttpClients("WhatsApp", timeout, headers={"Authorization": f"Bearer {token}"})

    @classmethod
    def from_settings(cls, settings) -> WhatsAppCloud:
        if not settings.whatsapp_phone_number_id:
            raise ProviderUnavailable("set OFISI_WHATSAPP_PHONE_NUMBER_ID to send WhatsApp messages")
        return cls(settings.secret("whatsapp_token").reveal(), settings.whatsapp_phone_number_id,
                   base_url=settings.whatsapp_base_url)

    def send(self, message: OutgoingMessage) -> SendResult:
        reply, data = self._http.post(self._url, json=payload(message))
        if reply.status_code == 200:
            try:
                return SendResult(provider_message_id=data["messages"][0]["id"])
            except (KeyError, IndexError, TypeError):
                raise AmbiguousSendError(f"unexpected reply from WhatsApp: {reply.text[:120]!r}") from None
        error = data.get("error") if isinstance(data, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        text = f"WhatsApp HTTP {reply.status_code}" + (f" ({code}: {error.get('message')})" if code else "")
        if code == OUTSIDE_WINDOW:
            raise PermanentSendError(f"{text}: outside the 24-hour window, only a template message can go")
        refused(reply, text, credentials="OFISI_WHATSAPP_TOKEN", throttled=code in RATE_LIMITED,
                unavailable=code == 190)

    def close(self) -> None:
        self._http.close()
