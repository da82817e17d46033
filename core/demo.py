"""Demo data: one organisation of each kind, with staff logins and people.

Used by `ofisi demo` so a new user can open the console and look around.
Re-running it changes nothing; ``reset=True`` removes the demo orgs and their
users first (the audit log keeps the history, as it should).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import audit, contacts, outbox
from core.actors import Actor
from core.orgs import OrgView, create_org
from core.users import add_user
from db.models import Membership, Org, User

PASSWORD = "ofisi-demo"
EVERYWHERE = "admin@ofisi.demo"  # a member of every demo org, to show the org switcher


@dataclass(frozen=True)
class DemoOrg:
    slug: str
    kind: str
    name: str
    country: str
    staff: list[tuple[str, str, str]]  # (email, name, role)
    people: str  # what the org calls its contacts
    names: list[str] = field(default_factory=list)


KENYAN = ["Wanjiku Kamau", "Achieng Otieno", "Njeri Mwangi", "Fatuma Hassan", "Mercy Chebet", "Grace Wambui",
          "Halima Abdi", "Joyce Akinyi", "Esther Nduta", "Zawadi Mutua", "Amina Omar", "Faith Jepkosgei",
          "Peter Kiptoo", "John Odhiambo", "Brian Kimani", "Kevin Mutiso", "Daniel Wekesa", "Moses Kariuki"]
INDIAN = ["Priya Sharma", "Ananya Iyer", "Rohan Mehta", "Kavya Nair", "Arjun Reddy", "Sneha Patil",
          "Vikram Singh", "Meera Joshi", "Aditya Rao", "Pooja Desai", "Rahul Verma", "Divya Menon"]

DEMO_ORGS = [
    DemoOrg("glow-salon", "salon", "Glow Beauty Studio", "KE",
            [("owner@glow-salon.demo", "Wairimu Njoroge", "owner"),
             ("reception@glow-salon.demo", "Lucy Atieno", "receptionist"),
             ("stylist@glow-salon.demo", "Aisha Mohamed", "professional")], "clients", KENYAN[:12]),
    DemoOrg("umoja-chama", "chama", "Umoja Women's Chama", "KE",
            [("chair@umoja-chama.demo", "Margaret Wanjiru", "chair"),
             ("treasurer@umoja-chama.demo", "Rose Adhiambo", "treasurer"),
             ("secretary@umoja-chama.demo", "Caroline Muthoni", "secretary")], "members", KENYAN[:15]),
    DemoOrg("nyumbani-agency", "agency", "Nyumbani Domestic Staffing", "KE",
            [("admin@nyumbani-agency.demo", "Samuel Kiprono", "admin"),
             ("agent@nyumbani-agency.demo", "Beatrice Nyambura", "agent")], "workers and employers", KENYAN[3:18]),
    DemoOrg("biashara-msme", "campaigns", "Biashara Boost MSME Programme", "KE",
            [("admin@biashara-msme.demo", "Dennis Omondi", "admin"),
             ("officer@biashara-msme.demo", "Irene Wangari", "officer")], "vendors", KENYAN[::-1][:12]),
    DemoOrg("makers-community", "community", "Pune Makers Community", "IN",
            [("admin@makers-community.demo", "Nikhil Kulkarni", "admin"),
             ("moderator@makers-community.demo", "Aarti Deshmukh", "moderator")], "members", INDIAN),
]


@dataclass(frozen=True)
class DemoLogin:
    email: str
    org: str
    role: str


@dataclass(frozen=True)
class DemoResult:
    created: bool
    orgs: list[OrgView]
    logins: list[DemoLogin]
    password: str = PASSWORD


def _phone(rng: random.Random, country: str) -> str:
    if country == "IN":
        return f"+91 9{rng.randrange(10**8, 10**9)}"
    return f"07{rng.choice('0129')}{rng.randrange(10**6, 10**7)}"


def _logins() -> list[DemoLogin]:
    rows = [DemoLogin(email, d.slug, role) for d in DEMO_ORGS for email, _n, role in d.staff]
    rows += [DemoLogin(EVERYWHERE, d.slug, d.staff[0][2]) for d in DEMO_ORGS]
    return rows


CHAMA_ROLES = ("chair", "treasurer", "secretary")


def _chama_member(session: Session, actor: Actor, org_id: int, name: str, phone: str, index: int):
    """A chama member with a few months of contributions, so balances have something to show."""
    from core.chama.ledger import record_contribution
    from core.chama.members import add_member

    member = add_member(session, actor, org_id, name=name, phone=phone,
                        role=CHAMA_ROLES[index] if index < len(CHAMA_ROLES) else "member")
    for month in range(1, 4):
        record_contribution(session, actor, org_id, member.id, 100_000 + 50_000 * (index % 3), source="cash",
                            reference=f"DEMO-{member.id}-{month}")
    return member.name, member.phone, member.contact_id


VENDOR_TRADES = [("Tailoring", "Threads"), ("Agro-processing", "Agro Foods"), ("Metalwork", "Jua Kali Works"),
                 ("Beauty", "Beauty Parlour"), ("Food vending", "Eatery"), ("Crafts", "Crafts"),
                 ("Retail", "General Stores"), ("Bakery", "Bakers")]
VENDOR_PLACES = [("Kisumu Central", "Kisumu"), ("Nyalenda", "Kisumu"), ("Westlands", "Nairobi"),
                 ("Kibra", "Nairobi"), ("Nakuru Town East", "Nakuru"), ("Mvita", "Mombasa")]


def _campaign_vendors(session: Session, actor: Actor, org_id: int, rng: random.Random, country: str) -> None:
    """About thirty vendors across trades and counties, and two templates, for the campaigns demo."""
    from core.templates import save_template
    from core.vendors import VendorRows, import_vendors

    rows = []
    for i in range(30):
        owner = KENYAN[i % len(KENYAN)]
        sector, noun = VENDOR_TRADES[i % len(VENDOR_TRADES)]
        district, county = VENDOR_PLACES[i % len(VENDOR_PLACES)]
        tags = ["women-led"] if i % 3 != 2 else ["youth-led"]
        if i % 5 == 0:
            tags.append("export-ready")
        rows.append((i + 2, {
            "business_name": f"{owner.split()[1]} {noun}", "owner_name": owner, "phone": _phone(rng, country),
            "email": f"{owner.split()[0].lower()}.{i}@biashara.demo" if i % 2 == 0 else "",
            "sector": sector, "district": district, "state": county, "size": ("micro", "micro", "small", "medium")[i % 4],
            "tags": ";".join(tags)}))
    import_vendors(session, actor, org_id, VendorRows("demo vendors", (), rows))
    save_template(session, actor, org_id, name="Scheme reminder", channel="sms",
                  body="Habari {{ first_name }}! {{ org_name }}: applications for the {{ sector }} grant close "
                       "on Friday. Reply STOP to opt out.")
    save_template(session, actor, org_id, name="Monthly newsletter", channel="email",
                  subject="{{ org_name }} news for {{ business_name }}",
                  body="<p>Dear {{ first_name }},</p><p>Here is what {{ org_name }} has for {{ district }} "
                       "this month.</p>")


def _campaigns(session: Session, actor: Actor, org_id: int) -> None:
    """A draft from the saved template, and a launched survey whose messages wait in the outbox."""
    from core.campaigns import create_campaign, launch_campaign

    create_campaign(session, actor, org_id, name="Grant deadline reminder", template="Scheme reminder",
                    audience="tags=women-led")
    survey = create_campaign(session, actor, org_id, name="Training feedback", audience="all",
                             text="Habari {{ first_name }}, did the bookkeeping training help {{ business_name }}?",
                             survey=["Yes, a lot", "A little", "Not yet"])
    launch_campaign(session, actor, org_id, survey.id)


def _chama_loan_waiting(session: Session, actor: Actor, org_id: int) -> None:
    """A member's loan request, so the officials' approval queue has something in it."""
    from core.chama.loans import request_loan
    from core.chama.members import list_members

    applicant = list_members(session, actor, org_id, limit=6)[-1]
    request_loan(session, actor, org_id, applicant.id, 1_000_000, months=3, purpose="Stock for the kiosk")


def ussd_phone(session: Session) -> str | None:
    """A demo chama member's phone, for trying `ofisi ussd dial`."""
    from db.models import Contact

    org_id = session.scalar(select(Org.id).where(Org.slug == "umoja-chama"))
    return session.scalar(select(Contact.phone).where(Contact.org_id == org_id).order_by(Contact.id.desc()).limit(1))


