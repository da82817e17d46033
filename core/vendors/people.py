"""What a programme's vendor registry holds about a person, for :mod:`core.people`: the vendors whose
phone, WhatsApp number or email is theirs (an owner's own business). Erasing deletes those vendors."""

from __future__ import annotations

from sqlalchemy import or_
from sqlalchemy.orm import Session

from core.people import Erasure, Person, Piece, Section, register, remove, rows
from db.models_vendors import Vendor


def _vendors(person: Person) -> list:
    match = []
    if person.phone:
        match += [Vendor.phone == person.phone, Vendor.whatsapp == person.phone]
    if person.email:
        match.append(Vendor.email == person.email)
    return [Vendor.org_id == person.org.id, or_(*match)]


def export(session: Session, person: Person) -> Section:
    section = Section({"vendors": rows(session, Vendor, *_vendors(person))})
    section.about = [("vendor", r["id"]) for r in section.rows["vendors"]]
    return section


def erase(session: Session, person: Person, erasure: Erasure) -> None:
    remove(session, erasure, "vendors", Vendor, *_vendors(person))


TABLES = ("vendors",)

register(Piece("core.vendors", export, erase, covers=TABLES))
