"""SMS to India: DLT registration on every message, and the route that sends Indian numbers
through an Indian gateway (:mod:`core.providers.exotel`) while the rest go as before.

India's DLT rules (TRAI) drop any SMS to an Indian number that does not name the sender's
registered entity and the registered template it follows. A campaign writes both into the
outbox row's subject (an SMS has no other use for it) as ``dlt:<entity id>:<template id>``;
the Indian provider reads them from there and refuses a message without them.

The org's own SMS that no campaign template covers (STOP's confirmation, answers to a vendor's
SMS, reminders) follow templates the org registers once per kind (:data:`REPLY_KINDS`,
``ofisi campaigns settings --dlt-template KIND=ID``); the outbox attaches them, and records an
SMS to India whose kind has none as failed, saying what to register, instead of sending it.
"""

from __future__ import annotations

from core.providers import OutgoingMessage, Provider, SendError, SendResult

DLT_PREFIX = "dlt:"
INDIA = "+91"


# The kinds of an org's own SMS that each follow one registered DLT template, and what they are.
# An outbox message is of its purpose's kind (transactional, service) unless its sender names one.
REPLY_KINDS = {
    "opt-out": "opt-out confirmations (the answer to STOP)",
    "opt-in": "opt-in confirmations (the answer to START)",
    "reply": "answers to a person's SMS (keyword answers, acknowledgements)",
    "transactional": "transactional SMS (codes, receipts, what a person's request calls for)",
    "service": "service SMS (reminders, statements, notices)",
}


def india_route() -> bool:
    """Whether SMS to Indian numbers go through the Indian provider here (``exotel_account_sid``
    is set): then India's DLT rules apply to every SMS to +91."""
    from config import get_settings

    return bool(get_settings().exotel_account_sid)


def dlt_subject(entity_id: str | None, template_id: str) -> str:
    return f"{DLT_PREFIX}{entity_id or ''}:{template_id}"


def read_dlt(subject: str | None) -> tuple[str | None, str | None]:
    """(entity id, template id) an SMS row carries, each None when missing."""
    if not subject or not subject.startswith(DLT_PREFIX):
        return None, None
    entity, _, template = subject[len(DLT_PREFIX):].partition(":")
    return entity or None, template or None


class CountryRoute:
    """The SMS provider that sends each message by its destination: numbers under a prefix
    (``+91``) through that country's provider, every other through the default one."""

    def __init__(self, default: Provider, by_prefix: dict[str, Provider]) -> None:
        self._default, self._routes = default, dict(by_prefix)
        self.name = default.name

    def provider_for(self, to: str) -> Provider:
        return next((p for prefix, p in self._routes.items() if to.startswith(prefix)), self._default)

    def name_for(self, to: str) -> str:
        """The name of the provider that carries a message to ``to``: what the message is recorded
        under, so that provider's delivery reports find it."""
        return self.provider_for(to).name

    def send(self, message: OutgoingMessage) -> SendResult:
        return self.provider_for(message.to).send(message)

    def send_many(self, messages: list[OutgoingMessage]) -> list[SendResult | SendError]:
        """One outcome per message, in order: each route's share goes in one bulk request where its
        provider has one."""
        groups: dict[int, list[int]] = {}
        providers: dict[int, Provider] = {}
        for i, message in enumerate(messages):
            provider = self.provider_for(message.to)
            providers[id(provider)] = provider
            groups.setdefault(id(provider), []).append(i)
        outcomes: list[SendResult | SendError | None] = [None] * len(messages)
        for key, indexes in groups.items():
            provider, share = providers[key], [messages[i] for i in indexes]
            if hasattr(provider, "send_many"):
                try:
                    results = provider.send_many(share)
                except SendError as exc:
                    results = [exc] * len(share)
            else:
                results = []
                for m in share:
                    try:
                        results.append(provider.send(m))
                    except SendError as exc:
                        results.append(exc)
            for i, result in zip(indexes, results):
                outcomes[i] = result
        return outcomes  # type: ignore[return-value]

    def close(self) -> None:
        for provider in {id(p): p for p in [self._default, *self._routes.values()]}.values():
            provider.close()
