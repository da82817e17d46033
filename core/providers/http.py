"""What the providers that speak JSON or forms over ``httpx`` share (WhatsApp, Exotel): one
kept-alive client per sending thread, a request whose failure says whether the message may
have gone, and the meaning of an HTTP refusal."""

from __future__ import annotations

import threading
from typing import Any, NoReturn

import httpx

from core.providers import (
    AmbiguousSendError,
    PermanentSendError,
    ProviderUnavailable,
    ThrottledSendError,
    TransientSendError,
    retry_after_seconds,
)


class HttpClients:
    """One ``httpx.Client`` per thread that sends (the dispatcher's pool), closed together."""

    def __init__(self, who: str, timeout: float, **options: Any) -> None:
        self._who = who
        self._options = {"timeout": httpx.Timeout(timeout, connect=3.05), **options}
        self._local = threading.local()
        self._clients: list[httpx.Client] = []

    def post(self, url: str, **request: Any) -> tuple[httpx.Response, Any]:
        """The reply and its JSON (``{}`` when it has none); not reaching the provider is transient,
        losing the reply after the request left is ambiguous."""
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = httpx.Client(**self._options)
            self._clients.append(client)
        try:
            reply = client.post(url, **request)
        except httpx.ConnectError as exc:
            raise TransientSendError(f"cannot reach {self._who}: {type(exc).__name__}") from None
        except httpx.HTTPError as exc:
            raise AmbiguousSendError(f"{self._who} did not answer ({type(exc).__name__}); the message may have "
                                     "gone") from None
        try:
            return reply, reply.json()
        except ValueError:
            return reply, {}

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()


def refused(reply: httpx.Response, text: str, *, credentials: str, throttled: bool = False,
            unavailable: bool = False) -> NoReturn:
    """Raise what an HTTP refusal means: slow down (429), the account (401/403: check ``credentials``),
    try later (5xx), or never (any other)."""
    if throttled or reply.status_code == 429:
        raise ThrottledSendError(text, retry_after=retry_after_seconds(reply.headers.get("Retry-After")))
    if unavailable or reply.status_code in (401, 403):
        raise ProviderUnavailable(f"{text}; check {credentials}")
    if reply.status_code >= 500:
        raise TransientSendError(text)
    raise PermanentSendError(text)
