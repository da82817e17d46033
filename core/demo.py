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


# How each demo org greets its people: Swahili in Kenya, Hindi-English in Pune.
WELCOME = {"KE": "Karibu", "IN": "Namaste"}


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
    """A launched survey whose messages wait in the outbox, a campaign set for next week, and drafts
    the officers are still writing: the campaigns list of a programme in its second month."""
    from datetime import timedelta

    from core.campaigns import create_campaign, launch_campaign
    from db.types import utcnow

    create_campaign(session, actor, org_id, name="Grant deadline reminder", template="Scheme reminder",
                    audience="tags=women-led")
    survey = create_campaign(session, actor, org_id, name="Training feedback", audience="all",
                             text="Habari {{ first_name }}, did the bookkeeping training help {{ business_name }}?",
                             survey=["Yes, a lot", "A little", "Not yet"])
    launch_campaign(session, actor, org_id, survey.id)
    create_campaign(session, actor, org_id, name="Youth enterprise fund", audience="tags=youth-led",
                    text="Habari {{ first_name }}! The youth enterprise fund opens on Monday: visit {{ org_name }}.",
                    at=utcnow() + timedelta(days=7))
    create_campaign(session, actor, org_id, name="Export readiness clinic", audience="tags=export-ready",
                    text="{{ first_name }}, bring your KEBS papers to the export clinic on Thursday, 10am.")
    create_campaign(session, actor, org_id, name="Monthly newsletter", channel="email",
                    template="Monthly newsletter", audience="all")
    create_campaign(session, actor, org_id, name="Market day invitation", audience="all",
                    text="{{ first_name }}, {{ org_name }} has a free stall for {{ business_name }} at market day.")


# Today's book at the salon (hour, minute, service): five visits, so the agenda is a working day.
SALON_TODAY = [(9, 0, "Haircut"), (10, 0, "Manicure"), (11, 0, "Haircut"), (12, 0, "Manicure"), (14, 0, "Box braids")]


def _salon_extras(session: Session, actor: Actor, org: OrgView, people: list[tuple[str, str, int]]) -> None:
    """Services, the stylist's week, past visits, today's book, a few coming appointments, a lead form
    and some leads."""
    from datetime import datetime, time, timedelta

    from core.salon.bookings import book, complete
    from core.salon.common import find_professional
    from core.salon.availability import free_slots
    from core.salon.forms import create_form
    from core.salon.leads import LeadDetails, add_lead
    from core.salon.schedule import set_weekly_hours
    from core.salon.services import add_service
    from db.types import utcnow

    braids = add_service(session, actor, org.id, name="Box braids", category="Hair", minutes=180, price="3500",
                         buffer_after=15)
    haircut = add_service(session, actor, org.id, name="Haircut", category="Hair", minutes=45, price="800")
    manicure = add_service(session, actor, org.id, name="Manicure", category="Nails", minutes=45, price="1200",
                           buffer_after=10)
    services = {s.name: s for s in (braids, haircut, manicure)}
    stylist = find_professional(session, actor, org.id, "stylist@glow-salon.demo")
    days = {d: [(time(9), time(18))] for d in range(7)}  # open every day, Sundays too
    set_weekly_hours(session, actor, org.id, stylist.id, work=days,
                     breaks={d: [(time(13), time(14))] for d in range(7)})
    now = utcnow()
    for weeks_ago, (_name, _phone, contact_id) in zip((3, 2, 1), people):
        day = (now - timedelta(weeks=weeks_ago)).astimezone(org.tz).date()
        start = datetime.combine(day, time(9), tzinfo=org.tz)
        done = book(session, actor, org.id, professional_id=stylist.id, service_id=braids.id, contact_id=contact_id,
                    start=start, now=start - timedelta(days=1))
        complete(session, actor, org.id, done.id, now=start + timedelta(hours=3))
    today = now.astimezone(org.tz).date()
    for (hour, minute, service), (_name, _phone, contact_id) in zip(SALON_TODAY, people[6:]):
        start = datetime.combine(today, time(hour, minute), tzinfo=org.tz)
        visit = book(session, actor, org.id, professional_id=stylist.id, service_id=services[service].id,
                     contact_id=contact_id, start=start, now=start - timedelta(days=1))
        ended = start + timedelta(minutes=services[service].minutes)
        if ended <= now:  # the morning's clients have been and paid
            complete(session, actor, org.id, visit.id, now=ended)
    for _name, _phone, contact_id in people[3:6]:
        start = free_slots(session, actor, org.id, stylist.id, braids.id, now, now + timedelta(days=7))[0]
        book(session, actor, org.id, professional_id=stylist.id, service_id=braids.id, contact_id=contact_id,
             start=start)
    create_form(session, actor, org.id, slug="glow-salon-book", title="Book at Glow Beauty Studio",
                fields=[{"name": "hair_length", "label": "Hair length"}])
    soon = (now + timedelta(days=2)).astimezone(org.tz).date()
    for details in (LeadDetails(phone="0722100200", name="Neema Auma", service_wanted="Box braids",
                                preferred_date=soon, message="For a wedding on Saturday, waist length please."),
                    LeadDetails(phone="0722100201", name="Tabitha Wairimu", service_wanted="Manicure"),
                    LeadDetails(phone="0722100202", message="How much is a haircut?")):
        add_lead(session, actor, org.id, details)


