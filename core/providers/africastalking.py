"""Africa's Talking SMS through the official ``africastalking`` SDK.

``OFISI_AT_BASE_URL`` replaces the SDK's API host (for the sandbox proxy or
the tests' fake server). The SDK reports HTTP errors with the body text
only, so the request step is overridden to keep the status code: a 401 means
bad credentials (stop everything), a 5xx is worth retrying.

What each outcome means for the message, from the most to the least sure:
a per-recipient code in ``SENT_CODES`` is sent; ``PERMANENT_CODES`` fail it
(405, no credit, also stops the run); ``TRANSIENT_CODES``, HTTP 5xx/429 and a
connection that was never made are retried; anything else after the request
may have left (a read timeout, a dropped connection, a reply or code we cannot
read) is ambiguous and never resent blindly.
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
TRANSIENT_CODES = {500, 501, 502}  # InternalServerError, GatewayError, RejectedByGateway
ACCOUNT_CODES = {405}  # InsufficientBalance: every later message would fail too, so the run stops


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
        res = requests.request(method.upper(), url=url, headers=headers, params=params, data=data,
                               timeout=self._timeout)
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
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema) as exc:
            # Caught before ValueError (they are ValueErrors too): a setting to fix, not a bad message.
            raise ProviderUnavailable(
                f"the Africa's Talking URL is not usable ({exc}); check OFISI_AT_BASE_URL"
            ) from None
        except requests.RequestException as exc:
            if _never_left(exc):
                raise TransientSendError(f"cannot reach Africa's Talking: {type(exc).__name__}") from None
            raise AmbiguousSendError(
                f"Africa's Talking did not answer ({type(exc).__name__}); the SMS may have gone"
            ) from None
        except ValueError as exc:  # the SDK refuses numbers it cannot send to, before any request
            raise PermanentSendError(str(exc)) from None
        except _HTTPError as exc:
            raise self._http_error(exc.status, str(exc)) from None
        return self._interpret(reply)

    @staticmethod
    def _http_error(status: int, text: str) -> Exception:
        if status in (401, 403):
            return ProviderUnavailable(
                f"Africa's Talking refused the credentials (HTTP {status}); "
                "check OFISI_AT_USERNAME and the at_api_key secret"
            )
        if status in (404, 405):  # not the messaging API at all: a wrong base URL
            return ProviderUnavailable(f"Africa's Talking HTTP {status} for the messaging API; check OFISI_AT_BASE_URL")
        if status >= 500 or status in (408, 429):
            return TransientSendError(f"Africa's Talking HTTP {status}")
        return PermanentSendError(f"Africa's Talking HTTP {status}: {text[:200]}")

    @staticmethod
    def _interpret(reply) -> SendResult:
        if isinstance(reply, str):
            try:
                reply = json.loads(reply)
            except ValueError:
                raise AmbiguousSendError(f"unreadable reply from Africa's Talking: {reply[:120]!r}") from None
        data = reply.get("SMSMessageData") if isinstance(reply, dict) else None
        if not isinstance(data, dict):
            raise AmbiguousSendError(f"unexpected reply from Africa's Talking: {str(reply)[:120]!r}")
        recipients = data.get("Recipients") or []
        if not recipients:
            # Refused before any recipient was queued (InvalidSenderId, InvalidPhoneNumber, …).
            raise PermanentSendError(f"Africa's Talking: {data.get('Message') or 'no recipients in reply'}")
        first = recipients[0]
        try:
            code = int(first.get("statusCode"))
        except (AttributeError, TypeError, ValueError):
            raise AmbiguousSendError(f"Africa's Talking gave no status code: {str(first)[:120]!r}") from None
        status = first.get("status", "")
        if code in SENT_CODES:
            return SendResult(provider_message_id=first.get("messageId"))
        if code in PERMANENT_CODES:
            raise PermanentSendError(f"Africa's Talking {code} {status}", stop_run=code in ACCOUNT_CODES)
        if code in TRANSIENT_CODES:
            raise TransientSendError(f"Africa's Talking {code} {status}")
        raise AmbiguousSendError(f"Africa's Talking answered {code} {status}, which Ofisi does not know")

    def close(self) -> None:
        pass
