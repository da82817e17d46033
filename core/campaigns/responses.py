"""Inbound replies as campaign responses: an observer of every routed inbound SMS,
registered when ``core.inbound`` is installed (it lands with the inbound SMS gateway), and
the routing's knowledge that a vendor's phone belongs to the programmes whose registry holds
it (a vendor is not a contact, so without it a vendor's reply to a campaign reached nobody)."""

from __future__ import annotations

from sqlalchemy import select

from core.campaigns.service import record_response
from db.models import Org
from db.models_vendors import Vendor

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

    @inbound.sender_orgs
    def vendor_orgs(session, phone: str) -> list[int]:
        # By org first: the registry's unique (org_id, phone) index answers each org at once.
        programmes = list(session.scalars(select(Org.id).where(Org.kind == "campaigns")))
        if not programmes:
            return []
        return list(session.scalars(select(Vendor.org_id).where(Vendor.org_id.in_(programmes), Vendor.phone == phone)))
