"""What a campaigns org holds about a person in its campaigns, for :mod:`core.people`: their replies and
survey answers (the messages sent to them are the core's outbox). Erasing deletes the replies."""

from __future__ import annotations

from sqlalchemy import or_
from sqlalchemy.orm import Session

from core.people import Erasure, Person, Piece, Section, register, remove, rows
from db.models_campaigns import CampaignResponse


def _responses(person: Person) -> list:
    match = [CampaignResponse.contact_id.in_(person.contact_ids)]
    match += [CampaignResponse.phone == address for address in person.addresses]
    return [CampaignResponse.org_id == person.org.id, or_(*match)]


def export(session: Session, person: Person) -> Section:
    return Section({"campaign_replies": rows(session, CampaignResponse, *_responses(person))})


def erase(session: Session, person: Person, erasure: Erasure) -> None:
    remove(session, erasure, "campaign replies", CampaignResponse, *_responses(person))


TABLES = ("campaign_responses",)

register(Piece("core.campaigns", export, erase, covers=TABLES))
