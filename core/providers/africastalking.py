"""Africa's Talking SMS through the official ``africastalking`` SDK.

``OFISI_AT_BASE_URL`` replaces the SDK's API host (for the sandbox proxy or
the tests' fake server). The SDK reports HTTP errors with the body text
only, so the request step is overridden to keep the status code: a 401 means
bad credentials (stop everything), a 5xx is worth retrying.
"""

from __future__ import annotations

import json

import requests
from africastalking.Service import AfricasTalkingException
from africastalking.SMS import SMSService
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from core.providers import (
    AmbiguousSendError,
    OutgoingMessage,
    PermanentSendError,
    ProviderUnavailable,
    SendResult,
    TransientSendError,
)

# Per-recipient status codes from the messaging API.
SENT_CODES = {100, 101, 102}  # Processed, Sent, Queued
PERMANENT_CODES = {401, 402, 403, 404, 405, 406, 407, 409}
# 401 RiskHold, 402 InvalidSenderId, 403 InvalidPhoneNumber, 404 UnsupportedNumberType,
# 405 InsufficientBalance, 406 UserInBlacklist, 407 CouldNotRoute, 409 DoNotDisturbRejection.
# Everything else (500 InternalServerError, 501 GatewayError, 502 RejectedByGateway) is retried.


def _never_left(exc: Exception) -> bool:
    """True when the connection was never made, so the request cannot have been seen."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        return isinstance(reason.reason, (NewConnectionError, ConnectTimeoutError))
    return False


class _HTTPError(AfricasTalkingException):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status


class _SMSService(SMSService):
    def __init__(self, username: str, api_key: str, base_url: str | None, timeout: tuple[float, float]) -> None:
        self._override = base_url.rstrip("/") if base_url else None
        self._timeout = timeout
        super().__init__(username, api_key)

    def _init_service(self) -> None:
        super()._init_service()
        if self._override:
            self._baseUrl = self._override + "/version1"
            self._contentUrl = self._baseUrl

    def _make_request(self, url, method, headers, data, params, callback=None, timeout=None):
        res = requests.post(url=url, headers=headers, params=params, data=data, timeout=self._timeout)
        if not 200 <= res.status_code < 300:
            raise _HTTPError(res.status_code, res.text)
        try:
            return res.json()
        except ValueError:
            return res.text


class AfricasTalkingSMS:
    name = "africastalking"

    def __init__(
        self,
        username: str,
        api_key: str,
        *,
        base_url: str | None = None,
        sender_id: str | None = None,
        timeout: tuple[float, float] = (3.05, 15.0),
    ) -> None:
        self._service = _SMSService(username, api_key, base_url, timeout)
        self._sender_id = sender_id

    @classmethod
    def from_settings(cls, settings) -> AfricasTalkingSMS:
        api_key = settings.secret("at_api_key").reveal()
        return cls(settings.at_username, api_key, base_url=settings.at_base_url, sender_id=settings.sms_sender_id)

    def send(self, message: OutgoingMessage) -> SendResult:
        try:
            reply = self._service.send(message.body, [message.to], sender_id=self._sender_id)
        except ValueError as exc:  # the SDK refuses numbers it cannot send to
            raise PermanentSendError(str(exc)) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            if _never_left(exc):
                raise TransientSendError(f"cannot reach Africa's Talking: {type(exc).__name__}") from None
            raise AmbiguousSendError(
                f"Africa's Talking did not answer ({type(exc).__name__}); the SMS may have gone"
            ) from None
        except _HTTPError as exc:
            if exc.status in (401, 403):
                raise ProviderUnavailable(
                    f"Africa's Talking refused the credentials (HTTP {exc.status}); "
                    "check OFISI_AT_USERNAME and the at_api_key secret"
                ) from None
            if exc.status >= 500 or exc.status == 429:
                raise TransientSendError(f"Africa's Talking HTTP {exc.status}") from None
            raise PermanentSendError(f"Africa's Talking HTTP {exc.status}: {str(exc)[:200]}") from None
        return self._interpret(reply)

    @staticmethod
    def _interpret(reply) -> SendResult:
        if isinstance(reply, str):
            try:
                reply = json.loads(reply)
            except ValueError:
                raise AmbiguousSendError(f"unreadable reply from Africa's Talking: {reply[:120]!r}") from None
        recipients = (reply.get("SMSMessageData") or {}).get("Recipients") or []
        if not recipients:
            note = (reply.get("SMSMessageData") or {}).get("Message", "no recipients in reply")
            raise PermanentSendError(f"Africa's Talking: {note}")
        first = recipients[0]
        code = int(first.get("statusCode", 0))
        status = first.get("status", "")
        if code in SENT_CODES:
            return SendResult(provider_message_id=first.get("messageId"))
        if code in PERMANENT_CODES:
            raise PermanentSendError(f"Africa's Talking {code} {status}")
        raise TransientSendError(f"Africa's Talking {code} {status}")

    def close(self) -> None:
        pass
