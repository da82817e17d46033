"""``ofisi import domestic-connect db.json``: the old Domestic Connect json-server data.

What becomes what:

* one **platform org** (``<prefix>platform``, kind ``agency``, an
  ``agency_profiles`` row with ``is_platform``): the marketplace. It gets every
  ``housegirl_profiles`` record as a worker, every ``employer_profiles`` record
  as an employer, the ``payment_packages``, ``user_purchases``,
  ``contact_access`` (unlocks) and ``photos``.
* one **org per agency** (``<prefix><name>-<old id>``, from ``agencies`` merged
  with the ``agency_profiles`` row of the same profile): its
  ``agency_workers`` become workers on its books (a copy of the housegirl's
  profile plus the membership: verification, background check, membership
  fee, join date), its ``agency_clients`` become employer clients and
  placements, and its ``agency_subscriptions`` and ``agency_payments`` are
  kept there. The agency owner's profile becomes a contact of the agency.
* ``profiles`` are not rows of their own: each one is merged into the worker,
  employer or agency that points at it (name, phone, email, created time).

Every new row keeps the old id in ``legacy_id`` (unique per org), so a second
run finds each record and creates nothing. The whole run is one transaction:
a problem with one record skips that record only, and ``--dry-run`` rolls
everything back at the end. Each collection is checked and mapped in Python
first (the one-person rule against an index of each org's books, loaded once),
then written in bulk (a COPY per table on PostgreSQL, multi-row INSERTs on
SQLite); should the database refuse a collection's batch, its records are
written one by one (each in a savepoint) and the refused ones reported as
skipped.

The report counts, per collection, records read, created, already there
(``existing``) and skipped; ``read = created + existing + skipped`` always.
Every problem is listed with its collection, old id, what was wrong and what
was decided. The decisions, one per kind of problem:

* **Orphans** (a record pointing at a profile, agency, worker, employer or
  package that is not in the file, or at a profile of the wrong kind): skipped.
* **Duplicate emails differing only in case**: emails are stored lower-case;
  the profile with the lowest id keeps the address, later ones are imported
  without an email.
* **Phones**: parsed as Kenyan numbers (``0712…``, ``712…``, ``2547…``,
  ``+254-7…``). A missing or unparseable phone imports the person without a
  contact (no SMS, nothing to unlock until staff add a number).
* **Salaries** are whole shillings (``7,000``, ``"15000"``, 15000) and become
  minor units; an unparseable one is imported as "not stated".
* **Dates**: ``2024-06-29T17:44:00Z`` (UTC), ``2024-05-05`` and
  ``27/01/2024 08:57`` (day first, Nairobi time); an unparseable one becomes
  the time of the import.
* **Ages** that are not whole numbers are imported as unknown.
* **Experience** ``none`` → 0 years, ``N year(s)`` → N, ``3-5 years`` → 3 (the
  lower bound), ``5+ years`` → 5; anything else → 0.
* **Unknown enum values**: accommodation → ``either``; availability →
  ``one_month``; worker verification → ``pending``; background check →
  ``pending``; agency verification → ``pending``; placement status → skipped
  (the money on it would be guessed); payment or purchase status →
  ``pending`` (nothing counted as paid that may not have been).
* **Tribe** is never stored or searchable (matching on it would be
  discrimination): every value is dropped and the report says how many.
* A worker listed twice by one agency: the first listing is kept.
* ``agency_clients`` never name the worker, so their placements have no
  worker; ``pending`` → proposed, ``placed`` → placed, ``terminated`` → ended,
  ``disputed`` → disputed. ``hiring_fee`` is the placement fee, charged
  (an ``agency_entries`` charge) once the worker is placed, or when it was
  paid; ``commission_paid: true`` records the fee as paid (a payment,
  reference ``DC-<old id>``), on a pending client too. A non-empty
  ``dispute_resolution`` becomes a resolved dispute and a disputed placement
  carries on as placed; one without gets an open dispute. ``null`` and ``""``
  both mean "no resolution". "Refunded half the fee" on a paid fee is a
  refund of half (and the fee lowered by as much); on a fee never paid
  nothing is refunded and the report says so.
* Agencies: when ``agencies`` and ``agency_profiles`` disagree on the
  location, ``agencies`` (the business record) wins; when the agency's tier
  and its subscription's tier disagree, both are kept as they are.
* Purchases: ``completed`` ones give the package's contacts as credits,
  spent by that employer's unlocks in order; an unlock beyond the credits the
  old system sold is kept (the number was shown already) and charges nothing.
  An amount different from the package price is kept as paid.
* Photos: the files are not in ``db.json``; each is recorded with its old
  path and no file, to be uploaded again (``ofisi workers photo``). The
  ``photo`` field of a housegirl profile repeats the ``photos`` collection and
  is not imported separately. Training certificate names become certificate
  records (no file) and skills of the worker.
* Agency payments have no reference in the old data; their reference is
  ``DC-<old id>``. Subscriptions are ``expired`` once their end date passed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy import text as sql
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.agency.base import (
    parse_accommodation, parse_availability, parse_experience, parse_whole_amount, split_list,
)
from core.agency.books import reference_key
from core.agency.commerce import subscription_status
from core.agency.employers import EmployerInput, employer_row
from core.agency.workers import WorkerInput, contact_for, email_taken, phone_taken, worker_row
from core.errors import InvalidInput, OfisiError, PermissionDenied
from core.numbers import whole_number
from core.phones import normalize_phone
from db.models import Contact, Org
from db.models_agency import (
    AgencyContactPackage, AgencyDispute, AgencyEmployer, AgencyEntry, AgencyPayment, AgencyPlacement,
    AgencyProfile, AgencyPurchase, AgencySubscription, AgencyUnlock, AgencyWorker, AgencyWorkerFile,
    AgencyWorkerSkill,
)
from db.types import utcnow

COLLECTIONS = ("profiles", "employer_profiles", "housegirl_profiles", "agency_profiles", "agencies",
               "agency_workers", "agency_clients", "agency_subscriptions", "payment_packages", "user_purchases",
               "contact_access", "photos", "agency_payments")
NAIROBI = ZoneInfo("Africa/Nairobi")
STATUS_OF_CLIENT = {"pending": "proposed", "placed": "placed", "terminated": "ended", "disputed": "disputed"}


@dataclass
class Count:
    read: int = 0
    created: int = 0
    existing: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class Problem:
    collection: str
    old_id: str
    what: str
    decision: str


@dataclass
class MigrationReport:
    dry_run: bool
    platform_org: str = ""
    agency_orgs: list[str] = field(default_factory=list)
    counts: dict[str, Count] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def adds_up(self) -> bool:
        return all(c.read == c.created + c.existing + c.skipped for c in self.counts.values())

    @property
    def created(self) -> int:
        return sum(c.created for c in self.counts.values())

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "platform_org": self.platform_org, "agency_orgs": self.agency_orgs,
                "counts": {k: asdict(v) for k, v in self.counts.items()}, "adds_up": self.adds_up(),
                "problems": [asdict(p) for p in self.problems], "notes": self.notes}


@dataclass(frozen=True)
class Ref:
    """The id of a row planned in this collection's batch, known once the batch is written."""

    key: tuple


