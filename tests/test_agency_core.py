"""Agency services on both backends: masking, unlocks, placements, the report, files, search."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from core.agency import commerce, placements
from core.agency.exports import export_rows
from core.agency.files import MAX_BYTES, list_files, store_file, verify_file
from core.agency.reports import agency_report
from core.agency.workers import (
    WorkerFilters, get_worker, record_background_check, search_workers, set_verification, sms_worker,
)
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.users import add_user
from core.actors import Actor
from db.models import Message
from db.models_agency import AgencyPlacement
from db.types import utcnow
from tests.agency_support import ACTOR, employer, with_credits, worker
from tests.fakes import phone


@pytest.fixture
def agency(session, make_org):
    return make_org(session, "agency")


def everything_said(obj) -> str:
    return json.dumps(obj if isinstance(obj, (dict, list)) else asdict(obj), default=str)


def test_the_phone_is_masked_in_views_search_and_export_until_unlocked(session, agency):
    w = worker(session, agency.id, 1)
    e = employer(session, agency.id)
    number = phone(501)
    assert w.phone == "+2547•••••501" and not w.phone_unlocked
    seen = [get_worker(session, ACTOR, agency.id, w.id),
            *search_workers(session, ACTOR, agency.id).workers,
            *search_workers(session, ACTOR, agency.id, employer_id=e.id).workers,
            *export_rows(session, ACTOR, agency.id, "workers")]
    assert seen and all(number not in everything_said(v) and number[1:] not in everything_said(v) for v in seen)

    with_credits(session, agency.id, e.id)
    with pytest.raises(PermissionDenied, match="has not unlocked"):
        commerce.reveal_phone(session, ACTOR, agency.id, employer_id=e.id, worker_id=w.id)
    commerce.unlock_contact(session, ACTOR, agency.id, employer_id=e.id, worker_id=w.id)
    assert get_worker(session, ACTOR, agency.id, w.id, employer_id=e.id).phone == number
    # Still masked for everyone else, and in exports.
    other = employer(session, agency.id, 2)
    assert get_worker(session, ACTOR, agency.id, w.id, employer_id=other.id).phone == "+2547•••••501"
    assert number not in everything_said(list(export_rows(session, ACTOR, agency.id, "workers")))


def test_an_unlock_without_credits_is_refused_with_the_reason(session, agency):
    w, e = worker(session, agency.id, 1), employer(session, agency.id)
    with pytest.raises(commerce.NoCredits, match="Employer 1 has no contact credits left: buy a contact package"):
        commerce.unlock_contact(session, ACTOR, agency.id, employer_id=e.id, worker_id=w.id)
    package = commerce.add_package(session, ACTOR, agency.id, name="Starter", price_minor=50_000, contacts_included=1)
    commerce.buy_package(session, ACTOR, agency.id, employer_id=e.id, package_id=package.id)  # pending: no credit
    with pytest.raises(commerce.NoCredits):
        commerce.unlock_contact(session, ACTOR, agency.id, employer_id=e.id, worker_id=w.id)
    assert commerce.list_unlocks(session, ACTOR, agency.id) == []


def test_unlocking_the_same_worker_twice_costs_one_credit(session, agency):
    w1, w2, e = worker(session, agency.id, 1), worker(session, agency.id, 2), employer(session, agency.id)
    with_credits(session, agency.id, e.id, contacts=2)
    first = commerce.unlock_contact(session, ACTOR, agency.id, employer_id=e.id, worker_id=w1.id)
    again = commerce.unlock_contact(session, ACTOR, agency.id, employer_id=e.id, worker_id=w1.id)
    assert (first.charged, first.credits_left) == (True, 1)
    assert (again.charged, again.credits_left, again.unlock_id) == (False, 1, first.unlock_id)
    commerce.unlock_contact(session, ACTOR, agency.id, employer_id=e.id, worker_id=w2.id)
    with pytest.raises(commerce.NoCredits):
        commerce.unlock_contact(session, ACTOR, agency.id, employer_id=e.id,
                                worker_id=worker(session, agency.id, 3).id)
    history = commerce.list_unlocks(session, ACTOR, agency.id)
    assert [u.worker_name for u in history] == ["Worker 2", "Worker 1"]


def test_one_worker_cannot_be_in_two_active_placements(session, agency):
    w = worker(session, agency.id, 1)
    e1, e2 = employer(session, agency.id, 1), employer(session, agency.id, 2)
    placed = placements.add_placement(session, ACTOR, agency.id, worker_id=w.id, employer_id=e1.id,
                                      fee_minor=500_000, status="placed")
    # A proposal to another employer is allowed; placing it is not.
    proposal = placements.add_placement(session, ACTOR, agency.id, worker_id=w.id, employer_id=e2.id)
    with pytest.raises(Conflict, match="Worker 1 is already placed with Employer 1; end that placement first"):
        placements.move_placement(session, ACTOR, agency.id, proposal.id, "placed")
    with pytest.raises(Conflict, match="already placed"):
        placements.add_placement(session, ACTOR, agency.id, worker_id=w.id, employer_id=e2.id, status="placed")
    assert placements.get_placement(session, ACTOR, agency.id, proposal.id).status == "proposed"
    # The database itself refuses it, whatever the code above does.
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            session.add(AgencyPlacement(org_id=agency.id, worker_id=w.id, employer_id=e2.id, status="disputed"))
            session.flush()
    placements.move_placement(session, ACTOR, agency.id, placed.id, "ended")
    assert placements.move_placement(session, ACTOR, agency.id, proposal.id, "placed").status == "placed"
    assert search_workers(session, ACTOR, agency.id).workers == []  # placed workers are not offered
    assert len(search_workers(session, ACTOR, agency.id, WorkerFilters(include_placed=True)).workers) == 1


def test_fees_and_commissions_add_up_in_the_report(session, agency):
    e = employer(session, agency.id)
    made = []
    for i, (fee, commission) in enumerate([(500_000, 100_000), (800_000, 0), (300_000, 50_000)], start=1):
        w = worker(session, agency.id, i)
        made.append(placements.add_placement(session, ACTOR, agency.id, worker_id=w.id, employer_id=e.id,
                                             fee_minor=fee, commission_minor=commission, status="placed"))
    placements.add_placement(session, ACTOR, agency.id, worker_id=worker(session, agency.id, 9).id,
                             employer_id=e.id, fee_minor=999_900)  # a proposal earns nothing yet
    placements.record_payment(session, ACTOR, agency.id, made[0].id, kind="fee", amount_minor=500_000,
                              reference="QAB1")
    placements.record_payment(session, ACTOR, agency.id, made[0].id, kind="commission", amount_minor=40_000,
                              reference="QAB2")
    placements.record_payment(session, ACTOR, agency.id, made[1].id, kind="fee", amount_minor=200_000,
                              reference="QAB3")
    with pytest.raises(Conflict, match="QAB3 is already recorded"):
        placements.record_payment(session, ACTOR, agency.id, made[2].id, kind="fee", amount_minor=1,
                                  reference="QAB3")
    with pytest.raises(InvalidInput, match="more than the fee still owed"):
        placements.record_payment(session, ACTOR, agency.id, made[1].id, kind="fee", amount_minor=600_001,
                                  reference="QAB4")
    # One placement moved into an earlier month, proposed 10 days before it was placed.
    now = utcnow()
    session.execute(text("UPDATE agency_placements SET placed_at = :p, proposed_at = :q WHERE id = :id"),
                    {"p": now - timedelta(days=62), "q": now - timedelta(days=72), "id": made[2].id})
    report = agency_report(session, ACTOR, agency.id)
    t = report.total
    assert (t.placed, t.fee_minor, t.commission_minor) == (3, 1_600_000, 150_000)
    assert (t.fee_received_minor, t.commission_received_minor) == (700_000, 40_000)
    assert t.owed_minor == 1_600_000 + 150_000 - 740_000
    assert len(report.months) == 2 and report.proposed_open == 1
    for field in ("placed", "fee_minor", "commission_minor", "fee_received_minor", "commission_received_minor",
                  "owed_minor"):
        assert sum(getattr(m, field) for m in report.months) == getattr(t, field)
    for m in [*report.months, t]:
        assert m.fee_minor + m.commission_minor == m.fee_received_minor + m.commission_received_minor + m.owed_minor
    assert report.months[0].average_days_to_placement == 10.0
    owed = sum(p.owed_minor for p in placements.list_placements(session, ACTOR, agency.id))
    assert owed == t.owed_minor  # one book: a proposal owes nothing, in the list as in the report


def test_disputes_open_and_resolve(session, agency):
    w, e = worker(session, agency.id, 1), employer(session, agency.id)
    p = placements.add_placement(session, ACTOR, agency.id, worker_id=w.id, employer_id=e.id, status="placed")
    with pytest.raises(InvalidInput, match="Say what the dispute is about"):
        placements.open_dispute(session, ACTOR, agency.id, p.id, " ")
    dispute = placements.open_dispute(session, ACTOR, agency.id, p.id, "Salary paid late")
    assert placements.get_placement(session, ACTOR, agency.id, p.id).status == "disputed"
    resolved = placements.resolve_dispute(session, ACTOR, agency.id, dispute, "Paid in full", end_placement=True)
    assert resolved.status == "ended" and resolved.end_date is not None


def test_search_filters_rank_and_pages(session, agency):
    worker(session, agency.id, 1, location="Nakuru", skills=["cooking", "childcare"], experience_years=6)
    worker(session, agency.id, 2, location="nakuru ", accommodation="live_out", expected_salary_minor=2_000_000)
    worker(session, agency.id, 3, location="Nakuru", availability="one_month", skills=["childcare"])
    w4 = worker(session, agency.id, 4, location="Nakuru", accommodation="either")
    set_verification(session, ACTOR, agency.id, w4.id, "verified")
    record_background_check(session, ACTOR, agency.id, w4.id, "cleared", notes="Police clearance seen")

    def names(**kw):
        filters = WorkerFilters(location="NAKURU", **kw)
        return [w.name for w in search_workers(session, ACTOR, agency.id, filters).workers]

    assert names() == ["Worker 4", "Worker 1", "Worker 2", "Worker 3"]  # verified+cleared, then experience
    assert names(accommodation="live_in") == ["Worker 4", "Worker 1", "Worker 3"]  # "either" matches too
    assert names(salary_max_minor=1_500_000) == ["Worker 4", "Worker 1", "Worker 3"]
    assert names(salary_min_minor=1_500_000) == ["Worker 2"]
    assert names(skills=("Childcare",)) == ["Worker 1", "Worker 3"]
    assert names(skills=("childcare", "cooking")) == ["Worker 1"]
    assert names(min_experience=5) == ["Worker 1"]
    assert names(availability=("one_month",)) == ["Worker 3"]
    assert names(verified_only=True) == ["Worker 4"]
    first = search_workers(session, ACTOR, agency.id, limit=3)
    rest = search_workers(session, ACTOR, agency.id, limit=3, after=first.next_after)
    by_offset = search_workers(session, ACTOR, agency.id, limit=3, offset=3)
    assert len(first.workers) == 3 and rest.next_after is None
    assert [w.id for w in rest.workers] == [w.id for w in by_offset.workers] and len(rest.workers) == 1


def test_a_flagged_check_needs_notes(session, agency):
    w = worker(session, agency.id, 1)
    with pytest.raises(InvalidInput, match="Say why the worker is flagged"):
        record_background_check(session, ACTOR, agency.id, w.id, "flagged")
    flagged = record_background_check(session, ACTOR, agency.id, w.id, "flagged", notes="Reference did not match")
    assert flagged.background_check == "flagged" and flagged.rank_score < 0


def test_another_agencys_worker_does_not_exist(session, agency, make_org, cli_actor):
    other = make_org(session, "agency")
    w = worker(session, other.id, 1)
    user = add_user(session, cli_actor, "agent@a.example", org_id=agency.id, role="agent", password="password-a1")
    agent = Actor.staff(user.id, user.email)
    with pytest.raises(NotFound):
        get_worker(session, agent, agency.id, w.id)
    with pytest.raises(NotFound):
        search_workers(session, agent, other.id)
    with pytest.raises(PermissionDenied, match="agency.money"):
        commerce.add_package(session, agent, agency.id, name="x", price_minor=1, contacts_included=1)


def test_an_sms_goes_through_the_outbox_without_showing_the_number(session, agency):
    w = worker(session, agency.id, 1)
    message_id = sms_worker(session, ACTOR, agency.id, w.id, "Interview tomorrow at 10")
    message = session.get(Message, message_id)
    assert (message.to_address, message.status) == (phone(501), "queued")
    nophone = worker(session, agency.id, 2, phone=None)
    with pytest.raises(InvalidInput, match="no phone number on record"):
        sms_worker(session, ACTOR, agency.id, nophone.id, "Hello")


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_photos_are_checked_and_kept_by_checksum(session, agency, tmp_path):
    w = worker(session, agency.id, 1)
    photo = tmp_path / "me.png"
    photo.write_bytes(PNG)
    stored = store_file(session, ACTOR, agency.id, w.id, photo, kind="photo")
    assert (stored.content_type, stored.size_bytes) == ("image/png", len(PNG)) and verify_file(stored)
    assert store_file(session, ACTOR, agency.id, w.id, photo, kind="photo").id == stored.id  # same bytes, once
    fake = tmp_path / "cv.jpg"
    fake.write_bytes(b"MZ not a picture")
    with pytest.raises(InvalidInput, match="not a JPEG, PNG, WebP or PDF"):
        store_file(session, ACTOR, agency.id, w.id, fake, kind="photo")
    pdf = tmp_path / "first-aid.pdf"
    pdf.write_bytes(b"%PDF-1.4 certificate")
    with pytest.raises(InvalidInput, match="a photo must be JPEG, PNG or WebP"):
        store_file(session, ACTOR, agency.id, w.id, pdf, kind="photo")
    assert store_file(session, ACTOR, agency.id, w.id, pdf, kind="certificate", title="First Aid").title == "First Aid"
    big = tmp_path / "big.png"
    big.write_bytes(PNG + b"\x00" * MAX_BYTES)
    with pytest.raises(InvalidInput, match="must be between 1 byte and 5 MB"):
        store_file(session, ACTOR, agency.id, w.id, big, kind="photo")
    assert [f.kind for f in list_files(session, ACTOR, agency.id, w.id)] == ["photo", "certificate"]
    from core.agency.files import files_root

    (files_root().parent / stored.path).write_bytes(PNG + b"tampered")
    assert not verify_file(stored)