def remove_demo(session: Session, actor: Actor) -> int:
    slugs = [d.slug for d in DEMO_ORGS]
    emails = {email for d in DEMO_ORGS for email, _n, _r in d.staff} | {EVERYWHERE}
    org_ids = list(session.scalars(select(Org.id).where(Org.slug.in_(slugs))))
    session.execute(delete(Org).where(Org.id.in_(org_ids)))
    # Only users who now belong nowhere else.
    still_member = select(Membership.user_id)
    session.execute(delete(User).where(User.email.in_(emails), User.id.not_in(still_member)))
    audit.record(session, actor, "demo.reset", "org", None, after={"removed_orgs": slugs})
    session.commit()
    return len(org_ids)


def seed_demo(session: Session, actor: Actor, *, reset: bool = False) -> DemoResult:
    if reset:
        remove_demo(session, actor)
    existing = session.scalar(select(Org.id).where(Org.slug == DEMO_ORGS[0].slug))
    if existing is not None:
        orgs = [OrgView.of(o) for o in session.scalars(select(Org).where(Org.slug.in_([d.slug for d in DEMO_ORGS])))]
        return DemoResult(False, orgs, _logins())
    rng = random.Random(2026)
    orgs: list[OrgView] = []
    for demo in DEMO_ORGS:
        org = create_org(session, actor, demo.slug, kind=demo.kind, name=demo.name, country=demo.country)
        orgs.append(org)
        for email, name, role in demo.staff:
            add_user(session, actor, email, org_id=org.id, role=role, name=name, password=PASSWORD)
        add_user(session, actor, EVERYWHERE, org_id=org.id, role=demo.staff[0][2], name="Demo Administrator",
                 password=PASSWORD)
        people: list[tuple[str, str, int]] = []  # (name, phone, contact id)
        for index, person in enumerate(demo.names):
            if demo.kind == "chama":
                people.append(_chama_member(session, actor, org.id, person, _phone(rng, demo.country), index))
            else:
                contact = contacts.upsert_contact(session, actor, org.id, name=person,
                                                  phone=_phone(rng, demo.country))
                people.append((contact.name, contact.phone, contact.id))
        if demo.kind == "campaigns":
            _campaign_vendors(session, actor, org.id, rng, demo.country)
            _campaigns(session, actor, org.id)
        if demo.kind == "chama":
            _chama_loan_waiting(session, actor, org.id)
        for name, phone, contact_id in people[:4]:
            outbox.enqueue(session, org.id, to=phone, contact_id=contact_id,
                           body=f"Karibu {name.split()[0]}! {demo.name} will keep you posted here.",
                           idempotency_key=f"demo-welcome-{contact_id}")
        session.commit()
    return DemoResult(True, orgs, _logins())