@dataclass
class Planned:
    model: type
    values: dict
    key: tuple | None  # (model, org id, legacy id) or (Contact, org id, phone)
    refs: list[str]  # the columns whose value is a Ref


@dataclass
class Group:
    """One record's planned rows, and how to forget them if the database refuses them."""

    old_id: str
    outcome: str
    rows: list[Planned]
    undo: list[Callable[[], None]]


@dataclass
class Books:
    """Who is on one org's books, for the one-person rule without a query per record."""

    contacts: dict[str, int | Ref]  # E.164 -> contact
    phones: dict[tuple[str, str], str]  # (worker or employer, E.164) -> name
    emails: dict[tuple[str, str], str]  # (worker or employer, lower-case email) -> name


class Unwritten(Exception):
    """A row this one needs was refused."""


# Parents before the rows that point at them.
WRITE_ORDER = (Contact, AgencyWorker, AgencyEmployer, AgencyWorkerSkill, AgencyWorkerFile, AgencyPlacement,
               AgencyDispute, AgencyEntry, AgencyContactPackage, AgencyPurchase, AgencyUnlock, AgencySubscription,
               AgencyPayment)


def uniform(table, rows: list[dict]) -> list[dict]:
    """The rows with the same columns each, every column with a default among them (a column a row leaves
    out gets its default), so that one statement serves them all."""
    columns = set().union(*rows) | {c.key for c in table.columns if c.default is not None and not c.primary_key}
    defaults = {}
    for name in columns:
        default = table.c[name].default
        if default is None or default.is_scalar:
            defaults[name] = getattr(default, "arg", None)
        else:
            defaults[name] = default.arg(None)  # the callable defaults here (utcnow, list) take no context
    return [{**defaults, **row} for row in rows]


