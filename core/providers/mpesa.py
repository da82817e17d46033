"""M-Pesa Daraja (Safaricom) STK push and STK query over ``httpx``.

``OFISI_MPESA_BASE_URL`` is the API host (the sandbox by default, the tests'
fake server in tests). An OAuth access token is fetched with the consumer key
and secret (basic auth) and kept until shortly before it expires; a 401 from
the API drops it, fetches a new one and tries once more, then gives up as a
configuration error.

What each failure means, in the terms of ``core.providers``:
``TransientSendError``, nothing reached Daraja or Daraja said to try later
(no connection, HTTP 5xx, 429); ``PermanentSendError``, Daraja refused this
request (other 4xx, a ``ResponseCode`` other than 0, an amount or field it
cannot take); ``ProviderUnavailable``, nothing can work until a setting is
fixed (credentials, short code); ``AmbiguousSendError``, the push left and no
readable answer came back (a read timeout, a dropped connection), so the
member may have been prompted and it must not be pushed again blindly. STK
query is a read: every transport failure of a query is transient.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from core.money import exponent
from core.phones import to_daraja
from core.providers import (
    AmbiguousSendError,
    PermanentSendError,
    ProviderUnavailable,
    SendError,
    TransientSendError,
)
from db.types import utcnow

NAIROBI = ZoneInfo("Africa/Nairobi")
CALLBACK_PATH = "/mpesa/stk/callback"
TOKEN_PATH = "/oauth/v1/generate?grant_type=client_credentials"
PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
QUERY_PATH = "/mpesa/stkpushquery/v1/query"
TOKEN_MARGIN_S = 60.0  # fetch a new token this long before the old one expires
# STK query of a push whose result Daraja does not have yet: HTTP 500 with this errorCode.
STILL_PROCESSING = "500.001.1001"
MAX_REFERENCE, MAX_DESCRIPTION = 12, 13


@dataclass(frozen=True)
class StkPushAccepted:
    merchant_request_id: str
    checkout_request_id: str
    customer_message: str


@dataclass(frozen=True)
class StkQueryAnswer:
    """Daraja's word on one push; ``result_code`` is None while it is still being processed."""

    result_code: int | None
    result_desc: str
    raw: dict[str, Any]

    @property
    def processing(self) -> bool:
        return self.result_code is None


def callback_url(public_url: str, token: str | None) -> str:
    """Where Daraja posts STK results: the gateway, with the callback token when there is one."""
    url = public_url.rstrip("/") + CALLBACK_PATH
    return f"{url}?token={quote(token, safe='')}" if token else url