def _chama_loan_waiting(session: Session, actor: Actor, org_id: int) -> None:
    """A member's loan request, so the officials' approval queue has something in it."""
    from core.chama.loans import request_loan
    from core.chama.members import list_members

    applicant = list_members(session, actor, org_id, limit=6)[-1]
    request_loan(session, actor, org_id, applicant.id, 1_000_000, months=3, purpose="Stock for the kiosk")


# More of the community's calendar (in days from today, hour, title, capacity, venue).
UPCOMING_MEETUPS = [(3, 10, "Solar hack day", 25, "Makers Hall, Baner"),
                    (9, 17, "3D printing workshop", 12, "FabLab, Kothrud"),
                    (16, 9, "Founders' breakfast", 20, "Cafe Durga, Kothrud"),
                    (20, 14, "Drone build weekend", 15, "Makers Hall, Baner")]


def _community(session: Session, actor: Actor, org_id: int, people: list[tuple[str, str, int]]) -> None:
    """Members with profiles, two upcoming events (one full, with a waitlist), attendance at a past
    one, a connection, a listing, and a reported post waiting in the moderation queue."""
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from core.community import accounts, events, social
    from db.models_community import CommunityEvent
    from db.types import utcnow

    members = [accounts.create_account(session, actor, org_id, display_name=name, phone=phone,
                                       type=("innovator", "mentor", "investor", "academic_student")[i % 4],
                                       bio="Building things in Pune", location="Pune")
               for i, (name, phone, _contact_id) in enumerate(people)]
    tz = ZoneInfo(session.get(Org, org_id).timezone)
    today = utcnow().astimezone(tz).date()

    def evening(days: int, hour: int = 18) -> datetime:
        """An event's start on the community's own clock (18:00 in Pune, not 18:00 UTC)."""
        return datetime.combine(today + timedelta(days=days), time(hour), tz)

    now = utcnow()
    soon = max(evening(0), (now + timedelta(hours=2)).astimezone(tz).replace(minute=0, second=0, microsecond=0))
    past = events.create_event(session, actor, org_id, title="Hardware meetup", starts_at=soon,
                               ends_at=soon + timedelta(hours=2), capacity=30, venue="Makers Hall, Baner")
    for member in members[:8]:
        events.register(session, actor, org_id, past.id, member.id)
    for registration in events.list_registrations(session, actor, org_id, past.id)[:6]:
        events.check_in(session, actor, org_id, registration.id)
    # Moved into the past after the fact: check-in happens at the door, while the event is on.
    session.get(CommunityEvent, past.id).starts_at = evening(-7)
    session.get(CommunityEvent, past.id).ends_at = evening(-7, 20)
    pitch = events.create_event(session, actor, org_id, title="Pitch night", starts_at=evening(5),
                                ends_at=evening(5, 21), capacity=8, venue="Makers Hall, Baner", featured=True)
    events.create_event(session, actor, org_id, title="Investor office hours", starts_at=evening(12, 11),
                        ends_at=evening(12, 13), capacity=40, virtual_link="https://meet.example/oh")
    for member in members[:11]:
        events.register(session, actor, org_id, pitch.id, member.id)
    for days, hour, title, capacity, venue in UPCOMING_MEETUPS:
        event = events.create_event(session, actor, org_id, title=title, starts_at=evening(days, hour),
                                    ends_at=evening(days, hour + 3), capacity=capacity, venue=venue)
        for member in members[days % 4:days % 4 + 3]:
            events.register(session, actor, org_id, event.id, member.id)
    social.respond_connection(session, actor, org_id, social.request_connection(
        session, actor, org_id, members[0].primary.id, members[1].primary.id).id, "accepted")
    social.create_listing(session, actor, org_id, members[2].primary.id, kind="service",
                          title="PCB design for prototypes", price_minor=1_500_000)
    post = social.create_post(session, actor, org_id, members[3].primary.id, title="Followers for sale",
                              body="Buy 10k followers cheap, DM me")
    social.report_content(session, actor, org_id, "post", post.id, "Spam", reporter_account_id=members[4].id)
