"""A person's data: `ofisi person export` finds them in every area, `erase` forgets them in one
transaction, keeps the books (a chama's sums do not move) and leaves other orgs' records alone."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from core import audit, outbox
from core.actors import Actor
from core.agency.employers import EmployerInput, add_employer
from core.agency.placements import add_placement
from core.agency.workers import WorkerInput, add_worker
from core.campaigns.service import create_campaign
from core.chama import ledger
from core.chama.members import add_member
from core.community import events, social
from core.community.accounts import create_account
from core.contacts import upsert_contact
from core.errors import Conflict, NotFound, PermissionDenied
from core.people import NOT_ONE_ORGS_PERSON, erase_person, export_person, pieces
from core.registry import AREAS
from core.salon.bookings import book
from core.salon.conversations import record_inbound
from core.salon.leads import LeadDetails, add_lead
from core.users import add_user
from core.vendors import add_vendor
from db.models import AuditEntry, Contact, Message, OptOut
from db.models_campaigns import CampaignResponse
from db.models_chama import ChamaLedgerEntry, ChamaMember
from db.models_community import CommunityAccount
from db.models_salon import SalonAppointment, SalonLead
from db.models_vendors import Vendor
from tests.payments_support import ask
from tests.salon_support import make_salon
from tests.test_cli import ofisi_here  # noqa: F401  (fixture)

ACTOR = Actor.system_actor("cli:test")
PHONE, EMAIL = "+254712345678", "wanjiku@example.com"
NOW = datetime(2026, 3, 1, 6, 0, tzinfo=timezone.utc)


@pytest.fixture
def everywhere(session, make_org):
    """Wanjiku (``PHONE``) in a salon, two chamas, an agency, a programme and a community."""
    salon = make_salon(session)  # its one client has PHONE
    book(session, ACTOR, salon.org.id, professional_id=salon.pro.id, service_id=salon.service.id,
         contact_id=salon.client.id, start=datetime(2026, 3, 3, 10, 0, tzinfo=salon.tz), notes="Allergic to X", now=NOW)
    record_inbound(session, salon.org.id, PHONE, "Do you do braids on Sunday?")
    add_lead(session, ACTOR, salon.org.id, LeadDetails(phone=PHONE, name="Wanjiku", email=EMAIL, message="Braids?"))
    session.commit()

    chamas = []
    for slug in ("umoja", "jamii"):
        chama = make_org(session, "chama", slug=slug)
        official = add_member(session, ACTOR, chama.id, name="Chair Person", phone="0722000001", role="chair")
        member = add_member(session, ACTOR, chama.id, name="Wanjiku Kamau", phone="0712 345 678")
        for n, (who, amount) in enumerate(((member, 150_000), (official, 90_000), (member, 50_000))):
            ledger.record_contribution(session, ACTOR, chama.id, who.id, amount, source="cash", reference=f"R{n}")
        ask(session, chama.id)  # an M-Pesa request to PHONE
        session.commit()
        chamas.append((chama, member))

    agency = make_org(session, "agency")
    worker = add_worker(session, ACTOR, agency.id, WorkerInput(
        name="Wanjiku Kamau", phone=PHONE, location="Nairobi", experience_years=3, expected_salary_minor=1_000_000,
        accommodation="live_in", availability="immediate", skills=["cooking"], bio="Cooks for large families"))
    household = add_employer(session, ACTOR, agency.id, EmployerInput(name="Otieno", phone="0733000001",
                                                                      household_name="Otieno home"))
    add_placement(session, ACTOR, agency.id, worker_id=worker.id, employer_id=household.id, fee_minor=500_000,
                  notes="Wanjiku prefers weekends off")

    programme = make_org(session, "campaigns")
    add_vendor(session, ACTOR, programme.id, business_name="Mama Wanjiku Foods", owner_name="Wanjiku Kamau",
               phone=PHONE, email=EMAIL)
    contact = upsert_contact(session, ACTOR, programme.id, name="Wanjiku Kamau", phone=PHONE)
    campaign = create_campaign(session, ACTOR, programme.id, name="Grants", text="Apply by Friday")
    session.add(CampaignResponse(org_id=programme.id, campaign_id=campaign.id, phone=PHONE, contact_id=contact.id,
                                 text="YES please"))
    outbox.enqueue(session, programme.id, to=PHONE, body="Karibu Wanjiku", purpose="transactional",
                   idempotency_key="welcome")
    session.commit()

    community = make_org(session, "community")
    account = create_account(session, ACTOR, community.id, display_name="Wanjiku K", phone=PHONE, email=EMAIL)
    event = events.create_event(session, ACTOR, community.id, title="Pitch night", starts_at=NOW + timedelta(days=400),
                                ends_at=NOW + timedelta(days=400, hours=2), capacity=1, venue="iHub")
    other = create_account(session, ACTOR, community.id, display_name="Next In Line", phone="0799000001")
    events.register(session, ACTOR, community.id, event.id, account.id)
    events.register(session, ACTOR, community.id, event.id, other.id)  # waitlisted behind her
    social.create_post(session, ACTOR, community.id, account.primary.id, body="My first pitch")
    outbox.enqueue(session, community.id, to=PHONE, body="Your code is 123456",
                   purpose="transactional", secret=True, idempotency_key="community:otp:77")
    session.commit()
    return {"salon": salon.org, "chamas": chamas, "agency": agency, "programme": programme,
            "community": community, "event": event.id, "other": other.id}


def test_every_area_has_a_piece_and_every_table_of_peoples_data_is_covered(monkeypatch):
    from db import load_all_models
    from db.models import Base

    assert [p.area for p in pieces()] == [*AREAS, "core"]
    covered = {table for piece in pieces() for table in piece.covers} | set(NOT_ONE_ORGS_PERSON)
    load_all_models()
    personal = {"phone", "email", "address", "to_address", "from_phone", "name", "display_name", "owner_name",
                "payee", "approver_name", "body", "text", "message", "bio", "notes", "raw", "last_text"}
    uncovered = [t.name for t in Base.metadata.sorted_tables if personal & {c.name for c in t.columns}
                 and t.name not in covered]
    assert uncovered == []
    monkeypatch.setattr("core.people.AREAS", [*AREAS, "core.newarea"])
    with pytest.raises(RuntimeError, match="core.newarea says nothing of the personal data it holds"):
        pieces()


def test_export_finds_the_person_in_every_area_and_never_a_code(session, everywhere):
    salon = export_person(session, ACTOR, everywhere["salon"].id, "0712 345 678")
    assert salon.person == PHONE
    assert salon.areas["core.salon"]["appointments"][0]["notes"] == "Allergic to X"
    assert [m["body"] for m in salon.areas["core.salon"]["conversation"]] == ["Do you do braids on Sunday?"]
    assert salon.areas["core.salon"]["leads"][0]["phone"] == PHONE
    assert salon.areas["core"]["contacts"][0]["name"] == "Wanjiku Kamau"

    umoja, member = everywhere["chamas"][0]
    chama = export_person(session, ACTOR, umoja.id, PHONE)
    assert [e["amount_minor"] for e in chama.areas["core.chama"]["ledger"]] == [150_000, 50_000]
    assert chama.areas["core.payments"]["mpesa_requests"][0]["phone"] == PHONE
    assert {r["action"] for r in chama.areas["core"]["audit_log"]} >= {"chama.member.add", "chama.contribution"}

    agency = export_person(session, ACTOR, everywhere["agency"].id, PHONE)
    assert agency.areas["core.agency"]["workers"][0]["bio"] == "Cooks for large families"
    assert agency.areas["core.agency"]["placements"][0]["notes"] == "Wanjiku prefers weekends off"

    programme = export_person(session, ACTOR, everywhere["programme"].id, PHONE)
    assert programme.areas["core.vendors"]["vendors"][0]["business_name"] == "Mama Wanjiku Foods"
    assert programme.areas["core.campaigns"]["campaign_replies"][0]["text"] == "YES please"
    assert [m["body"] for m in programme.areas["core"]["messages"]] == ["Karibu Wanjiku"]
    assert export_person(session, ACTOR, everywhere["programme"].id, EMAIL).areas["core.vendors"]["vendors"]

    community = export_person(session, ACTOR, everywhere["community"].id, PHONE)
    assert community.areas["core.community"]["posts"][0]["body"] == "My first pitch"
    assert community.areas["core.community"]["registrations"][0]["status"] == "registered"
    assert "Your code is" not in json.dumps(community.areas)  # a code's body is never exported
    assert "(a one-time code: not shown)" in [m["body"] for m in community.areas["core"]["messages"]]
    assert session.scalar(select(func.count()).select_from(AuditEntry)
                          .where(AuditEntry.action == "person.export")) == 6


def test_erase_keeps_the_books_and_forgets_the_person(session, everywhere):
    umoja, member = everywhere["chamas"][0]
    jamii, other_member = everywhere["chamas"][1]
    totals = ledger.sums(session, umoja.id)
    theirs = ledger.sums(session, umoja.id, member_id=member.id)
    entries = session.scalar(select(func.count()).select_from(ChamaLedgerEntry).where(ChamaLedgerEntry.org_id == umoja.id))

    done = erase_person(session, ACTOR, umoja.id, PHONE)
    assert done.anonymised["chama members"] == 1 and done.anonymised["M-Pesa requests"] >= 1
    assert (ledger.sums(session, umoja.id), ledger.sums(session, umoja.id, member_id=member.id)) == (totals, theirs)
    assert session.scalar(select(func.count()).select_from(ChamaLedgerEntry)
                          .where(ChamaLedgerEntry.org_id == umoja.id)) == entries
    kept = session.get(Contact, session.get(ChamaMember, member.id).contact_id)
    assert (kept.name, kept.phone, kept.email) == (f"Erased member {member.member_number}", f"erased:{kept.id}", None)
    assert session.get(ChamaMember, member.id).status == "exited"
    assert export_person(session, ACTOR, umoja.id, PHONE).areas.keys() == {"core"}  # only the opt-out is left
    assert session.scalar(select(OptOut.source).where(OptOut.org_id == umoja.id, OptOut.address == PHONE)) == "erasure"
    [row] = audit.list_entries(session, ACTOR, umoja.id, what="person.erase")
    assert row.entity_id == "+2547•••••678" and PHONE not in json.dumps(row.after)

    # Tenancy: the other chama's records about the same phone are untouched.
    assert export_person(session, ACTOR, jamii.id, PHONE).areas["core.chama"]["members"][0]["status"] == "active"
    assert session.scalar(select(Contact.name).where(Contact.org_id == jamii.id, Contact.phone == PHONE)) \
        == "Wanjiku Kamau"

    salon = everywhere["salon"]
    erase_person(session, ACTOR, salon.id, PHONE)
    appointment = session.scalar(select(SalonAppointment).where(SalonAppointment.org_id == salon.id))
    assert (appointment.contact_id, appointment.notes, appointment.price_minor) == (None, "", 150_000)
    assert session.scalar(select(func.count()).select_from(SalonLead).where(SalonLead.org_id == salon.id)) == 0

    agency = everywhere["agency"]
    erase_person(session, ACTOR, agency.id, PHONE)
    placement = export_person(session, ACTOR, agency.id, "0733000001").areas["core.agency"]["placements"][0]
    assert (placement["notes"], placement["fee_minor"]) == ("", 500_000)

    programme = everywhere["programme"]
    erased = erase_person(session, ACTOR, programme.id, EMAIL)
    assert erased.deleted["vendors"] == 1
    assert session.scalar(select(func.count()).select_from(Vendor).where(Vendor.org_id == programme.id)) == 0
    erase_person(session, ACTOR, programme.id, PHONE)
    assert session.scalar(select(Message.to_address).where(Message.org_id == programme.id)) is None  # unsent: gone

    community = everywhere["community"]
    erase_person(session, ACTOR, community.id, PHONE)
    assert session.scalar(select(func.count()).select_from(CommunityAccount)
                          .where(CommunityAccount.org_id == community.id)) == 1
    promoted = events.get_event(session, ACTOR, community.id, everywhere["event"])
    assert (promoted.registered, promoted.waitlisted) == (1, 0)  # the waitlisted member took her place

    with pytest.raises(NotFound, match="holds nothing about"):
        erase_person(session, ACTOR, salon.id, "0700 000 999")


def test_a_member_who_owes_is_refused_and_nothing_changes(session, everywhere):
    from core.chama.fines import charge_fine

    umoja, member = everywhere["chamas"][0]
    charge_fine(session, ACTOR, umoja.id, member.id, 20_000, reason="late")
    with pytest.raises(Conflict, match="still owes KES 200"):
        erase_person(session, ACTOR, umoja.id, PHONE)
    left = export_person(session, ACTOR, umoja.id, PHONE).areas
    assert left["core.chama"]["members"][0]["status"] == "active" and left["core"]["contacts"][0]["phone"] == PHONE
    assert session.scalar(select(func.count()).select_from(OptOut).where(OptOut.org_id == umoja.id)) == 0


def test_only_the_orgs_admin_may_export_or_erase(session, everywhere):
    umoja, _member = everywhere["chamas"][0]
    treasurer = add_user(session, ACTOR, "treasurer@umoja.example", org_id=umoja.id, role="treasurer")
    chair = add_user(session, ACTOR, "chair@jamii.example", org_id=everywhere["chamas"][1][0].id, role="chair")
    with pytest.raises(PermissionDenied):
        export_person(session, Actor.staff(treasurer.id, treasurer.email), umoja.id, PHONE)
    with pytest.raises(NotFound):
        erase_person(session, Actor.staff(chair.id, chair.email), umoja.id, PHONE)


def test_cli_person_export_and_erase(ofisi_here, tmp_path):
    assert ofisi_here("org", "create", "umoja", "--kind", "chama", "--name", "Umoja").returncode == 0
    assert ofisi_here("chama", "members", "add", "Wanjiku Kamau", "0712345678", "--org", "umoja").returncode == 0
    exported = ofisi_here("person", "export", "0712 345 678", "--org", "umoja")
    assert exported.returncode == 0, exported.stderr
    data = json.loads(exported.stdout)
    assert data["person"] == PHONE and data["areas"]["core"]["contacts"][0]["name"] == "Wanjiku Kamau"
    asked = ofisi_here("person", "erase", PHONE, "--org", "umoja")
    assert asked.returncode == 2 and "pass --yes" in asked.stderr
    erased = ofisi_here("person", "erase", PHONE, "--org", "umoja", "--yes")
    assert erased.returncode == 0, erased.stderr
    assert "kept anonymised 1 contacts, 1 chama members" in erased.stderr
    again = ofisi_here("person", "export", PHONE, "--org", "umoja", "-o", str(tmp_path / "p.json"))
    assert list(json.loads((tmp_path / "p.json").read_text())["areas"]) == ["core"]
    assert "written to" in again.stderr