def _error_text(response: httpx.Response) -> str:
    """Daraja's own error words (``errorCode errorMessage``), else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        words = " ".join(str(body[k]) for k in ("errorCode", "errorMessage", "ResponseDescription") if body.get(k))
        if words:
            return words
    return response.text[:200]


class DarajaClient:
    name = "mpesa"

    def __init__(
        self,
        *,
        base_url: str,
        consumer_key: str,
        consumer_secret: str,
        shortcode: str,
        passkey: str,
        callback_url: str,
        timeout: httpx.Timeout = httpx.Timeout(30.0, connect=5.0),
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.shortcode = shortcode
        self.callback_url = callback_url
        self._credentials = (consumer_key, consumer_secret)
        self._passkey = passkey
        self._clock = clock
        self._monotonic = monotonic
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)
        self._lock = threading.Lock()
        self._token: str | None = None
        self._token_until = 0.0

    @classmethod
    def from_settings(cls, settings) -> DarajaClient:
        """The client this installation is configured for, or ``ProviderUnavailable`` saying what is missing."""
        from config.settings import SettingsError

        if not settings.mpesa_shortcode:
            raise ProviderUnavailable("M-Pesa is not set up: set OFISI_MPESA_SHORTCODE to the paybill short code.")
        try:
            key = settings.secret("mpesa_consumer_key").reveal()
            secret = settings.secret("mpesa_consumer_secret").reveal()
            passkey = settings.secret("mpesa_passkey").reveal()
        except SettingsError as exc:
            raise ProviderUnavailable(str(exc)) from None
        token = settings.secret("callback_token", required=False)
        return cls(base_url=settings.mpesa_base_url, consumer_key=key, consumer_secret=secret,
                   shortcode=str(settings.mpesa_shortcode), passkey=passkey,
                   callback_url=callback_url(settings.public_url, token.reveal() if token else None))

    # ------------------------------------------------------------ the API

    def password(self, timestamp: str) -> str:
        return base64.b64encode(f"{self.shortcode}{self._passkey}{timestamp}".encode()).decode()

    def timestamp(self) -> str:
        return self._clock().astimezone(NAIROBI).strftime("%Y%m%d%H%M%S")

    def stk_push(self, *, phone: str, amount_minor: int, currency: str, account_reference: str,
                 description: str) -> StkPushAccepted:
        """Prompt ``phone`` (E.164) to pay; Daraja's acceptance carries the CheckoutRequestID."""
        if currency.upper() != "KES":
            raise PermanentSendError(f"M-Pesa STK push takes Kenyan shillings, not {currency}")
        shillings, cents = divmod(amount_minor, 10 ** exponent(currency))
        if cents or shillings < 1:
            raise PermanentSendError(f"M-Pesa takes whole shillings of at least 1; {amount_minor} cents is not")
        if not 0 < len(account_reference) <= MAX_REFERENCE or not 0 < len(description) <= MAX_DESCRIPTION:
            raise PermanentSendError(
                f"the account reference takes 1–{MAX_REFERENCE} characters and the description 1–{MAX_DESCRIPTION}"
            )
        timestamp = self.timestamp()
        number = to_daraja(phone)
        body = {
            "BusinessShortCode": self.shortcode,
            "Password": self.password(timestamp),
            "Timestamp": timestamp,
            "TransactionType": "CustomerPayBillOnline",
            "Amount": shillings,
            "PartyA": number,
            "PartyB": self.shortcode,
            "PhoneNumber": number,
            "CallBackURL": self.callback_url,
            "AccountReference": account_reference,
            "TransactionDesc": description,
        }
        response = self._post(PUSH_PATH, body, after_sending=AmbiguousSendError)
        if response.status_code >= 400:
            raise self._refusal(response)
        reply = self._json(response, AmbiguousSendError)
        if str(reply.get("ResponseCode")) != "0":
            raise PermanentSendError(f"Daraja did not accept the push: {reply.get('ResponseCode')} "
                                     f"{reply.get('ResponseDescription', '')}".strip())
        checkout = reply.get("CheckoutRequestID")
        if not checkout:
            raise AmbiguousSendError(f"Daraja accepted the push without a CheckoutRequestID: {str(reply)[:160]}")
        return StkPushAccepted(str(reply.get("MerchantRequestID") or ""), str(checkout),
                               str(reply.get("CustomerMessage") or ""))

    def stk_query(self, checkout_request_id: str) -> StkQueryAnswer:
        """What became of one push (STK query); safe to ask as often as needed."""
        timestamp = self.timestamp()
        body = {"BusinessShortCode": self.shortcode, "Password": self.password(timestamp),
                "Timestamp": timestamp, "CheckoutRequestID": checkout_request_id}
        response = self._post(QUERY_PATH, body, after_sending=TransientSendError)
        if response.status_code >= 400:
            try:
                code = response.json().get("errorCode")
            except (ValueError, AttributeError):
                code = None
            if code == STILL_PROCESSING:
                return StkQueryAnswer(None, _error_text(response), {"errorCode": code})
            raise self._refusal(response)
        reply = self._json(response, TransientSendError)
        try:
            result_code = int(reply["ResultCode"])
        except (KeyError, TypeError, ValueError):
            raise TransientSendError(f"Daraja's STK query answer has no ResultCode: {str(reply)[:160]}") from None
        return StkQueryAnswer(result_code, str(reply.get("ResultDesc") or ""), reply)

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------ plumbing

    def access_token(self, *, renew: bool = False) -> str:
        with self._lock:
            if not renew and self._token and self._monotonic() < self._token_until:
                return self._token
            try:
                response = self._http.get(TOKEN_PATH, auth=self._credentials)
            except httpx.TransportError as exc:
                raise TransientSendError(f"cannot get a Daraja access token: {type(exc).__name__}") from None
            if response.status_code in (400, 401, 403):
                raise ProviderUnavailable(
                    f"Daraja refused the consumer key and secret (HTTP {response.status_code}: "
                    f"{_error_text(response)}); check the mpesa_consumer_key and mpesa_consumer_secret secrets"
                )
            if response.status_code == 429 or response.status_code >= 500:
                raise TransientSendError(f"Daraja's token service answered HTTP {response.status_code}")
            if response.status_code >= 300:
                raise ProviderUnavailable(
                    f"Daraja's token service answered HTTP {response.status_code}; check OFISI_MPESA_BASE_URL"
                )
            reply = self._json(response, TransientSendError)
            try:
                token, lifetime = str(reply["access_token"]), float(reply["expires_in"])
            except (KeyError, TypeError, ValueError):
                raise TransientSendError("Daraja's token reply has no access_token and expires_in") from None
            self._token, self._token_until = token, self._monotonic() + max(0.0, lifetime - TOKEN_MARGIN_S)
            return token

    def _post(self, path: str, body: dict[str, Any], *, after_sending: type[SendError]) -> httpx.Response:
        """POST with the bearer token; a 401 renews the token and tries once more."""
        for renew in (False, True):
            token = self.access_token(renew=renew)
            try:
                response = self._http.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                raise TransientSendError(f"cannot reach Daraja: {type(exc).__name__}") from None
            except httpx.TransportError as exc:
                raise after_sending(
                    f"Daraja did not answer ({type(exc).__name__}); the request may have been received"
                ) from None
            if response.status_code != 401:
                return response
        raise ProviderUnavailable(
            f"Daraja refused a fresh access token ({_error_text(response)}); check that the app's "
            "consumer key has Lipa na M-Pesa and that OFISI_MPESA_SHORTCODE and mpesa_passkey belong to it"
        )

    @staticmethod
    def _refusal(response: httpx.Response) -> SendError:
        status = response.status_code
        if status == 429 or status >= 500:
            return TransientSendError(f"Daraja HTTP {status}: {_error_text(response)}")
        return PermanentSendError(f"Daraja refused the request (HTTP {status}): {_error_text(response)}")

    @staticmethod
    def _json(response: httpx.Response, unreadable: type[SendError]) -> dict[str, Any]:
        try:
            reply = response.json()
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            raise unreadable(f"unreadable reply from Daraja (HTTP {response.status_code}): {response.text[:120]!r}")
        return reply
