"""The agency's rules, each first seen broken: who may be placed, dates, one person one record,
references in any case, the org's calendar, every error of an import row, money in the currency's units."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from core.agency import placements
from core.agency.importing import import_people
from core.agency.workers import record_background_check, set_verification
from core.errors import Conflict, InvalidInput, PermissionDenied
from core.users import add_user
from core.actors import Actor
from db.models_agency import AgencyPlacement
from tests.agency_support import ACTOR, employer, worker


@pytest.fixture
def agency(session, make_org):
    return make_org(session, "agency")


def test_a_rejected_and_flagged_worker_is_not_placed_without_an_admins_reason(session, agency):
    w, e = worker(session, agency.id, 1), employer(session, agency.id)
    set_verification(session, ACTOR, agency.id, w.id, "rejected")
    record_background_check(session, ACTOR, agency.id, w.id, "flagged", notes="theft reported")
    with pytest.raises(InvalidInput, match="rejected at verification and was flagged .*--override"):
        placements.add_placement(session, ACTOR, agency.id, worker_id=w.id, employer_id=e.id, status="placed")
    proposal = None
    with pytest.raises(InvalidInput, match="override"):
        proposal = placements.add_placement(session, ACTOR, agency.id, worker_id=w.id, employer_id=e.id)
    assert proposal is None
    agent = add_user(session, ACTOR, "agent@example.com", org_id=agency.id, role="agent", password="password-a1")
    with pytest.raises(PermissionDenied):
        placements.add_placement(session, Actor.staff(agent.id, "agent@example.com"), agency.id, worker_id=w.id,
                                 employer_id=e.id, status="placed", override="known to the family")
    placed = placements.add_placement(session, ACTOR, agency.id, worker_id=w.id, employer_id=e.id, status="placed",
                                      override="the family knows her and asked for her")
    assert placed.status == "placed"
    from core.audit import list_entries

    [entry] = list_entries(session, ACTOR, agency.id, what="agency.placement.add")
    assert entry.after["override"]["override"] == "the family knows her and asked for her"


def test_dates_are_checked(session, agency):
    w, e = worker(session, agency.id, 1), employer(session, agency.id)
    p = placements.add_placement(session, ACTOR, agency.id, worker_id=w.id, employer_id=e.id, status="placed",
                                 start_date=date(2026, 3, 10))
    with pytest.raises(InvalidInput, match="cannot end .* before it started"):
        placements.move_placement(session, ACTOR, agency.id, p.id, "ended", on=date(2026, 3, 1))
    with pytest.raises(InvalidInput, match="in the future"):
        record_background_check(session, ACTOR, agency.id, w.id, "cleared", checked_on=date.today() + timedelta(days=9))


def test_one_person_is_one_record_across_roles_by_phone_and_email(session, agency):
    from core.agency.employers import EmployerInput, add_employer
    from core.agency.workers import WorkerInput, add_worker
    from tests.fakes import phone

    worker(session, agency.id, 1, email="Achieng@Example.com")
    with pytest.raises(InvalidInput, match="already on the books as worker"):
        add_worker(session, ACTOR, agency.id, WorkerInput(name="Again", phone=phone(777), email="achieng@example.COM"))
    with pytest.raises(InvalidInput, match="already on the books as worker"):
        add_employer(session, ACTOR, agency.id, EmployerInput(name="Same phone", phone=phone(501)))
    employer(session, agency.id, 1)
    with pytest.raises(InvalidInput, match="already on the books as employer"):
        add_worker(session, ACTOR, agency.id, WorkerInput(name="Same phone", phone=phone(901)))


def test_a_reference_in_another_case_is_the_same_reference(session, agency):
    w, e = worker(session, agency.id, 1), employer(session, agency.id)
    p = placements.add_placement(session, ACTOR, agency.id, worker_id=w.id, employer_id=e.id, status="placed",
                                 fee_minor=1_000_000)
    placements.record_payment(session, ACTOR, agency.id, p.id, kind="fee", amount_minor=100_000,
                              reference="QXY12ABC")
    with pytest.raises(Conflict, match="already recorded"):
        placements.record_payment(session, ACTOR, agency.id, p.id, kind="fee", amount_minor=100_000,
                                  reference="qxy12abc")
    with pytest.raises(InvalidInput, match=r"more than the fee still owed \(KES 9,000\)"):
        placements.record_payment(session, ACTOR, agency.id, p.id, kind="fee", amount_minor=1_000_000,
                                  reference="QXY99")


def test_a_placement_made_on_5_december_in_nairobi_starts_on_5_december(session, agency, monkeypatch):
    import db.types

    w, e = worker(session, agency.id, 1), employer(session, agency.id)
    late_evening = datetime(2026, 12, 4, 22, 30, tzinfo=timezone.utc)  # 01:30 on 05 Dec in Nairobi
    monkeypatch.setattr(db.types, "utcnow", lambda: late_evening)
    p = placements.add_placement(session, ACTOR, agency.id, worker_id=w.id, employer_id=e.id, status="placed")
    assert p.start_date == date(2026, 12, 5)


def test_every_error_of_a_row_is_reported(session, agency, tmp_path):
    sheet = tmp_path / "workers.csv"
    sheet.write_text("name,phone,experience,salary,accommodation,availability\n"
                     ",0712000101,lots,about 7k,cottage,someday\n")
    report = import_people(session, ACTOR, agency.id, sheet, kind="workers")
    [problem] = report.errors
    for part in ("no name", "experience 'lots'", "salary 'about 7k'", "accommodation", "availability"):
        assert part in problem.message, problem.message


def test_an_import_row_that_is_someone_already_on_the_books_is_an_error_of_that_row(session, agency, tmp_path):
    employer(session, agency.id, 1)  # phone +254710000901
    sheet = tmp_path / "workers.csv"
    sheet.write_text("name,phone,email\nAmina,0710000901,\nBaraka,0712000102,b@example.org\n"
                     "Chebet,0712000103,B@Example.org\n")
    report = import_people(session, ACTOR, agency.id, sheet, kind="workers", skip_invalid=True)
    assert [(e.line, "already on the books as employer" in e.message or "earlier row" in e.message)
            for e in report.errors] == [(2, True), (4, True)]
    assert report.created == 1 and report.written
