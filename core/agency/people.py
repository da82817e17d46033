"""What a staffing agency holds about a person, for :mod:`core.people`: their worker profile (skills,
photos and certificates), their employer record, placements on either side with their payments and
disputes, employers' unlocks of their number, and packages they bought.

Erasing keeps placements, their fees and payments, and purchases (the
agency's books): a worker or employer named in them stays as "Erased worker"
or "Erased employer" with every personal field emptied, and the placements'
and disputes' notes are cleared. A profile in no placement or purchase is
deleted. Photos and certificates are deleted, their files too once the
erasure has committed.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from core.agency.files import files_root
from core.people import Erasure, Person, Piece, Section, blank, ids, register, remove, rows
from db.models_agency import (
    AgencyDispute,
    AgencyEmployer,
    AgencyPlacement,
    AgencyChange,
    AgencyEntry,
    AgencyInboxMessage,
    AgencyPurchase,
    AgencyUnlock,
    AgencyWorker,
    AgencyWorkerFile,
    AgencyWorkerSkill,
)

WORKER_BLANKS = {"name": "Erased worker", "email": None, "date_of_birth": None, "age_years": None, "bio": "",
                 "location": "", "location_key": "", "education": "", "languages": [], "background_notes": "",
                 "contact_id": None}
EMPLOYER_BLANKS = {"name": "Erased employer", "email": None, "household_name": "", "location": "",
                   "description": "", "requirements": "", "contact_id": None}


def _profiles(session: Session, person: Person, model) -> list[int]:
    match = [model.contact_id.in_(person.contact_ids)]
    if person.email:
        match.append(model.email == person.email)
    return ids(session, model.id, model.org_id == person.org.id, or_(*match))


def _phones(person: Person) -> list[str]:
    return [person.phone] if person.phone else []


def _placements(workers: list[int], employers: list[int]):
    return or_(AgencyPlacement.worker_id.in_(workers), AgencyPlacement.employer_id.in_(employers))


def export(session: Session, person: Person) -> Section:
    workers = _profiles(session, person, AgencyWorker)
    employers = _profiles(session, person, AgencyEmployer)
    placements = ids(session, AgencyPlacement.id, _placements(workers, employers))
    section = Section({
        "workers": rows(session, AgencyWorker, AgencyWorker.id.in_(workers)),
        "worker_skills": rows(session, AgencyWorkerSkill, AgencyWorkerSkill.worker_id.in_(workers)),
        "worker_files": rows(session, AgencyWorkerFile, AgencyWorkerFile.worker_id.in_(workers)),
        "employers": rows(session, AgencyEmployer, AgencyEmployer.id.in_(employers)),
        "placements": rows(session, AgencyPlacement, AgencyPlacement.id.in_(placements)),
        "placement_money": rows(session, AgencyEntry, AgencyEntry.placement_id.in_(placements)),
        "changes": rows(session, AgencyChange, or_(
            and_(AgencyChange.entity == "worker", AgencyChange.entity_id.in_(workers)),
            and_(AgencyChange.entity == "employer", AgencyChange.entity_id.in_(employers)))),
        "inbox": rows(session, AgencyInboxMessage, AgencyInboxMessage.org_id == person.org.id,
                      AgencyInboxMessage.phone.in_(_phones(person))),
        "disputes": rows(session, AgencyDispute, AgencyDispute.placement_id.in_(placements)),
        "unlocks": rows(session, AgencyUnlock, or_(AgencyUnlock.worker_id.in_(workers),
                                                   AgencyUnlock.employer_id.in_(employers))),
        "purchases": rows(session, AgencyPurchase, AgencyPurchase.employer_id.in_(employers)),
    })
    section.about = [("agency_worker", i) for i in workers] + [("agency_employer", i) for i in employers]
    section.about += [("agency_placement", i) for i in placements]
    return section


def erase(session: Session, person: Person, erasure: Erasure) -> None:
    workers = _profiles(session, person, AgencyWorker)
    employers = _profiles(session, person, AgencyEmployer)
    placements = ids(session, AgencyPlacement.id, _placements(workers, employers))
    blank(session, erasure, "agency placements", AgencyPlacement, {"notes": ""}, AgencyPlacement.id.in_(placements))
    blank(session, erasure, "agency disputes", AgencyDispute, {"notes": "", "resolution": None},
          AgencyDispute.placement_id.in_(placements))
    root = files_root().parent
    paths = [root / p for p in session.scalars(select(AgencyWorkerFile.path).where(
        AgencyWorkerFile.worker_id.in_(workers), AgencyWorkerFile.path.is_not(None)))]
    erasure.after_commit.append(lambda: _delete_files(paths))
    remove(session, erasure, "agency edit history", AgencyChange, or_(
        and_(AgencyChange.entity == "worker", AgencyChange.entity_id.in_(workers)),
        and_(AgencyChange.entity == "employer", AgencyChange.entity_id.in_(employers))))
    remove(session, erasure, "agency inbox", AgencyInboxMessage, AgencyInboxMessage.org_id == person.org.id,
           AgencyInboxMessage.phone.in_(_phones(person)))
    remove(session, erasure, "agency worker files", AgencyWorkerFile, AgencyWorkerFile.worker_id.in_(workers))
    remove(session, erasure, "agency worker skills", AgencyWorkerSkill, AgencyWorkerSkill.worker_id.in_(workers))
    remove(session, erasure, "agency unlocks", AgencyUnlock, AgencyUnlock.worker_id.in_(workers))
    in_books = exists().where(AgencyPlacement.worker_id == AgencyWorker.id)
    blank(session, erasure, "agency workers", AgencyWorker, WORKER_BLANKS, AgencyWorker.id.in_(workers), in_books)
    remove(session, erasure, "agency workers", AgencyWorker, AgencyWorker.id.in_(workers), ~in_books)
    in_books = or_(exists().where(AgencyPlacement.employer_id == AgencyEmployer.id),
                   exists().where(AgencyPurchase.employer_id == AgencyEmployer.id))
    blank(session, erasure, "agency employers", AgencyEmployer, EMPLOYER_BLANKS, AgencyEmployer.id.in_(employers),
          in_books)
    remove(session, erasure, "agency employers", AgencyEmployer, AgencyEmployer.id.in_(employers), ~in_books)


def _delete_files(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


TABLES = (
    "agency_workers",
    "agency_worker_skills",
    "agency_worker_files",
    "agency_employers",
    "agency_placements",
    "agency_entries",
    "agency_changes",
    "agency_inbox",
    "agency_disputes",
    "agency_unlocks",
    "agency_purchases",
)

register(Piece("core.agency", export, erase, covers=TABLES))
