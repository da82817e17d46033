"""People kept current on both backends: edits with their history, availability that search honours,
documents whose expiry due work warns about, matching with reasons, and the contact business's
packages, purchases marked paid by reference and subscriptions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core import jobs
from core.agency import commerce
from core.agency.documents import add_document, list_documents
from core.agency.employers import get_employer, update_employer
from core.agency.matching import Requirements, match_workers
from core.agency.workers import change_history, search_workers, set_verification, update_worker
from core.errors import Conflict, InvalidInput
from db.models import Message
from db.types import utcnow
from tests.agency_support import ACTOR, employer, worker


@pytest.fixture
def agency(session, make_org):
    return make_org(session, "agency")


def test_a_worker_is_edited_with_history_and_search_honours_availability(session, agency):
    w = worker(session, agency.id, 1)
    worker(session, agency.id, 2)
    assert {x.name for x in search_workers(session, ACTOR, agency.id).workers} == {"Worker 1", "Worker 2"}
    edited = update_worker(session, ACTOR, agency.id, w.id, {
        "availability": "unavailable", "expected_salary_minor": 1_200_000, "location": "Kiambu",
        "skills": ["childcare", "cooking"], "bio": "Ring 0722 333 444 any time"})
    assert "[contact removed]" in edited.bio and edited.notices
    assert [x.name for x in search_workers(session, ACTOR, agency.id).workers] == ["Worker 2"]
    update_worker(session, ACTOR, agency.id, w.id, {"availability": "two_weeks"})
    history = change_history(session, ACTOR, agency.id, "worker", w.id, field_name="availability")
    assert [(c.before, c.after) for c in history] == [("unavailable", "two_weeks"), ("immediate", "unavailable")]
    [salary] = change_history(session, ACTOR, agency.id, "worker", w.id, field_name="expected_salary_minor")
    assert (salary.before, salary.after) == ("1000000", "1200000")
    with pytest.raises(InvalidInput, match="already on the books as worker"):
        update_worker(session, ACTOR, agency.id, w.id, {"phone": "+254710000502"})
    moved = update_worker(session, ACTOR, agency.id, w.id, {"phone": "0733000111"})
    [change] = change_history(session, ACTOR, agency.id, "worker", w.id, field_name="phone")
    assert (moved.phone, change.before, change.after) == ("+2547•••••111", "+2547•••••501", "+2547•••••111")


def test_an_employer_is_edited_and_shows_its_credits(session, agency):
    e = employer(session, agency.id)
    e = update_employer(session, ACTOR, agency.id, e.id, {"location": "Karen", "email": "JOY@example.com"})
    assert (e.location, e.email, e.credits_left) == ("Karen", "joy@example.com", 0)
    package = commerce.add_package(session, ACTOR, agency.id, name="Five", price_minor=200_000, contacts_included=5)
    purchase = commerce.buy_package(session, ACTOR, agency.id, employer_id=e.id, package_id=package.id)
    commerce.settle_purchase(session, ACTOR, agency.id, purchase.id, paid=True, reference="QPK1ABC")
    assert get_employer(session, ACTOR, agency.id, e.id).credits_left == 5
    again = commerce.buy_package(session, ACTOR, agency.id, employer_id=e.id, package_id=package.id)
    with pytest.raises(Conflict, match="already recorded"):
        commerce.settle_purchase(session, ACTOR, agency.id, again.id, paid=True, reference="qpk1abc")
    commerce.change_package(session, ACTOR, agency.id, package.id, price_minor=250_000, retire=True)
    assert commerce.list_packages(session, ACTOR, agency.id) == []
    with pytest.raises(InvalidInput, match="retired"):
        commerce.buy_package(session, ACTOR, agency.id, employer_id=e.id, package_id=package.id)
    sub = commerce.add_subscription(session, ACTOR, agency.id, tier="Pro", monthly_fee_minor=300_000,
                                    starts_on=date(2026, 1, 1))
    commerce.cancel_subscription(session, ACTOR, agency.id, sub.id)
    assert [s.status for s in commerce.list_subscriptions(session, ACTOR, agency.id)] == ["cancelled"]


def test_documents_expiring_are_listed_and_due_work_warns_the_worker_once(session, agency, database):
    from core.agency.base import today_in
    from db.models import Org

    w = worker(session, agency.id, 1)
    today = today_in(session.get(Org, agency.id))  # the agency's own calendar
    add_document(session, ACTOR, agency.id, w.id, doc_type="good_conduct", expires_on=today + timedelta(days=10))
    add_document(session, ACTOR, agency.id, w.id, doc_type="id", expires_on=today + timedelta(days=400))
    with pytest.raises(InvalidInput, match="not a document type"):
        add_document(session, ACTOR, agency.id, w.id, doc_type="tribe card")
    [due] = list_documents(session, ACTOR, agency.id, due_within_days=30)
    assert (due.doc_type, due.days_left) == ("good_conduct", 10)
    planner = jobs.PLANNERS["agency.documents"]
    handler = jobs.HANDLERS["agency.document_expiry"]
    planner(session, utcnow())
    planner(session, utcnow())  # planning twice schedules once
    from db.models import Job

    [job] = session.scalars(select(Job).where(Job.kind == "agency.document_expiry")).all()
    handler(session, jobs.DueJob(job.id, job.org_id, job.kind, job.key, job.payload, job.due_at))
    session.commit()
    [warning] = session.scalars(select(Message.body).where(Message.to_address == "+254710000501")).all()
    assert "certificate of good conduct expires on" in warning


def test_matching_ranks_available_verified_workers_with_reasons(session, agency):
    near = worker(session, agency.id, 1, skills=["cooking", "childcare"], languages=["english"])
    far = worker(session, agency.id, 2, location="Mombasa", accommodation="live_out")
    unverified = worker(session, agency.id, 3)
    away = worker(session, agency.id, 4, availability="unavailable")
    for w in (near, far, away):
        set_verification(session, ACTOR, agency.id, w.id, "verified")
    e = employer(session, agency.id)
    found = match_workers(session, ACTOR, agency.id, e.id, Requirements(
        accommodation="live_in", skills=("childcare",), languages=("english",), location="Nairobi",
        salary_max_minor=1_100_000, start_date=date.today() + timedelta(days=7)))
    assert [m.worker.id for m in found] == [near.id, far.id]
    assert {"lives in Nairobi", "has childcare", "speaks english", "works live-in"} <= set(found[0].reasons)
    assert "wants live-out only" in found[1].reasons and "no childcare" in found[1].reasons
    assert unverified.id not in [m.worker.id for m in found]


def test_a_declined_mpesa_prompt_for_a_purchase_may_be_sent_again(session, agency):
    from db.models_payments import PaymentRequest

    e = employer(session, agency.id)
    package = commerce.add_package(session, ACTOR, agency.id, name="One", price_minor=50_000, contacts_included=1)
    purchase = commerce.buy_package(session, ACTOR, agency.id, employer_id=e.id, package_id=package.id)
    first = commerce.pay_by_mpesa(session, ACTOR, agency.id, purchase.id)
    assert commerce.pay_by_mpesa(session, ACTOR, agency.id, purchase.id) == first  # still open: the same prompt
    session.get(PaymentRequest, first).status = "cancelled"
    session.commit()
    again = commerce.pay_by_mpesa(session, ACTOR, agency.id, purchase.id)
    assert again != first and session.get(PaymentRequest, again).phone == "+254710000901"