def insert_rows(connection, table, rows: list[dict], returning: tuple = ()) -> list[tuple]:
    """INSERT ``rows`` (all with the same columns) in one go; the ``returning`` columns of each, in no
    particular order. On PostgreSQL (psycopg) a COPY, the ids taken from the table's sequence first."""
    if connection.dialect.driver != "psycopg":
        result = connection.execute(insert(table).returning(*returning) if returning else insert(table), rows)
        return [tuple(r) for r in result] if returning else []
    if returning:
        ids = connection.execute(sql("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                                 {"t": table.name, "n": len(rows)}).scalars().all()
        rows = [{**row, "id": row_id} for row, row_id in zip(rows, ids)]
    columns = list(rows[0])
    # The columns' own conversions (UTC times, JSON text) first, as SQLAlchemy would bind them.
    process = insert(table).compile(dialect=connection.dialect, column_keys=columns)._bind_processors
    steps = [process.get(c) for c in columns]
    cursor = connection.connection.driver_connection.cursor()
    try:
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([step(row[c]) if step else row[c] for c, step in zip(columns, steps)])
    finally:
        cursor.close()
    return [tuple(row[c.key] for c in returning) for row in rows]


class Skip(Exception):
    """This record is not imported; the message says why."""

    def __init__(self, what: str, decision: str = "skipped") -> None:
        super().__init__(what)
        self.what, self.decision = what, decision


def refunded_share(resolution: str) -> tuple[int, int] | None:
    """``Refunded half the fee`` → (1, 2); ``Refunded the fee`` → (1, 1); None when no refund is said."""
    text = resolution.lower()
    if "refund" not in text:
        return None
    for word, share in (("half", (1, 2)), ("quarter", (1, 4)), ("third", (1, 3))):
        if word in text:
            return share
    return (1, 1)


ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z")
ISO_DAY = re.compile(r"\d{4}-\d\d-\d\d")


def parse_when(raw: object) -> datetime | None:
    """The old export's three ways of writing a time, as aware UTC; None when it is none of them."""
    text = str(raw or "").strip()
    try:  # the two ISO forms without strptime's cost
        if ISO_UTC.fullmatch(text):
            return datetime.fromisoformat(text)
        if ISO_DAY.fullmatch(text):
            return datetime.fromisoformat(text).replace(tzinfo=NAIROBI).astimezone(timezone.utc)
    except ValueError:
        return None
    for pattern, zone in (("%Y-%m-%dT%H:%M:%SZ", timezone.utc), ("%Y-%m-%dT%H:%M:%S.%fZ", timezone.utc),
                          ("%Y-%m-%d", NAIROBI), ("%d/%m/%Y %H:%M", NAIROBI), ("%d/%m/%Y", NAIROBI)):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=zone).astimezone(timezone.utc)
        except ValueError:
            continue
    return None


def slugify(text: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", text.lower())).strip("-")


class Migration:
    def __init__(self, session: Session, actor: Actor, data: dict, prefix: str, dry_run: bool) -> None:
        self.s, self.actor, self.data, self.prefix = session, actor, data, prefix
        self.report = MigrationReport(dry_run=dry_run)
        self.now = utcnow()
        self.profiles: dict[str, dict] = {}
        self.emails: dict[str, str] = {}  # profile id -> the email it keeps
        self.used_profiles: dict[str, str] = {}  # profile id -> outcome of the record using it
        self.worker_inputs: dict[str, tuple[WorkerInput, datetime | None]] = {}  # housegirl id -> parsed
        self.platform: Org | None = None
        self.agency_orgs: dict[str, Org] = {}
        self.known: dict[tuple[type, int], dict[str, int | Ref]] = {}
        self.ids: dict[tuple, int] = {}  # planned row key -> id, once written
        self.books: dict[int, Books] = {}
        self.planned: list[Planned] = []  # the current record's rows
        self.undo: list[Callable[[], None]] = []
        self.groups: list[Group] = []
        self.credits: dict[int, list[list[int]]] = {}  # employer -> [purchase id, credits left], oldest first
        self.unlocked: set[tuple[int, int]] | None = None  # (employer, worker)
        self.packages: dict[int, AgencyContactPackage] = {}
        # What a refused INSERT raises: the driver's own errors too (``insert_rows`` may call it directly), and
        # SQLite's driver refuses a too-large number before the database sees it.
        self.refused = (DBAPIError, OverflowError, session.get_bind().dialect.loaded_dbapi.Error)
        self.spent: dict[int, int] = {}  # purchase id -> credits left after this run's unlocks
        self.listed: dict[tuple[int, str], str] = {}  # (agency org, housegirl id) -> first listing
        self.employer_records = {str(e.get("id")): e for e in self.rows("employer_profiles")}
        self.employer_of_profile = {str(e.get("profile_id")): str(e.get("id")) for e in self.rows("employer_profiles")}
        self.housegirl_of_profile = {str(h.get("profile_id")): str(h.get("id"))
                                     for h in self.rows("housegirl_profiles")}

    # ---------------------------------------------------------------- helpers

    def rows(self, name: str) -> list[dict]:
        value = self.data.get(name, [])
        if not isinstance(value, list):
            self.problem(name, "-", f"{name} is not a list", "collection ignored")
            return []
        return [r for r in value if isinstance(r, dict)]

    def problem(self, collection: str, old_id: object, what: str, decision: str) -> None:
        self.report.problems.append(Problem(collection, str(old_id), what, decision))

    def existing_id(self, model: type, org_id: int, legacy_id: str) -> int | None:
        key = (model, org_id)
        if key not in self.known:
            self.known[key] = dict(self.s.execute(select(model.legacy_id, model.id).where(
                model.org_id == org_id, model.legacy_id.is_not(None))).all())
        return self.known[key].get(legacy_id)

    def remember(self, model: type, org_id: int, legacy_id: str, row_id: int | Ref) -> None:
        self.existing_id(model, org_id, legacy_id)
        known = self.known[(model, org_id)]
        known[legacy_id] = row_id
        if isinstance(row_id, Ref):
            self.undo.append(lambda: known.pop(legacy_id, None))

    def each(self, collection: str, handle: Callable[[dict, str], str], *, planned: bool = True) -> None:
        """Run ``handle`` on every record; it returns "created" or "existing" or raises Skip. A ``planned``
        handler only plans its rows (``plan``), written in bulk at the end; any other runs in a savepoint."""
        count = self.report.counts.setdefault(collection, Count())
        seen: set[str] = set()
        for record in self.rows(collection):
            count.read += 1
            old_id = str(record.get("id", "")).strip()
            self.planned, self.undo = [], []
            try:
                if not old_id:
                    raise Skip("the record has no id")
                if old_id in seen:
                    raise Skip(f"the id {old_id} appears twice", "skipped; the first is kept")
                seen.add(old_id)
                if planned:
                    outcome = handle(record, old_id)
                else:
                    with self.s.begin_nested():
                        outcome = handle(record, old_id)
            except Skip as skip:
                count.skipped += 1
                self.problem(collection, old_id or "-", skip.what, skip.decision)
                continue
            except OfisiError as exc:
                count.skipped += 1
                self.problem(collection, old_id or "-", str(exc), "skipped")
                continue
            setattr(count, outcome, getattr(count, outcome) + 1)
            if self.planned:
                self.groups.append(Group(old_id, outcome, self.planned, self.undo))
        self.write_planned(collection, count)

    # ---------------------------------------------------------------- bulk writing

    def plan(self, model: type, key: tuple | None = None, **values) -> Ref | None:
        """Add a row to the current record's; its id will be ``Ref(key)``."""
        self.planned.append(Planned(model, values, key, [k for k, v in values.items() if isinstance(v, Ref)]))
        return Ref(key) if key else None

    def write_planned(self, collection: str, count: Count) -> None:
        """Write the collection's planned rows in bulk; if the database refuses, record by record."""
        groups, self.groups = self.groups, []
        if not groups:
            return
        try:
            with self.s.begin_nested():
                ids = self.write([row for g in groups for row in g.rows])
            self.learn(ids)
            return
        except self.refused:
            pass
        for g in groups:
            try:
                with self.s.begin_nested():
                    ids = self.write(g.rows)
                self.learn(ids)
            except (*self.refused, Unwritten) as exc:
                setattr(count, g.outcome, getattr(count, g.outcome) - 1)
                count.skipped += 1
                reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
                self.problem(collection, g.old_id, f"the database refused it: {reason}", "skipped")
                for undo in reversed(g.undo):
                    undo()

    def write(self, rows: list[Planned]) -> dict[tuple, int]:
        """INSERT ``rows``, many at a time per table, parents first; the new ids by key."""
        ids: dict[tuple, int] = {}

        def resolved(planned: Planned) -> dict:
            if not planned.refs:
                return planned.values
            out = dict(planned.values)
            for k in planned.refs:
                out[k] = ids.get(out[k].key) or self.ids.get(out[k].key)
                if out[k] is None:
                    raise Unwritten("a record it depends on was refused")
            return out

        by_model: dict[tuple[type, bool], list[Planned]] = {}
        for row in rows:
            by_model.setdefault((row.model, row.key is not None), []).append(row)
        connection = self.s.connection()
        for model in WRITE_ORDER:
            table = model.__table__
            if plain := by_model.get((model, False)):
                insert_rows(connection, table, uniform(table, [resolved(p) for p in plain]))
            if keyed := by_model.get((model, True)):
                # Matched back by their natural key: an ordered RETURNING would cost SQLite a statement a row.
                natural = table.c.phone if model is Contact else table.c.legacy_id
                ids.update(((model, org_id, key), row_id) for row_id, org_id, key in insert_rows(
                    connection, table, uniform(table, [resolved(p) for p in keyed]),
                    (table.c.id, table.c.org_id, natural)))
        return ids

    def learn(self, ids: dict[tuple, int]) -> None:
        """Put the written rows' ids where the next collections look them up."""
        self.ids.update(ids)
        for (model, org_id, natural), row_id in ids.items():
            if model is Contact:
                self.books[org_id].contacts[natural] = row_id
            elif (model, org_id) in self.known:
                self.known[(model, org_id)][natural] = row_id

    def books_of(self, org_id: int) -> Books:
        if org_id not in self.books:
            contacts = dict(self.s.execute(select(Contact.phone, Contact.id).where(Contact.org_id == org_id)).all())
            phones: dict[tuple[str, str], str] = {}
            emails: dict[tuple[str, str], str] = {}
            for kind, model in (("worker", AgencyWorker), ("employer", AgencyEmployer)):
                for name, phone, email in self.s.execute(
                        select(model.name, Contact.phone, model.email)
                        .outerjoin(Contact, Contact.id == model.contact_id).where(model.org_id == org_id)):
                    if phone:
                        phones.setdefault((kind, phone), name)
                    if email:
                        emails.setdefault((kind, email.lower()), name)
            self.books[org_id] = Books(contacts, phones, emails)
        return self.books[org_id]

    def check_person(self, org_id: int, phone: str | None, email: str | None) -> None:
        """The one-person rule of ``core.agency.workers.one_person``, on the org's books in memory."""
        books = self.books_of(org_id)
        email = (email or "").strip().lower()
        for kind in ("worker", "employer"):
            if phone and (kind, phone) in books.phones:
                raise phone_taken(phone, kind, books.phones[(kind, phone)])
            if email and (kind, email) in books.emails:
                raise email_taken(email, kind, books.emails[(kind, email)])

    def claim_person(self, org_id: int, kind: str, name: str, phone: str | None, email: str | None) -> int | Ref | None:
        """Put the person on the org's books; their contact, planned if new (as ``contact_for`` would)."""
        books = self.books_of(org_id)
        keys = []
        if phone:
            keys.append((books.phones, (kind, phone)))
        if (email or "").strip():
            keys.append((books.emails, (kind, email.strip().lower())))
        for table, key in keys:
            table[key] = name
            self.undo.append(lambda table=table, key=key: table.pop(key, None))
        if not phone:
            return None
        contact = books.contacts.get(phone)
        if contact is None:
            contact = self.plan(Contact, (Contact, org_id, phone), org_id=org_id, name=name, phone=phone,
                                email=email)
            books.contacts[phone] = contact
            self.undo.append(lambda: books.contacts.pop(phone, None))
        return contact

    def plan_worker(self, org: Org, data: WorkerInput, old_id: str, created_at: datetime, **statuses) -> Ref:
        worker = worker_row(org.id, data, legacy_id=old_id, **statuses)
        self.check_person(org.id, data.phone, data.email)
        worker["contact_id"] = self.claim_person(org.id, "worker", worker["name"], data.phone, data.email)
        ref = self.plan(AgencyWorker, (AgencyWorker, org.id, old_id), **worker, created_at=created_at)
        for skill in split_list(data.skills):
            self.plan(AgencyWorkerSkill, org_id=org.id, worker_id=ref, skill=skill)
        self.remember(AgencyWorker, org.id, old_id, ref)
        return ref

    def plan_entry(self, placement: Ref, org_id: int, kind: str, amount_minor: int, legacy_id: str, *,
                   reference: str | None = None, dispute: Ref | None = None, note: str = "") -> None:
        """A fee entry of the placement's book, as ``core.agency.books`` records one."""
        self.plan(AgencyEntry, org_id=org_id, placement_id=placement, kind=kind, item="fee", amount_minor=amount_minor,
                  reference=reference, reference_key=reference_key(reference), dispute_id=dispute, note=note,
                  at=self.now, recorded_by=self.actor.label, legacy_id=legacy_id)

    def profile(self, profile_id: object, kind: str) -> dict:
        p = self.profiles.get(str(profile_id))
        if p is None:
            raise Skip(f"orphan: profile {profile_id} is not in profiles")
        if p.get("user_type") != kind:
            raise Skip(f"orphan: profile {profile_id} is a {p.get('user_type')!r}, not a {kind}")
        return p

    def when(self, collection: str, old_id: str, raw: object, what: str) -> datetime:
        parsed = parse_when(raw)
        if parsed is None:
            self.problem(collection, old_id, f"unparseable {what} {raw!r}", "the time of the import is used")
            return self.now
        return parsed

    def phone(self, collection: str, old_id: str, raw: object) -> str | None:
        text = str(raw or "").strip()
        if not text:
            self.problem(collection, old_id, "no phone number", "imported without a contact (no SMS, no unlock)")
            return None
        try:
            return normalize_phone(text, "KE")
        except OfisiError:
            self.problem(collection, old_id, f"unparseable phone {text!r}",
                         "imported without a contact (no SMS, no unlock)")
            return None

    def person(self, p: dict) -> tuple[str, str | None, str | None]:
        """Name, E.164 phone or None, and the email this profile keeps."""
        name = " ".join(f"{p.get('first_name') or ''} {p.get('last_name') or ''}".split()) or f"Profile {p['id']}"
        return name, self.phone("profiles", p["id"], p.get("phone_number")), self.emails.get(p["id"])

    def use_profile(self, profile_id: str, outcome: str) -> None:
        self.used_profiles.setdefault(profile_id, outcome)

    def new_org(self, slug: str, name: str) -> tuple[Org, bool]:
        org = self.s.scalar(select(Org).where(Org.slug == slug))
        if org is not None:
            if org.kind != "agency":
                raise Skip(f"the slug {slug} belongs to a {org.kind} organisation", "skipped; use --org-prefix")
            return org, False
        org = Org(slug=slug, name=name, kind="agency", timezone="Africa/Nairobi", currency="KES", country="KE")
        self.s.add(org)
        self.s.flush()
        audit.record(self.s, self.actor, "org.create", "org", org.id, org_id=org.id,
                     after={"slug": slug, "name": name, "kind": "agency", "source": "domestic-connect"})
        return org, True

    # ---------------------------------------------------------------- steps

    def run(self) -> MigrationReport:
        for name in self.data:
            if name not in COLLECTIONS:
                self.report.notes.append(f"{name}: not a collection this import knows; ignored.")
        for name in COLLECTIONS:
            if name not in self.data:
                self.report.notes.append(f"{name}: missing from the file; nothing to import.")
        self.read_profiles()
        self.platform, _ = self.new_org(f"{self.prefix}platform"[:40], "Domestic Connect platform")
        if self.s.scalar(select(AgencyProfile.id).where(AgencyProfile.org_id == self.platform.id)) is None:
            self.s.add(AgencyProfile(org_id=self.platform.id, is_platform=True, description="The marketplace"))
        self.report.platform_org = self.platform.slug
        agency_profiles = {str(r.get("profile_id")): r for r in self.rows("agency_profiles")}
        tiers = {str(r.get("agency_id")): r.get("tier") for r in self.rows("agency_subscriptions")}
        self.each("agencies", lambda r, i: self.agency(r, i, agency_profiles, tiers), planned=False)
        agency_profile_ids = {str(r.get("profile_id")) for r in self.rows("agencies")}
        self.each("agency_profiles", lambda r, i: self.merged(
            str(r.get("profile_id")) in agency_profile_ids and self.used_profiles.get(str(r.get("profile_id"))),
            f"orphan: no agencies record for profile {r.get('profile_id')}"))
        tribes = sum(1 for r in self.rows("housegirl_profiles") if str(r.get("tribe") or "").strip())
        self.each("housegirl_profiles", self.housegirl)
        self.report.notes.append(
            f"housegirl_profiles.tribe: {tribes} values dropped. Ofisi does not store tribe or ethnicity: "
            "matching on it would be discrimination.")
        self.each("employer_profiles", self.employer)
        self.each("agency_workers", self.agency_worker)
        self.each("agency_clients", self.agency_client)
        self.each("agency_subscriptions", self.subscription)
        self.each("agency_payments", self.agency_payment)
        self.each("payment_packages", self.package)
        self.each("user_purchases", self.purchase)
        self.each("contact_access", self.unlock)
        if self.spent:
            self.s.execute(update(AgencyPurchase), [{"id": pid, "credits_left": left}
                                                    for pid, left in self.spent.items()])
        photos = len(self.rows("photos"))
        self.each("photos", self.photo)
        self.report.notes.append(f"photos: the {photos} files are not in db.json; each is recorded with its old "
                                 "path, to be uploaded again.")
        self.each("profiles", lambda r, i: self.merged(
            self.used_profiles.get(i), f"profile of type {r.get('user_type')!r} used by no imported record"))
        self.report.agency_orgs = sorted(o.slug for o in self.agency_orgs.values())
        return self.report

    def merged(self, outcome: str | bool | None, orphan: str) -> str:
        if not outcome:
            raise Skip(orphan)
        return outcome if outcome in ("created", "existing") else "existing"

    def read_profiles(self) -> None:
        first_email: dict[str, str] = {}
        for p in self.rows("profiles"):
            pid = str(p.get("id", "")).strip()
            if not pid or pid in self.profiles:
                continue  # reported when the profiles themselves are counted
            p = {**p, "id": pid}
            self.profiles[pid] = p
            email = str(p.get("email") or "").strip().lower()
            if not email:
                continue
            if "@" not in email or "." not in email.split("@")[-1]:
                self.problem("profiles", pid, f"not an email address: {p.get('email')!r}", "imported without email")
                continue
            if email in first_email:
                self.problem("profiles", pid, f"email {p.get('email')} is profile {first_email[email]}'s, "
                             "differing only in case", f"profile {first_email[email]} keeps it; "
                             "this one is imported without email")
                continue
            first_email[email] = pid
            self.emails[pid] = email

    def agency(self, r: dict, old_id: str, agency_profiles: dict, tiers: dict) -> str:
        p = self.profile(r.get("profile_id"), "agency")
        extra = agency_profiles.get(p["id"], {})
        name = str(r.get("name") or extra.get("agency_name") or "").strip() or f"Agency {old_id}"
        org, created = self.new_org(f"{self.prefix}{slugify(name)[:40 - len(self.prefix) - len(old_id) - 1]}"
                                    f"-{slugify(old_id)}", name)
        self.agency_orgs[old_id] = org
        outcome = "created" if created else "existing"
        self.use_profile(p["id"], outcome)
        if not created:
            return outcome
        location = str(r.get("location") or "").strip()
        if extra.get("location") and extra["location"] != location:
            self.problem("agencies", old_id, f"location {location!r} here, {extra['location']!r} in agency_profiles",
                         "kept the agencies location")
        status = str(r.get("verification_status") or "").strip().lower()
        if status not in ("pending", "verified", "rejected"):
            self.problem("agencies", old_id, f"unknown verification_status {r.get('verification_status')!r}",
                         "imported as pending")
            status = "pending"
        tier = tiers.get(old_id)
        if tier and r.get("subscription_tier") and tier != r.get("subscription_tier"):
            self.problem("agencies", old_id, f"tier {r.get('subscription_tier')!r} but subscription tier {tier!r}",
                         "both kept as they are")
        fee = parse_whole_amount(r.get("placement_fee"))
        if fee is None and r.get("placement_fee") not in (None, ""):
            self.problem("agencies", old_id, f"unparseable placement_fee {r.get('placement_fee')!r}",
                         "imported as 0")
        pname, pphone, pemail = self.person(p)
        agency_phone = self.phone("agencies", old_id, r.get("phone")) if r.get("phone") else pphone
        owner = contact_for(self.s, org.id, "KE", pname, agency_phone, pemail)
        rating = r.get("rating")
        self.s.add(AgencyProfile(
            org_id=org.id, license_number=extra.get("license_number"), location=location,
            description=str(extra.get("description") or ""), verification_status=status,
            rating_tenths=round(rating * 10) if isinstance(rating, (int, float)) else None,
            services=split_list(r.get("services")), placement_fee_minor=(fee or 0) * 100,
            owner_contact_id=owner.id if owner else None, legacy_id=old_id))
        return outcome

    def worker_input(self, r: dict, old_id: str, p: dict) -> WorkerInput:
        name, phone, email = self.person(p)
        c = "housegirl_profiles"
        age = r.get("age")
        age_years = age if isinstance(age, int) and not isinstance(age, bool) else (
            whole_number(age))
        if age_years is None and age not in (None, ""):
            self.problem(c, old_id, f"unparseable age {age!r}", "imported with the age unknown")
        experience = parse_experience(r.get("experience"))
        if experience is None:
            self.problem(c, old_id, f"unparseable experience {r.get('experience')!r}", "imported as 0 years")
        salary = parse_whole_amount(r.get("salary"))
        if salary is None and r.get("salary") not in (None, ""):
            self.problem(c, old_id, f"unparseable salary {r.get('salary')!r}", "imported as not stated")
        accommodation = parse_accommodation(r.get("accommodation"))
        if accommodation is None:
            self.problem(c, old_id, f"unknown accommodation {r.get('accommodation')!r}", "imported as either")
        availability = parse_availability(r.get("availability"))
        if availability is None:
            self.problem(c, old_id, f"unknown availability {r.get('availability')!r}", "imported as one_month")
        return WorkerInput(
            name=name, phone=phone, email=email, age_years=age_years, bio=str(r.get("bio") or ""),
            location=str(r.get("location") or "").strip(), education=str(r.get("education") or "").strip(),
            experience_years=experience or 0, expected_salary_minor=None if salary is None else salary * 100,
            accommodation=accommodation or "either", availability=availability or "one_month")

    def housegirl(self, r: dict, old_id: str) -> str:
        p = self.profile(r.get("profile_id"), "housegirl")
        existing = self.existing_id(AgencyWorker, self.platform.id, old_id)
        if existing is not None:
            self.worker_inputs[old_id] = (self.worker_input_quiet(r, p), None)
            self.use_profile(p["id"], "existing")
            return "existing"
        data = self.worker_input(r, old_id, p)
        created_at = self.when("profiles", p["id"], p.get("created_at"), "created_at")
        self.plan_worker(self.platform, data, old_id, created_at, verification_status="unverified")
        self.worker_inputs[old_id] = (data, created_at)
        self.use_profile(p["id"], "created")
        self.undo += [lambda: self.worker_inputs.pop(old_id, None), lambda: self.used_profiles.pop(p["id"], None)]
        return "created"

    def worker_input_quiet(self, r: dict, p: dict) -> WorkerInput:
        """Parse again without reporting (the first run reported); used when the worker exists."""
        problems = len(self.report.problems)
        data = self.worker_input(r, "-", p)
        del self.report.problems[problems:]
        return data

    def employer(self, r: dict, old_id: str) -> str:
        p = self.profile(r.get("profile_id"), "employer")
        if self.existing_id(AgencyEmployer, self.platform.id, old_id) is not None:
            self.use_profile(p["id"], "existing")
            return "existing"
        self.plan_employer(self.platform, r, old_id, p)
        self.use_profile(p["id"], "created")
        self.undo.append(lambda: self.used_profiles.pop(p["id"], None))
        return "created"

    def plan_employer(self, org: Org, r: dict, old_id: str, p: dict, *, quiet: bool = False,
                      client: bool = False) -> Ref:
        problems = len(self.report.problems)
        name, phone, email = self.person(p)
        if quiet:
            del self.report.problems[problems:]
        employer = employer_row(org.id, EmployerInput(
            name=name, phone=phone, email=email, household_name=str(r.get("company_name") or "").strip(),
            location=str(r.get("location") or "").strip(), description=str(r.get("description") or "")),
            legacy_id=old_id)
        self.check_person(org.id, phone, email)
        employer["contact_id"] = self.claim_person(org.id, "employer", employer["name"], phone, email)
        employer["created_at"] = parse_when(p.get("created_at")) or self.now
        if client:
            employer["client_since"] = None
        ref = self.plan(AgencyEmployer, (AgencyEmployer, org.id, old_id), **employer)
        self.remember(AgencyEmployer, org.id, old_id, ref)
        return ref

    def agency_of(self, r: dict) -> Org:
        org = self.agency_orgs.get(str(r.get("agency_id")))
        if org is None:
            raise Skip(f"orphan: agency {r.get('agency_id')} is not among the imported agencies")
        return org

    def agency_worker(self, r: dict, old_id: str) -> str:
        org = self.agency_of(r)
        hid = str(r.get("worker_id"))
        if hid not in self.worker_inputs:
            raise Skip(f"orphan: worker {hid} is not among the imported housegirl_profiles")
        first = self.listed.setdefault((org.id, hid), old_id)
        if first != old_id:
            raise Skip(f"worker {hid} is listed twice by agency {r.get('agency_id')}", f"skipped; {first} is kept")
        if self.existing_id(AgencyWorker, org.id, old_id) is not None:
            return "existing"
        base, created_at = self.worker_inputs[hid]
        c = "agency_workers"
        verification = str(r.get("verification_status") or "").strip().lower()
        if verification not in ("unverified", "pending", "verified", "rejected"):
            self.problem(c, old_id, f"unknown verification_status {r.get('verification_status')!r}",
                         "imported as pending")
            verification = "pending"
        check = str(r.get("background_check") or "").strip().lower()
        if check not in ("pending", "cleared", "flagged"):
            self.problem(c, old_id, f"unknown background_check {r.get('background_check')!r}", "imported as pending")
            check = "pending"
        fee = parse_whole_amount(r.get("membership_fee"))
        if fee is None and r.get("membership_fee") not in (None, ""):
            self.problem(c, old_id, f"unparseable membership_fee {r.get('membership_fee')!r}", "imported as 0")
        joined = self.when(c, old_id, r.get("joined_at"), "joined_at") if r.get("joined_at") else None
        certificates = [str(x).strip() for x in (r.get("training_certificates") or []) if str(x).strip()]
        data = replace(base, **{"membership_fee_minor": (fee or 0) * 100,
                              "joined_on": joined.astimezone(NAIROBI).date() if joined else None,
                              "skills": certificates})
        worker = self.plan_worker(org, data, old_id, created_at or self.now, verification_status=verification,
                                  background_check=check)
        for n, title in enumerate(certificates, 1):
            self.plan(AgencyWorkerFile, org_id=org.id, worker_id=worker, kind="certificate", title=title,
                      legacy_id=f"{old_id}#{n}")
        return "created"

    def agency_client(self, r: dict, old_id: str) -> str:
        org = self.agency_of(r)
        eid = str(r.get("client_id"))
        employer_record = self.employer_records.get(eid)
        if employer_record is None:
            raise Skip(f"orphan: client {eid} is not in employer_profiles")
        if self.existing_id(AgencyPlacement, org.id, old_id) is not None:
            return "existing"
        status = STATUS_OF_CLIENT.get(str(r.get("placement_status") or "").strip().lower())
        if status is None:
            raise Skip(f"unknown placement_status {r.get('placement_status')!r}",
                       "skipped (the money on it would be guessed)")
        employer_id = self.existing_id(AgencyEmployer, org.id, eid)
        if employer_id is None:
            p = self.profile(employer_record.get("profile_id"), "employer")
            employer_id = self.plan_employer(org, employer_record, eid, p, quiet=True, client=True)
        fee = parse_whole_amount(r.get("hiring_fee"))
        if fee is None:
            self.problem("agency_clients", old_id, f"unparseable hiring_fee {r.get('hiring_fee')!r}", "imported as 0")
        resolution = str(r.get("dispute_resolution") or "").strip()
        paid = r.get("commission_paid") is True
        if r.get("commission_paid") not in (True, False, None):
            self.problem("agency_clients", old_id, f"commission_paid is {r.get('commission_paid')!r}",
                         "treated as not paid")
        # A dispute the old data resolved is over: the placement carries on.
        shown = "placed" if status == "disputed" and resolution else status
        fee_minor = (fee or 0) * 100
        placement = self.plan(
            AgencyPlacement, (AgencyPlacement, org.id, old_id), org_id=org.id, worker_id=None, employer_id=employer_id,
            status=shown, stage="placed" if shown == "disputed" else shown, fee_minor=fee_minor, commission_minor=0,
            legacy_id=old_id, notes="Imported from Domestic Connect; the old data does not name the worker.")
        self.remember(AgencyPlacement, org.id, old_id, placement)
        if fee_minor > 0 and (status != "proposed" or paid):
            # The old agency charged the fee when it was paid, even before the worker started.
            self.plan_entry(placement, org.id, "charge", fee_minor, f"{old_id}:charge")
        if paid and fee_minor > 0:
            self.plan_entry(placement, org.id, "payment", fee_minor, f"{old_id}:payment", reference=f"DC-{old_id}")
        dispute = None
        if resolution or status == "disputed":
            dispute = self.plan(AgencyDispute, (AgencyDispute, org.id, old_id), org_id=org.id,
                                placement_id=placement, legacy_id=old_id, notes="Disputed in Domestic Connect.",
                                resolution=resolution or None, resolved_at=self.now if resolution else None)
        if resolution and status == "proposed":
            self.problem("agency_clients", old_id, "a dispute resolution on a placement that was never placed",
                         "kept as a resolved dispute note")
        half = refunded_share(resolution)
        if half and fee_minor > 0:
            if paid:
                amount = fee_minor * half[0] // half[1]
                self.plan_entry(placement, org.id, "refund", amount, f"{old_id}:refund", dispute=dispute)
                self.plan_entry(placement, org.id, "waiver", amount, f"{old_id}:waiver", dispute=dispute,
                                note="refunded")
            else:
                self.problem("agency_clients", old_id, f"{resolution!r} but the fee was never marked paid",
                             "nothing refunded; the fee stays as it was")
        return "created"

    def subscription(self, r: dict, old_id: str) -> str:
        org = self.agency_of(r)
        if self.existing_id(AgencySubscription, org.id, old_id) is not None:
            return "existing"
        starts = parse_when(r.get("start_date"))
        if starts is None:
            raise Skip(f"unparseable start_date {r.get('start_date')!r}")
        ends = parse_when(r.get("end_date")) if r.get("end_date") else None
        if r.get("end_date") and ends is None:
            self.problem("agency_subscriptions", old_id, f"unparseable end_date {r.get('end_date')!r}",
                         "imported without an end")
        fee = parse_whole_amount(r.get("monthly_fee"))
        if fee is None:
            raise Skip(f"unparseable monthly_fee {r.get('monthly_fee')!r}")
        end_day = ends.astimezone(NAIROBI).date() if ends else None
        self.plan(AgencySubscription, org_id=org.id, tier=str(r.get("tier") or "basic").lower(),
                  monthly_fee_minor=fee * 100, starts_on=starts.astimezone(NAIROBI).date(), ends_on=end_day,
                  status=subscription_status(end_day), features=split_list(r.get("features")), legacy_id=old_id)
        return "created"

    def agency_payment(self, r: dict, old_id: str) -> str:
        org = self.agency_of(r)
        if self.existing_id(AgencyPayment, org.id, old_id) is not None:
            return "existing"
        kind = str(r.get("payment_type") or "").strip().lower()
        if kind not in ("subscription", "commission"):
            raise Skip(f"unknown payment_type {r.get('payment_type')!r}")
        amount = parse_whole_amount(r.get("amount"))
        if not amount:
            raise Skip(f"unparseable or zero amount {r.get('amount')!r}")
        status = self.money_status("agency_payments", old_id, r.get("status"))
        self.plan(AgencyPayment, org_id=org.id, kind=kind, amount_minor=amount * 100, status=status,
                  reference=f"DC-{old_id}", legacy_id=old_id,
                  paid_at=self.when("agency_payments", old_id, r.get("payment_date"), "payment_date"))
        return "created"

    def money_status(self, collection: str, old_id: str, raw: object) -> str:
        status = str(raw or "").strip().lower()
        if status not in ("pending", "completed", "failed"):
            self.problem(collection, old_id, f"unknown status {raw!r}", "imported as pending")
            return "pending"
        return status

    def package(self, r: dict, old_id: str) -> str:
        if self.existing_id(AgencyContactPackage, self.platform.id, old_id) is not None:
            return "existing"
        price, contacts = parse_whole_amount(r.get("price")), r.get("contacts_included")
        if price is None or not isinstance(contacts, int) or contacts <= 0:
            raise Skip(f"price {r.get('price')!r} or contacts_included {contacts!r} is not usable")
        ref = self.plan(AgencyContactPackage, (AgencyContactPackage, self.platform.id, old_id), org_id=self.platform.id,
                        name=str(r.get("name") or old_id), description=str(r.get("description") or ""),
                        price_minor=price * 100, contacts_included=contacts, legacy_id=old_id)
        self.remember(AgencyContactPackage, self.platform.id, old_id, ref)
        return "created"

    def platform_employer(self, profile_id: object) -> int:
        eid = self.employer_of_profile.get(str(profile_id))
        employer_id = self.existing_id(AgencyEmployer, self.platform.id, eid) if eid else None
        if employer_id is None:
            kind = self.profiles.get(str(profile_id), {}).get("user_type")
            raise Skip(f"orphan: user {profile_id} ({kind or 'not in profiles'}) is not an imported employer")
        return employer_id

    def purchase(self, r: dict, old_id: str) -> str:
        if self.existing_id(AgencyPurchase, self.platform.id, old_id) is not None:
            return "existing"
        employer_id = self.platform_employer(r.get("user_id"))
        package_id = self.existing_id(AgencyContactPackage, self.platform.id, str(r.get("package_id")))
        if package_id is None:
            raise Skip(f"orphan: package {r.get('package_id')} is not among the imported packages")
        if package_id not in self.packages:
            self.packages[package_id] = self.s.get(AgencyContactPackage, package_id)
        package = self.packages[package_id]
        amount = parse_whole_amount(r.get("amount"))
        if amount is None:
            self.problem("user_purchases", old_id, f"unparseable amount {r.get('amount')!r}",
                         "imported at the package price")
            amount = package.price_minor // 100
        elif amount * 100 != package.price_minor:
            self.problem("user_purchases", old_id, f"amount {amount} differs from the package price",
                         "kept as paid")
        status = self.money_status("user_purchases", old_id, r.get("status"))
        self.plan(
            AgencyPurchase, org_id=self.platform.id, employer_id=employer_id, package_id=package_id,
            amount_minor=amount * 100, status=status,
            credits_left=package.contacts_included if status == "completed" else 0, legacy_id=old_id,
            purchased_at=self.when("user_purchases", old_id, r.get("purchase_date"), "purchase_date"))
        return "created"

    def unlock(self, r: dict, old_id: str) -> str:
        if self.existing_id(AgencyUnlock, self.platform.id, old_id) is not None:
            return "existing"
        employer_id = self.platform_employer(r.get("user_id"))
        worker_id = self.existing_id(AgencyWorker, self.platform.id, str(r.get("target_profile_id")))
        if worker_id is None:
            raise Skip(f"orphan: worker {r.get('target_profile_id')} is not among the imported housegirl_profiles")
        if self.unlocked is None:
            self.load_credits()
        if (employer_id, worker_id) in self.unlocked:
            raise Skip("the same employer unlocked the same worker again", "skipped; the first unlock is kept")
        self.unlocked.add((employer_id, worker_id))
        self.undo.append(lambda: self.unlocked.discard((employer_id, worker_id)))
        purchase = next((c for c in self.credits.get(employer_id, []) if c[1] > 0), None)
        if purchase is None:
            self.problem("contact_access", old_id, "unlocked without a paid credit left",
                         "kept (the number was already shown); no credit charged")
        else:
            purchase[1] -= 1
            self.spent[purchase[0]] = purchase[1]

            def give_back(purchase=purchase):
                purchase[1] += 1
                self.spent[purchase[0]] = purchase[1]
            self.undo.append(give_back)
        self.plan(AgencyUnlock, org_id=self.platform.id, employer_id=employer_id, worker_id=worker_id,
                  purchase_id=purchase[0] if purchase else None, unlocked_by="domestic-connect",
                  unlocked_at=self.when("contact_access", old_id, r.get("access_date"), "access_date"),
                  legacy_id=old_id)
        return "created"

    def load_credits(self) -> None:
        """Who unlocked whom on the platform, and the credits each employer's completed purchases have left."""
        self.unlocked = set(self.s.execute(select(AgencyUnlock.employer_id, AgencyUnlock.worker_id)
                                           .where(AgencyUnlock.org_id == self.platform.id)).all())
        for pid, employer_id, left in self.s.execute(
                select(AgencyPurchase.id, AgencyPurchase.employer_id, AgencyPurchase.credits_left)
                .where(AgencyPurchase.org_id == self.platform.id, AgencyPurchase.status == "completed",
                       AgencyPurchase.credits_left > 0).order_by(AgencyPurchase.id)):
            self.credits.setdefault(employer_id, []).append([pid, left])

    def photo(self, r: dict, old_id: str) -> str:
        if self.existing_id(AgencyWorkerFile, self.platform.id, old_id) is not None:
            return "existing"
        pid = str(r.get("profile_id"))
        hid = self.housegirl_of_profile.get(pid)
        worker_id = self.existing_id(AgencyWorker, self.platform.id, hid) if hid else None
        if worker_id is None:
            raise Skip(f"orphan: profile {pid} is not an imported worker")
        self.plan(
            AgencyWorkerFile, org_id=self.platform.id, worker_id=worker_id, kind="photo",
            title="Photo from Domestic Connect", legacy_path=str(r.get("photo_url") or "") or None, legacy_id=old_id,
            uploaded_at=self.when("photos", old_id, r.get("upload_date"), "upload_date"))
        return "created"


def import_domestic_connect(session: Session, actor: Actor, data: dict, *, org_prefix: str = "dc-",
                            dry_run: bool = False) -> MigrationReport:
    """Import the old export in one transaction; with ``dry_run`` roll it all back."""
    if not actor.system:
        raise PermissionDenied("Only an administrator with database access can import Domestic Connect data.")
    if not isinstance(data, dict):
        raise InvalidInput("The file is not a json-server export (an object of collections).")
    prefix = slugify(org_prefix) + "-" if org_prefix.strip("-") else ""
    migration = Migration(session, actor, data, prefix, dry_run)
    try:
        report = migration.run()
        audit.record(session, actor, "agency.import.domestic_connect", "org", migration.platform.id,
                     org_id=migration.platform.id,
                     after={"created": report.created, "problems": len(report.problems), "dry_run": dry_run})
    except BaseException:
        session.rollback()
        raise
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return report

