"""Inbound replies as campaign responses: an observer of every routed inbound SMS,
registered when ``core.inbound`` is installed (it lands with the inbound SMS gateway)."""

from __future__ import annotations

from core.campaigns.service import record_response

try:
    from core import inbound
except ImportError:  # no inbound SMS routing in this installation yet
    inbound = None

if inbound is not None and hasattr(inbound, "observer"):
    @inbound.observer
    def campaign_reply(session, sms) -> None:
        record_response(session, sms.org_id, phone=sms.phone, text=sms.text, received_at=sms.received_at,
                        inbound_id=sms.id, contact_id=sms.contact_id)
        return None
