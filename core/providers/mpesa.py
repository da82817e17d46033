"""M-Pesa Daraja (Safaricom) over ``httpx``: STK push and STK query, C2B URL registration
(v2), B2C payments (v3) and the Transaction Status query.

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
REGISTER_PATH = "/mpesa/c2b/v2/registerurl"
B2C_PATH = "/mpesa/b2c/v3/paymentrequest"
STATUS_PATH = "/mpesa/transactionstatus/v1/query"
C2B_VALIDATION_PATH, C2B_CONFIRMATION_PATH = "/mpesa/c2b/validation", "/mpesa/c2b/confirmation"
B2C_RESULT_PATH, B2C_TIMEOUT_PATH = "/mpesa/b2c/result", "/mpesa/b2c/timeout"
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


@dataclass(frozen=True)
class B2CAccepted:
    """Daraja took a B2C payment (or a status query) into its queue; the result comes later by callback."""

    originator_id: str
    conversation_id: str
    description: str


def callback_url(public_url: str, token: str | None, path: str = CALLBACK_PATH) -> str:
    """Where Daraja posts results to ``path`` of the gateway, with the callback token when there is one."""
    url = public_url.rstrip("/") + path
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
        initiator_name: str | None = None,
        security_credential: str | None = None,
        public_url: str | None = None,
        callback_token: str | None = None,
        b2c_shortcode: str | None = None,
        timeout: httpx.Timeout = httpx.Timeout(30.0, connect=5.0),
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.shortcode = shortcode
        self.callback_url = callback_url
        self._credentials = (consumer_key, consumer_secret)
        self._passkey = passkey
        self._initiator = (initiator_name, security_credential)
        self.public_url, self.callback_token = public_url, callback_token
        self.b2c_shortcode = b2c_shortcode or shortcode
        self._clock = clock
        self._monotonic = monotonic
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)
        self._lock = threading.Lock()
        self._token: str | None = None
        self._token_until = 0.0

    @classmethod
    def from_settings(cls, settings, *, stk: bool = True) -> DarajaClient:
        """The client this installation is configured for, or ``ProviderUnavailable`` saying what is missing.

        ``stk=False`` is for C2B and B2C, which need no STK passkey (B2C asks for its initiator when used).
        """
        from config.settings import SettingsError

        if not settings.mpesa_shortcode:
            raise ProviderUnavailable("M-Pesa is not set up: set OFISI_MPESA_SHORTCODE to the paybill short code.")
        try:
            key = settings.secret("mpesa_consumer_key").reveal()
            secret = settings.secret("mpesa_consumer_secret").reveal()
            passkey = settings.secret("mpesa_passkey").reveal() if stk else ""
        except SettingsError as exc:
            raise ProviderUnavailable(str(exc)) from None

        def optional(name: str) -> str | None:
            value = settings.secret(name, required=False)
            return value.reveal() if value else None

        token = optional("callback_token")
        return cls(base_url=settings.mpesa_base_url, consumer_key=key, consumer_secret=secret,
                   shortcode=str(settings.mpesa_shortcode), passkey=passkey,
                   callback_url=callback_url(settings.public_url, token),
                   initiator_name=optional("mpesa_initiator_name"),
                   security_credential=optional("mpesa_security_credential"),
                   public_url=settings.public_url, callback_token=token,
                   b2c_shortcode=getattr(settings, "mpesa_b2c_shortcode", None))

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

    def url_for(self, path: str) -> str:
        """The gateway's ``path`` as Daraja must call it (public URL and callback token)."""
        return callback_url(self.public_url or "", self.callback_token, path)

    def register_c2b_urls(self, *, shortcode: str, response_type: str = "Cancelled") -> dict[str, Any]:
        """C2B v2 ``registerurl``: where Daraja validates and confirms payments to ``shortcode``.

        ``response_type`` is what M-Pesa does when the validation URL cannot be reached:
        ``Cancelled`` (refuse the payment) or ``Completed`` (take it).
        """
        if response_type not in ("Cancelled", "Completed"):
            raise PermanentSendError("the response type is Cancelled or Completed")
        body = {"ShortCode": shortcode, "ResponseType": response_type,
                "ConfirmationURL": self.url_for(C2B_CONFIRMATION_PATH),
                "ValidationURL": self.url_for(C2B_VALIDATION_PATH)}
        response = self._post(REGISTER_PATH, body, after_sending=TransientSendError)
        if response.status_code >= 400:
            raise self._refusal(response)
        reply = self._json(response, TransientSendError)
        if str(reply.get("ResponseCode", "")).strip() not in ("0", "00000000"):
            raise PermanentSendError(f"Daraja did not register the URLs: {reply.get('ResponseCode')} "
                                     f"{reply.get('ResponseDescription', '')}".strip())
        return reply

    def initiator(self) -> tuple[str, str]:
        """The B2C initiator's name and security credential, or ``ProviderUnavailable`` saying what to set."""
        name, credential = self._initiator
        if not name or not credential:
            raise ProviderUnavailable("M-Pesa B2C is not set up: run `ofisi secrets set mpesa_initiator_name` and "
                                      "`ofisi secrets set mpesa_security_credential` (the initiator from the org "
                                      "portal and its encrypted password).")
        return name, credential

    def b2c_payment(self, *, originator_id: str, phone: str, amount_minor: int, currency: str,
                    remarks: str, occasion: str = "") -> B2CAccepted:
        """Send money to ``phone`` (E.164) from the B2C short code; the result comes to the gateway.

        The request carries our ``originator_id`` (OriginatorConversationID), so
        a lost answer can be asked about with :meth:`transaction_status`.
        """
        name, credential = self.initiator()
        if currency.upper() != "KES":
            raise PermanentSendError(f"M-Pesa B2C pays Kenyan shillings, not {currency}")
        shillings, cents = divmod(amount_minor, 10 ** exponent(currency))
        if cents or shillings < 10:
            raise PermanentSendError(f"M-Pesa B2C pays whole shillings of at least 10; {amount_minor} cents is not")
        body = {"OriginatorConversationID": originator_id, "InitiatorName": name,
                "SecurityCredential": credential, "CommandID": "BusinessPayment", "Amount": shillings,
                "PartyA": self.b2c_shortcode, "PartyB": to_daraja(phone), "Remarks": remarks[:100] or "Payment",
                "QueueTimeOutURL": self.url_for(B2C_TIMEOUT_PATH), "ResultURL": self.url_for(B2C_RESULT_PATH),
                "Occassion": occasion[:100]}  # sic: Daraja's own spelling
        return self._queued(B2C_PATH, body, AmbiguousSendError, originator_id)

    def transaction_status(self, *, query_id: str, original_originator_id: str,
                           transaction_id: str | None = None) -> B2CAccepted:
        """Ask what became of a B2C payment (by its receipt, else by its OriginatorConversationID);
        Daraja answers at the result URL. A read: every transport failure is transient."""
        name, credential = self.initiator()
        body = {"Initiator": name, "SecurityCredential": credential, "CommandID": "TransactionStatusQuery",
                "TransactionID": transaction_id or "", "OriginalConversationID": original_originator_id,
                "OriginatorConversationID": query_id, "PartyA": self.b2c_shortcode, "IdentifierType": "4",
                "ResultURL": self.url_for(B2C_RESULT_PATH), "QueueTimeOutURL": self.url_for(B2C_TIMEOUT_PATH),
                "Remarks": "status", "Occasion": ""}
        return self._queued(STATUS_PATH, body, TransientSendError, query_id)

    def _queued(self, path: str, body: dict[str, Any], after_sending: type[SendError],
                originator_id: str) -> B2CAccepted:
        response = self._post(path, body, after_sending=after_sending)
        if response.status_code >= 500:  # Daraja had the request and failed somewhere: it may go ahead
            raise after_sending(f"Daraja HTTP {response.status_code}: {_error_text(response)}")
        if response.status_code >= 400:
            raise self._refusal(response)
        reply = self._json(response, after_sending)
        if str(reply.get("ResponseCode")) != "0":
            raise PermanentSendError(f"Daraja did not accept it: {reply.get('ResponseCode')} "
                                     f"{reply.get('ResponseDescription', '')}".strip())
        return B2CAccepted(str(reply.get("OriginatorConversationID") or originator_id),
                           str(reply.get("ConversationID") or ""), str(reply.get("ResponseDescription") or ""))

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