TOWNS = ["Nairobi", "Kiambu", "Nakuru", "Mombasa", "Kisumu"]
SKILLS = [["cooking", "childcare"], ["cleaning", "laundry"], ["childcare", "first aid"], ["elderly care"],
          ["cooking", "cleaning"]]


def _agency_person(session: Session, actor: Actor, org_id: int, name: str, phone: str, index: int):
    """The first ten people are workers, the rest employers; the later ones bring placements,
    a paid contact package and an unlock, so every panel of the agency home shows something."""
    from core.agency import commerce, placements
    from core.agency.employers import EmployerInput, add_employer
    from core.agency.workers import WorkerInput, add_worker, record_background_check, set_verification
    from db.models_agency import AgencyEmployer, AgencyWorker

    if index < 10:
        w = add_worker(session, actor, org_id, WorkerInput(
            name=name, phone=phone, location=TOWNS[index % 5], experience_years=index % 7,
            expected_salary_minor=(8_000 + 1_000 * (index % 6)) * 100, skills=SKILLS[index % 5],
            accommodation=("live_in", "live_out", "either")[index % 3], languages=["swahili", "english"],
            availability=("immediate", "two_weeks", "one_month")[index % 3]))
        if index % 2 == 0:
            set_verification(session, actor, org_id, w.id, "verified")
            record_background_check(session, actor, org_id, w.id, "cleared", notes="Certificate of good conduct seen")
        return w.name, phone, session.get(AgencyWorker, w.id).contact_id
    e = add_employer(session, actor, org_id, EmployerInput(name=name, phone=phone, household_name=f"{name.split()[-1]} "
                                                           "household", location=TOWNS[index % 5],
                                                           requirements="Live-in help with two children"))
    workers = list(session.scalars(select(AgencyWorker.id).where(AgencyWorker.org_id == org_id)
                                   .order_by(AgencyWorker.id)))
    if index in (10, 11):
        p = placements.add_placement(session, actor, org_id, worker_id=workers[index - 10], employer_id=e.id,
                                     fee_minor=500_000, commission_minor=100_000, agreed_salary_minor=1_200_000,
                                     status="placed")
        placements.record_payment(session, actor, org_id, p.id, kind="fee", amount_minor=500_000,
                                  reference=f"DEMO-FEE-{p.id}")
    elif index == 12:
        placements.add_placement(session, actor, org_id, worker_id=workers[2], employer_id=e.id, fee_minor=500_000)
    elif index == 13:
        package = commerce.add_package(session, actor, org_id, name="Starter", price_minor=50_000,
                                       contacts_included=3)
        purchase = commerce.buy_package(session, actor, org_id, employer_id=e.id, package_id=package.id)
        commerce.settle_purchase(session, actor, org_id, purchase.id, paid=True)
        commerce.unlock_contact(session, actor, org_id, employer_id=e.id, worker_id=workers[4])
    return e.name, phone, session.get(AgencyEmployer, e.id).contact_id


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
            elif demo.kind == "agency":
                people.append(_agency_person(session, actor, org.id, person, _phone(rng, demo.country), index))
            else:
                contact = contacts.upsert_contact(session, actor, org.id, name=person,
                                                  phone=_phone(rng, demo.country))
                people.append((contact.name, contact.phone, contact.id))
        if demo.kind == "campaigns":
            _campaign_vendors(session, actor, org.id, rng, demo.country)
            _campaigns(session, actor, org.id)


        if demo.kind == "salon":
            _salon_extras(session, actor, org, people)
        if demo.kind == "chama":
            _chama_loan_waiting(session, actor, org.id)
        if demo.kind == "community":
            _community(session, actor, org.id, people)
        for name, phone, contact_id in people[:4]:
            outbox.enqueue(session, org.id, to=phone, contact_id=contact_id, purpose="service",
                           body=f"{WELCOME[demo.country]} {name.split()[0]}! {demo.name} will keep you posted here.",
                           idempotency_key=f"demo-welcome-{contact_id}")
        session.commit()
    return DemoResult(True, orgs, _logins())
