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
import os
import threading

import requests
from africastalking.Service import AfricasTalkingException
from africastalking.SMS import SMSService
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from core.money import parse_provider_cost
from core.providers import (
    AmbiguousSendError,
    OutgoingMessage,
    PermanentSendError,
    ProviderUnavailable,
    SendError,
    SendResult,
    ThrottledSendError,
    TransientSendError,
    retry_after_seconds,
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
    def __init__(self, status: int, text: str, retry_after: str | None = None) -> None:
        super().__init__(text)
        self.status = status
        self.retry_after = retry_after


def _session_for(url: str) -> requests.Session:
    """A kept-alive session that reads the environment (HTTPS_PROXY, NO_PROXY,
    REQUESTS_CA_BUNDLE) once, when it is made. requests reads it again on every
    request, and looks for a ~/.netrc login too (never wanted: the apiKey header is
    the credential): about a tenth of a sending thread's time in a campaign."""
    http = requests.Session()
    http.proxies.update(requests.utils.get_environ_proxies(url))
    http.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    http.trust_env = False
    return http


class _SMSService(SMSService):
    def __init__(self, username: str, api_key: str, base_url: str | None, timeout: tuple[float, float]) -> None:
        self._override = base_url.rstrip("/") if base_url else None
        self._timeout = timeout
        # One keep-alive connection per sending thread: a new TCP connection per SMS would
        # cost more than the request itself.
        self._local = threading.local()
        self.sessions: list[requests.Session] = []
        super().__init__(username, api_key)

    def _init_service(self) -> None:
        super()._init_service()
        if self._override:
            self._baseUrl = self._override + "/version1"
            self._contentUrl = self._baseUrl

    def _make_request(self, url, method, headers, data, params, callback=None, timeout=None):
        http = getattr(self._local, "session", None)
        if http is None:
            http = self._local.session = _session_for(url)
            self.sessions.append(http)  # list.append is atomic: no lock needed
        res = http.request(method.upper(), url=url, headers=headers, params=params, data=data,
                           timeout=self._timeout)
        if not 200 <= res.status_code < 300:
            raise _HTTPError(res.status_code, res.text, res.headers.get("Retry-After"))
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
        first = self._recipients(self._call(message.body, [message.to]))[0]
        return self._outcome(first)

    def send_many(self, messages: list[OutgoingMessage]) -> list[SendResult | SendError]:
        """One request for one text to many numbers (the messages share a body); one outcome each."""
        entries = self._recipients(self._call(messages[0].body, [m.to for m in messages]))
        by_number = {}
        for entry in entries:
            if isinstance(entry, dict):
                by_number.setdefault(entry.get("number"), entry)
        outcomes: list[SendResult | SendError] = []
        for message in messages:
            entry = by_number.get(message.to)
            if entry is None:
                outcomes.append(AmbiguousSendError(
                    f"Africa's Talking did not list {message.to} in its reply; the SMS may have gone"))
                continue
            try:
                outcomes.append(self._outcome(entry))
            except SendError as exc:
                outcomes.append(exc)
        return outcomes

    def _call(self, body: str, numbers: list[str]):
        try:
            return self._service.send(body, numbers, sender_id=self._sender_id)
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
            if exc.status == 429:
                delay = retry_after_seconds(exc.retry_after)
                raise ThrottledSendError("Africa's Talking HTTP 429: slow down"
                                         + (f" for {delay:g}s" if delay is not None else ""),
                                         retry_after=delay) from None
            raise self._http_error(exc.status, str(exc)) from None

    @staticmethod
    def _http_error(status: int, text: str) -> Exception:
        if status in (401, 403):
            return ProviderUnavailable(
                f"Africa's Talking refused the credentials (HTTP {status}); "
                "check OFISI_AT_USERNAME and the at_api_key secret"
            )
        if status in (404, 405):  # not the messaging API at all: a wrong base URL
            return ProviderUnavailable(f"Africa's Talking HTTP {status} for the messaging API; check OFISI_AT_BASE_URL")
        if status >= 500 or status == 408:
            return TransientSendError(f"Africa's Talking HTTP {status}")
        return PermanentSendError(f"Africa's Talking HTTP {status}: {text[:200]}")

    @staticmethod
    def _recipients(reply) -> list:
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
        return recipients

    @staticmethod
    def _outcome(entry) -> SendResult:
        try:
            code = int(entry.get("statusCode"))
        except (AttributeError, TypeError, ValueError):
            raise AmbiguousSendError(f"Africa's Talking gave no status code: {str(entry)[:120]!r}") from None
        status = entry.get("status", "")
        if code in SENT_CODES:
            cost = parse_provider_cost(entry.get("cost"))
            return SendResult(entry.get("messageId"), *(cost or (None, None)))
        if code in PERMANENT_CODES:
            raise PermanentSendError(f"Africa's Talking {code} {status}", stop_run=code in ACCOUNT_CODES)
        if code in TRANSIENT_CODES:
            raise TransientSendError(f"Africa's Talking {code} {status}")
        raise AmbiguousSendError(f"Africa's Talking answered {code} {status}, which Ofisi does not know")

    def close(self) -> None:
        for http in self._service.sessions:
            http.close()
