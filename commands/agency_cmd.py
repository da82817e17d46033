"""`ofisi workers|employers|placements …`, the agency imports, exports and report.

Worker phones are masked in every output here, tables and ``--json`` alike,
unless ``--employer`` names an employer who has unlocked that worker.
Money options are in the org's currency (``7000`` or ``7,000.50``); JSON
carries minor units.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from commands.chama_cmd import parse_day
from commands.common import err, org_id_for, print_json, print_table, unit_of_work

workers_app = typer.Typer(help="Domestic workers: search, add, verify, background checks, unlocks, SMS.",
                          no_args_is_help=True)
employers_app = typer.Typer(help="Employers (an agency's clients): list, add, buy contacts, SMS.",
                            no_args_is_help=True)
placements_app = typer.Typer(help="Placements: list, add, move along, disputes, payments, refunds, ratings.",
                             no_args_is_help=True)
agency_app = typer.Typer(help="A domestic-staffing agency: workers, employers, placements, contact packages, "
                              "subscriptions, the SMS inbox, documents and matching.", no_args_is_help=True)
agency_app.add_typer(workers_app, name="workers")
agency_app.add_typer(employers_app, name="employers")
agency_app.add_typer(placements_app, name="placements")

ORG = typer.Option(..., "--org", help="Agency slug.")
JSON = typer.Option(False, "--json", help="Print JSON on stdout (money in minor units).")


def agency_for(session, actor, slug: str):
    from core.errors import InvalidInput

    org = org_id_for(session, actor, slug)
    if org.kind != "agency":
        raise InvalidInput(f"{org.slug} is a {org.kind} organisation, not an agency.")
    return org


def amount(text: Optional[str], org) -> Optional[int]:
    from core.money import parse_money

    return None if text is None else parse_money(text, org.currency)


def money(minor: Optional[int], org) -> str:
    from core.money import format_money

    return "" if minor is None else format_money(minor, org.currency)


# ---------------------------------------------------------------- workers


@workers_app.command("search")
def workers_search(
    org: str = ORG,
    location: Optional[str] = typer.Option(None, "--location", help="Town, like Nairobi."),
    availability: list[str] = typer.Option([], "--availability", help="immediate, two_weeks, one_month (repeat)."),
    accommodation: Optional[str] = typer.Option(None, "--accommodation", help="live_in, live_out or either."),
    salary_min: Optional[str] = typer.Option(None, "--salary-min", help="Lowest expected salary."),
    salary_max: Optional[str] = typer.Option(None, "--salary-max", help="Highest expected salary."),
    min_experience: Optional[int] = typer.Option(None, "--min-experience", min=0, help="Years at least."),
    skill: list[str] = typer.Option([], "--skill", help="A skill the worker must have (repeat for all of them)."),
    verified: bool = typer.Option(False, "--verified", help="Only verified workers."),
    include_placed: bool = typer.Option(False, "--include-placed", help="Also workers already placed."),
    name: str = typer.Option("", "--name", help="Part of the name."),
    employer: Optional[int] = typer.Option(None, "--employer", help="Show numbers this employer has unlocked."),
    limit: int = typer.Option(20, "--limit", min=1, max=500),
    offset: int = typer.Option(0, "--offset", min=0),
    after: Optional[str] = typer.Option(None, "--after", help="RANK:ID from the previous page's next_after."),
    as_json: bool = JSON,
) -> None:
    """Workers who match, best first (verified, cleared, experienced, available soonest)."""
    from core.agency.workers import WorkerFilters, search_workers

    keyset = None
    if after:
        try:
            rank, last = after.split(":")
            keyset = (int(rank), int(last))
        except ValueError:
            raise typer.BadParameter("--after is RANK:ID, like 720:1234.") from None
    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        filters = WorkerFilters(location=location, availability=tuple(availability), accommodation=accommodation,
                                salary_min_minor=amount(salary_min, o), salary_max_minor=amount(salary_max, o),
                                min_experience=min_experience, skills=tuple(skill), verified_only=verified,
                                include_placed=include_placed, text=name)
        page = search_workers(session, actor, o.id, filters, limit=limit, offset=offset, after=keyset,
                              employer_id=employer)
    if as_json:
        print_json({"workers": page.workers,
                    "next_after": f"{page.next_after[0]}:{page.next_after[1]}" if page.next_after else None})
        return
    print_table(f"Workers of {o.name}", ["ID", "Name", "Phone", "Age", "Location", "Experience", "Salary",
                                         "Accommodation", "Availability", "Verified", "Background", "Skills"],
                [[w.id, w.name, w.phone, w.age, w.location, f"{w.experience_years} y",
                  money(w.expected_salary_minor, o), w.accommodation, w.availability, w.verification_status,
                  w.background_check, ", ".join(w.skills)] for w in page.workers])
    if page.next_after:
        err(f"More: --after {page.next_after[0]}:{page.next_after[1]}")


@workers_app.command("add")
def workers_add(
    org: str = ORG,
    name: str = typer.Option(..., "--name"),
    phone: Optional[str] = typer.Option(None, "--phone"),
    email: Optional[str] = typer.Option(None, "--email"),
    born: Optional[str] = typer.Option(None, "--born", help="Date of birth, like 1995-04-30."),
    location: str = typer.Option("", "--location"),
    education: str = typer.Option("", "--education"),
    experience: int = typer.Option(0, "--experience", min=0, help="Years."),
    salary: Optional[str] = typer.Option(None, "--salary", help="Expected monthly salary."),
    accommodation: str = typer.Option("either", "--accommodation", help="live_in, live_out or either."),
    availability: str = typer.Option("immediate", "--availability"),
    skill: list[str] = typer.Option([], "--skill", help="Repeat for each skill."),
    language: list[str] = typer.Option([], "--language", help="Repeat for each language."),
    bio: str = typer.Option("", "--bio"),
    as_json: bool = JSON,
) -> None:
    """Put a worker on the agency's books."""
    from core.agency.workers import WorkerInput, add_worker

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        w = add_worker(session, actor, o.id, WorkerInput(
            name=name, phone=phone, email=email, date_of_birth=parse_day(born), location=location,
            education=education, experience_years=experience, expected_salary_minor=amount(salary, o),
            accommodation=accommodation, availability=availability, skills=skill, languages=language, bio=bio))
    for notice in w.notices:
        err(notice)
    print_json(w) if as_json else err(f"Added worker {w.id}: {w.name} ({w.phone or 'no phone'}).")


@workers_app.command("show")
def workers_show(worker_id: int, org: str = ORG,
                 employer: Optional[int] = typer.Option(None, "--employer",
                                                        help="Show the number if this employer unlocked it."),
                 as_json: bool = JSON) -> None:
    """One worker's profile (the phone masked unless unlocked by --employer)."""
    from core.agency.files import list_files
    from core.agency.workers import get_worker

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        w = get_worker(session, actor, o.id, worker_id, employer_id=employer)
        files = list_files(session, actor, o.id, worker_id)
    if as_json:
        print_json({"worker": w, "files": files})
        return
    for label, value in (("Name", w.name), ("Phone", w.phone), ("Email", w.email), ("Age", w.age),
                         ("Location", w.location), ("Availability", w.availability),
                         ("Salary", money(w.expected_salary_minor, o)), ("Verification", w.verification_status),
                         ("Background", f"{w.background_check} {w.background_checked_on or ''} {w.background_notes}"),
                         ("Skills", ", ".join(w.skills)), ("Files", len(files))):
        typer.echo(f"{label:13} {value if value is not None else ''}")


@workers_app.command("verify")
def workers_verify(worker_id: int, org: str = ORG,
                   status: str = typer.Option("verified", "--status", help="verified, pending, rejected.")) -> None:
    """Set a worker's verification status."""
    from core.agency.workers import set_verification

    with unit_of_work() as (session, actor):
        w = set_verification(session, actor, agency_for(session, actor, org).id, worker_id, status)
    err(f"{w.name} is now {w.verification_status}.")


@workers_app.command("check")
def workers_check(worker_id: int, org: str = ORG,
                  result: str = typer.Option(..., "--result", help="cleared, flagged or pending."),
                  notes: str = typer.Option("", "--notes", help="What was found (needed when flagged)."),
                  on: Optional[str] = typer.Option(None, "--on", help="Date of the check (default today).")) -> None:
    """Record a background check."""
    from core.agency.workers import record_background_check

    with unit_of_work() as (session, actor):
        w = record_background_check(session, actor, agency_for(session, actor, org).id, worker_id, result,
                                    checked_on=parse_day(on), notes=notes)
    err(f"{w.name}: background check {w.background_check} on {w.background_checked_on}.")


@workers_app.command("photo")
def workers_photo(worker_id: int, file: Path, org: str = ORG,
                  certificate: Optional[str] = typer.Option(None, "--certificate",
                                                            help="Store as a training certificate with this title.")
                  ) -> None:
    """Keep a photo (JPEG, PNG, WebP) or a certificate (also PDF) of a worker, at most 5 MB."""
    from core.agency.files import store_file

    with unit_of_work() as (session, actor):
        f = store_file(session, actor, agency_for(session, actor, org).id, worker_id, file,
                       kind="certificate" if certificate else "photo", title=certificate or "")
    err(f"Stored {f.kind} {f.id} ({f.content_type}, {f.size_bytes:,} bytes, sha256 {f.sha256[:12]}…).")


@workers_app.command("unlock")
def workers_unlock(worker_id: int, org: str = ORG, employer: int = typer.Option(..., "--employer"),
                   sms: bool = typer.Option(False, "--sms", help="Text the number to the employer instead of "
                                                                 "printing it."),
                   as_json: bool = JSON) -> None:
    """Spend one of the employer's contact credits on this worker's number (free if already unlocked)."""
    from core.agency.commerce import reveal_phone, sms_unlocked_contact, unlock_contact

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        result = unlock_contact(session, actor, o.id, employer_id=employer, worker_id=worker_id)
        if sms:
            queued = sms_unlocked_contact(session, actor, o.id, employer_id=employer, worker_id=worker_id)
            err(f"Unlocked; the number is queued to the employer by SMS (message {queued}); "
                f"{result.credits_left} credits left.")
            return
        phone = reveal_phone(session, actor, o.id, employer_id=employer, worker_id=worker_id)
    if as_json:
        print_json({**result.__dict__, "phone": phone})
        return
    err(("Unlocked for one credit" if result.charged else "Already unlocked; no credit spent")
        + f"; {result.credits_left} credits left.")
    typer.echo(phone)


@workers_app.command("sms")
def workers_sms(worker_id: int, org: str = ORG, text: str = typer.Option(..., "--text")) -> None:
    """Queue an SMS to the worker (staff never see the number)."""
    from core.agency.workers import sms_worker

    with unit_of_work() as (session, actor):
        message_id = sms_worker(session, actor, agency_for(session, actor, org).id, worker_id, text)
    err(f"Queued message {message_id}; `ofisi send due` sends it.")


@workers_app.command("unlocks")
def workers_unlocks(org: str = ORG, employer: Optional[int] = typer.Option(None, "--employer"),
                    limit: int = typer.Option(50, "--limit", min=1, max=500), as_json: bool = JSON) -> None:
    """Unlock history, newest first."""
    from core.agency.commerce import list_unlocks

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        rows = list_unlocks(session, actor, o.id, employer_id=employer, limit=limit)
    if as_json:
        print_json(rows)
        return
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(o.timezone)  # the agency's clock, not UTC
    print_table("Unlocks", ["When", "Employer", "Worker", "By"],
                [[f"{u.unlocked_at.astimezone(zone):%Y-%m-%d %H:%M}", u.employer_name, u.worker_name, u.unlocked_by]
                 for u in rows])


# ---------------------------------------------------------------- employers


@employers_app.command("list")
def employers_list(org: str = ORG, search: str = typer.Option("", "--search"),
                   limit: int = typer.Option(50, "--limit", min=1, max=500), as_json: bool = JSON) -> None:
    """Employers, newest first."""
    from core.agency.employers import list_employers

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        rows = list_employers(session, actor, o.id, search=search, limit=limit)
    if as_json:
        print_json(rows)
        return
    print_table(f"Employers of {o.name}", ["ID", "Name", "Household", "Phone", "Location", "Credits"],
                [[e.id, e.name, e.household_name, e.phone, e.location, e.credits_left] for e in rows])


@employers_app.command("add")
def employers_add(org: str = ORG, name: str = typer.Option(..., "--name"),
                  phone: Optional[str] = typer.Option(None, "--phone"),
                  email: Optional[str] = typer.Option(None, "--email"),
                  household: str = typer.Option("", "--household", help="Household or company name."),
                  location: str = typer.Option("", "--location"),
                  requirements: str = typer.Option("", "--requirements"), as_json: bool = JSON) -> None:
    """Add an employer (a client of the agency)."""
    from core.agency.employers import EmployerInput, add_employer

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        e = add_employer(session, actor, o.id, EmployerInput(name=name, phone=phone, email=email,
                                                             household_name=household, location=location,
                                                             requirements=requirements))
    print_json(e) if as_json else err(f"Added employer {e.id}: {e.name}.")


@employers_app.command("buy")
def employers_buy(employer_id: int, org: str = ORG, package: int = typer.Option(..., "--package"),
                  paid: bool = typer.Option(False, "--paid", help="The payment is already received."),
                  reference: Optional[str] = typer.Option(None, "--reference", help="The payment's M-Pesa code.")
                  ) -> None:
    """Record an employer's purchase of a contact package."""
    from core.agency.commerce import buy_package, settle_purchase

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        p = buy_package(session, actor, o.id, employer_id=employer_id, package_id=package)
        if paid or reference:
            p = settle_purchase(session, actor, o.id, p.id, paid=True, reference=reference)
    err(f"Purchase {p.id}: {p.status}, {p.credits_left} contact credits.")


@employers_app.command("sms")
def employers_sms(employer_id: int, org: str = ORG, text: str = typer.Option(..., "--text")) -> None:
    """Queue an SMS to the employer."""
    from core.agency.employers import sms_employer

    with unit_of_work() as (session, actor):
        message_id = sms_employer(session, actor, agency_for(session, actor, org).id, employer_id, text)
    err(f"Queued message {message_id}; `ofisi send due` sends it.")


# ---------------------------------------------------------------- placements


@placements_app.command("list")
def placements_list(org: str = ORG, status: Optional[str] = typer.Option(None, "--status"),
                    limit: int = typer.Option(50, "--limit", min=1, max=500), as_json: bool = JSON) -> None:
    """Placements, newest first."""
    from core.agency.placements import list_placements

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        rows = list_placements(session, actor, o.id, status=status, limit=limit)
    if as_json:
        print_json(rows)
        return
    print_table(f"Placements of {o.name}", ["ID", "Worker", "Employer", "Status", "Start", "Fee", "Commission",
                                            "Received", "Refunded", "Owed"],
                [[p.id, p.worker_name, p.employer_name, p.status, p.start_date or "", money(p.fee_minor, o),
                  money(p.commission_minor, o), money(p.received_minor, o), money(p.refunded_minor, o),
                  money(p.owed_minor, o)] for p in rows])


@placements_app.command("add")
def placements_add(
    org: str = ORG,
    worker: int = typer.Option(..., "--worker"),
    employer: int = typer.Option(..., "--employer"),
    fee: str = typer.Option("0", "--fee", help="Placement (hiring) fee."),
    commission: str = typer.Option("0", "--commission"),
    salary: Optional[str] = typer.Option(None, "--salary", help="Agreed monthly salary."),
    start: Optional[str] = typer.Option(None, "--start", help="Start date."),
    placed: bool = typer.Option(False, "--placed", help="The worker has started (default: a proposal)."),
    replaces: Optional[int] = typer.Option(None, "--replaces", help="The ended placement this one replaces "
                                           "(within the guarantee period no new fee is charged)."),
    override: str = typer.Option("", "--override", help="An admin's reason to place a rejected or flagged worker."),
    notes: str = typer.Option("", "--notes"),
    as_json: bool = JSON,
) -> None:
    """Propose a worker to an employer, or record that they are placed."""
    from core.agency.placements import add_placement

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        p = add_placement(session, actor, o.id, worker_id=worker, employer_id=employer, fee_minor=amount(fee, o),
                          commission_minor=amount(commission, o), agreed_salary_minor=amount(salary, o),
                          start_date=parse_day(start), status="placed" if placed else "proposed",
                          replaces_id=replaces, override=override, notes=notes)
    for notice in p.notices:
        err(notice)
    print_json(p) if as_json else err(f"Placement {p.id}: {p.worker_name} with {p.employer_name}, {p.status}.")


@placements_app.command("move")
def placements_move(placement_id: int, org: str = ORG,
                    status: str = typer.Option(..., "--status",
                                               help="interview, placed, trial, confirmed or ended."),
                    on: Optional[str] = typer.Option(None, "--on", help="The day it happened."),
                    override: str = typer.Option("", "--override",
                                                 help="An admin's reason to place a rejected or flagged worker."),
                    ) -> None:
    """Move a placement: proposed → interview → placed → trial → confirmed → ended."""
    from core.agency.placements import move_placement

    with unit_of_work() as (session, actor):
        p = move_placement(session, actor, agency_for(session, actor, org).id, placement_id, status,
                           on=parse_day(on), override=override)
    err(f"Placement {p.id} is {p.status}.")


@placements_app.command("dispute")
def placements_dispute(placement_id: int, org: str = ORG, notes: str = typer.Option(..., "--notes")) -> None:
    """Open a dispute on a placement."""
    from core.agency.placements import open_dispute

    with unit_of_work() as (session, actor):
        dispute_id = open_dispute(session, actor, agency_for(session, actor, org).id, placement_id, notes)
    err(f"Dispute {dispute_id} opened.")


@placements_app.command("resolve")
def placements_resolve(dispute_id: int, org: str = ORG, resolution: str = typer.Option(..., "--resolution"),
                       end: bool = typer.Option(False, "--end", help="End the placement too."),
                       refund: Optional[str] = typer.Option(None, "--refund", help="Money given back."),
                       waive: Optional[str] = typer.Option(None, "--waive", help="Part of what is owed let go."),
                       reference: Optional[str] = typer.Option(None, "--reference", help="The refund's M-Pesa code."),
                       ) -> None:
    """Resolve a dispute with its money effect; the placement continues unless --end."""
    from core.agency.placements import resolve_dispute

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        p = resolve_dispute(session, actor, o.id, dispute_id, resolution, end_placement=end,
                            refund_minor=amount(refund, o) or 0, waive_minor=amount(waive, o) or 0,
                            reference=reference)
    err(f"Resolved; placement {p.id} is {p.status}; {money(p.owed_minor, o)} owed, "
        f"{money(p.refunded_minor, o)} refunded.")


@placements_app.command("disputes")
def placements_disputes(org: str = ORG, open_only: bool = typer.Option(False, "--open", help="Only open ones."),
                        as_json: bool = JSON) -> None:
    """Disputes, newest first, with what they refunded or let go."""
    from core.agency.placements import list_disputes

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        rows = list_disputes(session, actor, o.id, open_only=open_only)
    if as_json:
        print_json(rows)
        return
    print_table("Disputes", ["ID", "Placement", "Worker", "Employer", "Notes", "Resolution", "Refunded", "Waived"],
                [[d.id, d.placement_id, d.worker_name, d.employer_name, d.notes, d.resolution or "(open)",
                  money(d.refunded_minor, o), money(d.waived_minor, o)] for d in rows])


@placements_app.command("refund")
def placements_refund(placement_id: int, org: str = ORG, amount_text: str = typer.Option(..., "--amount"),
                      kind: str = typer.Option("fee", "--kind", help="fee or commission."),
                      reference: Optional[str] = typer.Option(None, "--reference")) -> None:
    """Give back all or part of what was received; the fee is lowered by as much."""
    from core.agency.placements import record_refund

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        p = record_refund(session, actor, o.id, placement_id, amount_minor=amount(amount_text, o), item=kind,
                          reference=reference)
    err(f"Refunded; placement {p.id}: {money(p.refunded_minor, o)} refunded, {money(p.owed_minor, o)} owed.")


@placements_app.command("waive")
def placements_waive(placement_id: int, org: str = ORG, amount_text: str = typer.Option(..., "--amount"),
                     kind: str = typer.Option("fee", "--kind", help="fee or commission."),
                     note: str = typer.Option("", "--note")) -> None:
    """Let go of part of what a placement still owes."""
    from core.agency.placements import waive

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        p = waive(session, actor, o.id, placement_id, amount_minor=amount(amount_text, o), item=kind, note=note)
    err(f"Placement {p.id}: {money(p.owed_minor, o)} still owed.")


@placements_app.command("rate")
def placements_rate(placement_id: int, org: str = ORG, rating: int = typer.Option(..., "--rating", min=1, max=5),
                    notes: str = typer.Option("", "--notes")) -> None:
    """Rate an ended placement (1–5), for the agency's own use."""
    from core.agency.placements import rate_placement

    with unit_of_work() as (session, actor):
        p = rate_placement(session, actor, agency_for(session, actor, org).id, placement_id, rating, notes)
    err(f"Placement {p.id} rated {p.rating}.")


@placements_app.command("pay")
def placements_pay(placement_id: int, org: str = ORG, amount_text: str = typer.Option(..., "--amount"),
                   kind: str = typer.Option("fee", "--kind", help="fee or commission."),
                   reference: str = typer.Option(..., "--reference", help="M-Pesa code or receipt number.")) -> None:
    """Record money received against a placement's fee or commission."""
    from core.agency.placements import record_payment

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        p = record_payment(session, actor, o.id, placement_id, kind=kind, amount_minor=amount(amount_text, o),
                           reference=reference)
    err(f"Recorded; {money(p.owed_minor, o)} still owed on placement {p.id}.")


# ---------------------------------------------------------------- edits and history


def _changes(o, **given) -> dict:
    """The options a person gave (None means "leave as it is"); money parsed in the org's currency."""
    out = {}
    for name, value in given.items():
        if value is None or value == []:
            continue
        out[name] = amount(value, o) if name == "expected_salary_minor" else value
    return out


@workers_app.command("edit")
def workers_edit(
    worker_id: int,
    org: str = ORG,
    name: Optional[str] = typer.Option(None, "--name"),
    phone: Optional[str] = typer.Option(None, "--phone"),
    email: Optional[str] = typer.Option(None, "--email"),
    location: Optional[str] = typer.Option(None, "--location"),
    education: Optional[str] = typer.Option(None, "--education"),
    experience: Optional[int] = typer.Option(None, "--experience", min=0),
    salary: Optional[str] = typer.Option(None, "--salary", help="Expected monthly salary."),
    accommodation: Optional[str] = typer.Option(None, "--accommodation"),
    availability: Optional[str] = typer.Option(None, "--availability",
                                               help="immediate, two_weeks, one_month or unavailable."),
    skill: list[str] = typer.Option([], "--skill", help="The whole new list of skills (repeat)."),
    language: list[str] = typer.Option([], "--language", help="The whole new list of languages (repeat)."),
    bio: Optional[str] = typer.Option(None, "--bio"),
    as_json: bool = JSON,
) -> None:
    """Change any of a worker's details; every change is kept in her history."""
    from core.agency.workers import update_worker

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        w = update_worker(session, actor, o.id, worker_id, _changes(
            o, name=name, phone=phone, email=email, location=location, education=education,
            experience_years=experience, expected_salary_minor=salary, accommodation=accommodation,
            availability=availability, skills=skill or None, languages=language or None, bio=bio))
    for notice in w.notices:
        err(notice)
    print_json(w) if as_json else err(f"Worker {w.id} {w.name}: {w.availability}, "
                                      f"{money(w.expected_salary_minor, o) or 'no salary given'}.")


def _history(entity: str, entity_id: int, org: str, field_name: Optional[str], as_json: bool) -> None:
    from core.agency.workers import change_history

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        rows = change_history(session, actor, o.id, entity, entity_id, field_name=field_name)
    if as_json:
        print_json(rows)
        return
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(o.timezone)
    print_table(f"Changes to {entity} {entity_id}", ["When", "Field", "Before", "After", "By"],
                [[f"{c.changed_at.astimezone(zone):%Y-%m-%d %H:%M}", c.field, c.before or "", c.after or "",
                  c.changed_by] for c in rows])


@workers_app.command("history")
def workers_history(worker_id: int, org: str = ORG,
                    field_name: Optional[str] = typer.Option(None, "--field", help="availability, salary…"),
                    as_json: bool = JSON) -> None:
    """A worker's changes, newest first (availability and salary among them)."""
    _history("worker", worker_id, org, "expected_salary_minor" if field_name == "salary" else field_name, as_json)


@employers_app.command("edit")
def employers_edit(
    employer_id: int,
    org: str = ORG,
    name: Optional[str] = typer.Option(None, "--name"),
    phone: Optional[str] = typer.Option(None, "--phone"),
    email: Optional[str] = typer.Option(None, "--email"),
    household: Optional[str] = typer.Option(None, "--household"),
    location: Optional[str] = typer.Option(None, "--location"),
    description: Optional[str] = typer.Option(None, "--description"),
    requirements: Optional[str] = typer.Option(None, "--requirements"),
    as_json: bool = JSON,
) -> None:
    """Change any of an employer's details; every change is kept in the history."""
    from core.agency.employers import update_employer

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        e = update_employer(session, actor, o.id, employer_id, _changes(
            o, name=name, phone=phone, email=email, household_name=household, location=location,
            description=description, requirements=requirements))
    for notice in e.notices:
        err(notice)
    print_json(e) if as_json else err(f"Employer {e.id} {e.name} updated.")


@employers_app.command("show")
def employers_show(employer_id: int, org: str = ORG, as_json: bool = JSON) -> None:
    """One employer, with the contact credits left."""
    from core.agency.employers import get_employer

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        e = get_employer(session, actor, o.id, employer_id)
    if as_json:
        print_json(e)
        return
    for label, value in (("Name", e.name), ("Household", e.household_name), ("Phone", e.phone),
                         ("Email", e.email or ""), ("Location", e.location), ("Requirements", e.requirements),
                         ("Credits left", e.credits_left)):
        typer.echo(f"{label:13} {value}")


@employers_app.command("history")
def employers_history(employer_id: int, org: str = ORG,
                      field_name: Optional[str] = typer.Option(None, "--field"), as_json: bool = JSON) -> None:
    """An employer's changes, newest first."""
    _history("employer", employer_id, org, field_name, as_json)


# ---------------------------------------------------------------- the contact business

packages_app = typer.Typer(help="Contact packages employers buy: add, list, price, retire.", no_args_is_help=True)
purchases_app = typer.Typer(help="Employers' package purchases: buy, pay by M-Pesa, mark paid, list.",
                            no_args_is_help=True)
subscriptions_app = typer.Typer(help="The agency's subscriptions and its payments to the platform.",
                                no_args_is_help=True)
inbox_app = typer.Typer(help="Texts from workers and employers that no keyword answered.", no_args_is_help=True)
documents_app = typer.Typer(help="Workers' documents (ID, good conduct, medical, reference) and their expiry.",
                            no_args_is_help=True)
agency_app.add_typer(packages_app, name="packages")
agency_app.add_typer(purchases_app, name="purchases")
agency_app.add_typer(subscriptions_app, name="subscriptions")
agency_app.add_typer(inbox_app, name="inbox")
agency_app.add_typer(documents_app, name="documents")


@packages_app.command("add")
def packages_add(org: str = ORG, name: str = typer.Option(..., "--name"),
                 price: str = typer.Option(..., "--price"),
                 contacts: int = typer.Option(..., "--contacts", min=1, help="Worker numbers included."),
                 description: str = typer.Option("", "--description"), as_json: bool = JSON) -> None:
    """Start selling a contact package."""
    from core.agency.commerce import add_package

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        p = add_package(session, actor, o.id, name=name, price_minor=amount(price, o), contacts_included=contacts,
                        description=description)
    print_json(p) if as_json else err(f"Package {p.id}: {p.name}, {p.contacts_included} contacts for "
                                      f"{money(p.price_minor, o)}.")


@packages_app.command("list")
def packages_list(org: str = ORG, retired: bool = typer.Option(False, "--retired", help="Also retired ones."),
                  as_json: bool = JSON) -> None:
    """The packages on sale."""
    from core.agency.commerce import list_packages

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        rows = list_packages(session, actor, o.id, include_retired=retired)
    if as_json:
        print_json(rows)
        return
    print_table("Contact packages", ["ID", "Name", "Contacts", "Price", "Retired"],
                [[p.id, p.name, p.contacts_included, money(p.price_minor, o), "yes" if p.retired else ""]
                 for p in rows])


@packages_app.command("price")
def packages_price(package_id: int, org: str = ORG, price: str = typer.Option(..., "--price")) -> None:
    """Change a package's price (purchases already made keep theirs)."""
    from core.agency.commerce import change_package

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        p = change_package(session, actor, o.id, package_id, price_minor=amount(price, o))
    err(f"{p.name} now costs {money(p.price_minor, o)}.")


@packages_app.command("retire")
def packages_retire(package_id: int, org: str = ORG) -> None:
    """Stop selling a package."""
    from core.agency.commerce import change_package

    with unit_of_work() as (session, actor):
        p = change_package(session, actor, agency_for(session, actor, org).id, package_id, retire=True)
    err(f"{p.name} is retired.")


@purchases_app.command("buy")
def purchases_buy(org: str = ORG, employer: int = typer.Option(..., "--employer"),
                  package: int = typer.Option(..., "--package"),
                  mpesa: bool = typer.Option(False, "--mpesa", help="Send the M-Pesa prompt to the employer's phone."),
                  phone: Optional[str] = typer.Option(None, "--phone", help="Prompt this phone instead.")) -> None:
    """An employer buys a package: pending until paid (by M-Pesa, or marked paid with `purchases pay`)."""
    from core.agency.commerce import buy_package, pay_by_mpesa

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        p = buy_package(session, actor, o.id, employer_id=employer, package_id=package)
        request = pay_by_mpesa(session, actor, o.id, p.id, phone=phone) if mpesa or phone else None
    err(f"Purchase {p.id}: {money(p.amount_minor, o)}, pending"
        + (f"; M-Pesa request {request} queued (`ofisi payments send` or the gateway sends it)." if request
           else "; mark it paid with `ofisi agency purchases pay`."))


@purchases_app.command("pay")
def purchases_pay(purchase_id: int, org: str = ORG,
                  reference: str = typer.Option(..., "--reference", help="The M-Pesa code or receipt number."),
                  failed: bool = typer.Option(False, "--failed", help="The payment failed: no credits.")) -> None:
    """Mark a pending purchase paid (its contacts become credits) or failed."""
    from core.agency.commerce import settle_purchase

    with unit_of_work() as (session, actor):
        p = settle_purchase(session, actor, agency_for(session, actor, org).id, purchase_id, paid=not failed,
                            reference=reference)
    err(f"Purchase {p.id}: {p.status}, {p.credits_left} contact credits.")


@purchases_app.command("list")
def purchases_list(org: str = ORG, employer: Optional[int] = typer.Option(None, "--employer"),
                   status: Optional[str] = typer.Option(None, "--status"), as_json: bool = JSON) -> None:
    """Purchases, newest first, with their reference and credits left."""
    from core.agency.commerce import list_purchases

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        rows = list_purchases(session, actor, o.id, employer_id=employer, status=status)
    if as_json:
        print_json(rows)
        return
    print_table("Purchases", ["ID", "Employer", "Package", "Amount", "Status", "Credits left", "Reference"],
                [[p.id, p.employer_id, p.package_id, money(p.amount_minor, o), p.status, p.credits_left,
                  p.reference or ""] for p in rows])


@subscriptions_app.command("add")
def subscriptions_add(org: str = ORG, tier: str = typer.Option(..., "--tier"),
                      fee: str = typer.Option(..., "--fee", help="Monthly fee."),
                      start: str = typer.Option(..., "--start"), end: Optional[str] = typer.Option(None, "--end"),
                      ) -> None:
    """Record a subscription of the agency to the platform."""
    from core.agency.commerce import add_subscription

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        sub = add_subscription(session, actor, o.id, tier=tier, monthly_fee_minor=amount(fee, o),
                               starts_on=parse_day(start), ends_on=parse_day(end))
    err(f"Subscription {sub.id}: {sub.tier}, {money(sub.monthly_fee_minor, o)} a month, {sub.status}.")


@subscriptions_app.command("list")
def subscriptions_list(org: str = ORG, as_json: bool = JSON) -> None:
    """The agency's subscriptions and what it paid the platform."""
    from core.agency.commerce import list_agency_payments, list_subscriptions

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        subs = list_subscriptions(session, actor, o.id)
        paid = list_agency_payments(session, actor, o.id)
    if as_json:
        print_json({"subscriptions": subs, "payments": paid})
        return
    print_table("Subscriptions", ["ID", "Tier", "Monthly", "From", "To", "Status"],
                [[s.id, s.tier, money(s.monthly_fee_minor, o), s.starts_on, s.ends_on or "", s.status]
                 for s in subs])
    print_table("Payments to the platform", ["ID", "Kind", "Amount", "Status", "Reference"],
                [[p.id, p.kind, money(p.amount_minor, o), p.status, p.reference] for p in paid])


@subscriptions_app.command("cancel")
def subscriptions_cancel(subscription_id: int, org: str = ORG) -> None:
    """Cancel a subscription."""
    from core.agency.commerce import cancel_subscription

    with unit_of_work() as (session, actor):
        sub = cancel_subscription(session, actor, agency_for(session, actor, org).id, subscription_id)
    err(f"Subscription {sub.id} is {sub.status}.")


@subscriptions_app.command("pay")
def subscriptions_pay(org: str = ORG, amount_text: str = typer.Option(..., "--amount"),
                      kind: str = typer.Option("subscription", "--kind", help="subscription or commission."),
                      reference: str = typer.Option(..., "--reference")) -> None:
    """Record a payment of the agency to the platform."""
    from core.agency.commerce import record_agency_payment

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        payment_id = record_agency_payment(session, actor, o.id, kind=kind, amount_minor=amount(amount_text, o),
                                           reference=reference)
    err(f"Recorded payment {payment_id}.")


@inbox_app.command("list")
def inbox_list(org: str = ORG, waiting: bool = typer.Option(False, "--waiting", help="Only unread ones."),
               as_json: bool = JSON) -> None:
    """Conversations, newest first (a worker's number masked)."""
    from core.agency.inbox import list_threads

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        rows = list_threads(session, actor, o.id, waiting_only=waiting)
    if as_json:
        print_json(rows)
        return
    print_table("Inbox", ["ID", "From", "Phone", "Last message", "Unread"],
                [[t.id, t.who, t.phone, t.last_text, t.waiting] for t in rows])


@inbox_app.command("show")
def inbox_show(message_id: int, org: str = ORG, as_json: bool = JSON) -> None:
    """One conversation, oldest first (reading it marks it handled)."""
    from core.agency.inbox import show_thread

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        rows = show_thread(session, actor, o.id, message_id)
    if as_json:
        print_json(rows)
        return
    for m in rows:
        typer.echo(f"{m.id:>6} {'→' if m.direction == 'out' else '←'} {m.body}")


@inbox_app.command("reply")
def inbox_reply(message_id: int, org: str = ORG, text: str = typer.Option(..., "--text")) -> None:
    """Answer a conversation by SMS."""
    from core.agency.inbox import reply

    with unit_of_work() as (session, actor):
        queued = reply(session, actor, agency_for(session, actor, org).id, message_id, text)
    err(f"Queued message {queued}; `ofisi send due` sends it.")


@placements_app.command("invite")
def placements_invite(placement_id: int, org: str = ORG) -> None:
    """Tell the proposed worker by SMS that an employer is interested; her YES/NO moves the proposal."""
    from core.agency.inbox import invite_worker

    with unit_of_work() as (session, actor):
        queued = invite_worker(session, actor, agency_for(session, actor, org).id, placement_id)
    err(f"Queued message {queued}; `ofisi send due` sends it.")


@documents_app.command("add")
def documents_add(worker_id: int, org: str = ORG,
                  doc_type: str = typer.Option(..., "--type", help="id, good_conduct, medical or reference."),
                  expires: Optional[str] = typer.Option(None, "--expires", help="The day it stops being valid."),
                  title: str = typer.Option("", "--title"),
                  file: Optional[Path] = typer.Option(None, "--file", help="The scan (JPEG, PNG, WebP or PDF)."),
                  ) -> None:
    """Record a worker's document and when it expires."""
    from core.agency.documents import add_document

    with unit_of_work() as (session, actor):
        d = add_document(session, actor, agency_for(session, actor, org).id, worker_id, doc_type=doc_type,
                         expires_on=parse_day(expires), title=title, source=file)
    err(f"Document {d.id}: {d.title}" + (f", expires {d.expires_on}" if d.expires_on else "") + ".")


@documents_app.command("list")
def documents_list(org: str = ORG, worker: Optional[int] = typer.Option(None, "--worker"),
                   due: Optional[int] = typer.Option(None, "--due", help="Only those expiring within N days."),
                   as_json: bool = JSON) -> None:
    """Workers' documents, soonest to expire first."""
    from core.agency.documents import list_documents

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        rows = list_documents(session, actor, o.id, worker_id=worker, due_within_days=due)
    if as_json:
        print_json(rows)
        return
    print_table("Documents", ["ID", "Worker", "Type", "Title", "Expires", "Days left", "Scan"],
                [[d.id, d.worker_name, d.doc_type, d.title, d.expires_on or "", "" if d.days_left is None
                  else d.days_left, "yes" if d.has_file else ""] for d in rows])


@agency_app.command("match")
def agency_match(org: str = ORG, employer: int = typer.Option(..., "--employer"),
                 accommodation: Optional[str] = typer.Option(None, "--accommodation"),
                 skill: list[str] = typer.Option([], "--skill"), language: list[str] = typer.Option([], "--language"),
                 location: Optional[str] = typer.Option(None, "--location"),
                 salary_min: Optional[str] = typer.Option(None, "--salary-min"),
                 salary_max: Optional[str] = typer.Option(None, "--salary-max"),
                 start: Optional[str] = typer.Option(None, "--start", help="When the employer needs someone."),
                 limit: int = typer.Option(10, "--limit", min=1, max=100), as_json: bool = JSON) -> None:
    """Available, verified workers ranked against an employer's requirements, with the reasons."""
    from core.agency.matching import Requirements, match_workers

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        rows = match_workers(session, actor, o.id, employer, Requirements(
            accommodation=accommodation, skills=tuple(skill), languages=tuple(language), location=location,
            salary_min_minor=amount(salary_min, o), salary_max_minor=amount(salary_max, o),
            start_date=parse_day(start)), limit=limit)
    if as_json:
        print_json([{"worker": m.worker, "score": m.score, "reasons": m.reasons} for m in rows])
        return
    print_table(f"Best matches for employer {employer}", ["ID", "Name", "Phone", "Score", "Why"],
                [[m.worker.id, m.worker.name, m.worker.phone, m.score, "; ".join(m.reasons)] for m in rows])


@agency_app.command("guarantee")
def agency_guarantee(org: str = ORG, days: int = typer.Option(..., "--days", min=0, max=730)) -> None:
    """Set the replacement guarantee: a replacement within this many days of the start carries no new fee."""
    from core.agency.placements import set_guarantee_days

    with unit_of_work() as (session, actor):
        set_guarantee_days(session, actor, agency_for(session, actor, org).id, days)
    err(f"Replacements within {days} days of a placement's start carry no new fee.")


# ---------------------------------------------------------------- imports (on `ofisi import`)


def import_domestic_connect(
    file: Path = typer.Argument(..., help="The old json-server db.json."),
    org_prefix: str = typer.Option("dc", "--org-prefix", help="Prefix of the new orgs' slugs."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Do everything, report, then write nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
) -> None:
    """Migrate the old Domestic Connect data: an org per agency plus the platform org."""
    from core.agency.migration import import_domestic_connect as run
    from core.errors import InvalidInput

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"Cannot read {file} as JSON ({exc}).") from None
    with unit_of_work() as (session, actor):
        report = run(session, actor, data, org_prefix=org_prefix, dry_run=dry_run)
    if as_json:
        print_json(report.as_dict())
    else:
        print_table("Domestic Connect import" + (" (dry run: nothing written)" if dry_run else ""),
                    ["collection", "read", "created", "existing", "skipped"],
                    [[k, c.read, c.created, c.existing, c.skipped] for k, c in report.counts.items()])
        for p in report.problems:
            err(f"{p.collection} {p.old_id}: {p.what} → {p.decision}")
        for note in report.notes:
            err(note)
    err(f"{report.created} rows created in {report.platform_org} and {len(report.agency_orgs)} agency orgs; "
        f"{len(report.problems)} problems" + ("; dry run, nothing was written." if dry_run else "."))


def _import_people(kind: str, file: Path, org: str, dry_run: bool, skip_invalid: bool, as_json: bool) -> None:
    from core.agency.importing import import_people

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        report = import_people(session, actor, o.id, file, kind=kind, dry_run=dry_run, skip_invalid=skip_invalid)
    for problem in report.errors:
        err(f"line {problem.line}: {problem.message}")
    if as_json:
        print_json(report)
    err(report.line())
    if report.errors and not report.written and not dry_run:
        raise typer.Exit(1)


FILE = typer.Argument(..., help="A .csv or .xlsx file with a header row.")
DRY = typer.Option(False, "--dry-run", help="Check every row and report; write nothing.")
SKIP = typer.Option(False, "--skip-invalid", help="Write the good rows even if some are bad.")


def import_workers(file: Path = FILE, org: str = ORG, dry_run: bool = DRY, skip_invalid: bool = SKIP,
                   as_json: bool = typer.Option(False, "--json")) -> None:
    """Import workers: name, phone, email, location, experience, salary, accommodation, availability, skills."""
    _import_people("workers", file, org, dry_run, skip_invalid, as_json)


def import_employers(file: Path = FILE, org: str = ORG, dry_run: bool = DRY, skip_invalid: bool = SKIP,
                     as_json: bool = typer.Option(False, "--json")) -> None:
    """Import employers: name, phone, email, household, location, description, requirements."""
    _import_people("employers", file, org, dry_run, skip_invalid, as_json)


# ---------------------------------------------------------------- exports (on `ofisi export`)


def _export(kind: str, org: str, as_json: bool, output: Optional[Path]) -> None:
    from core.agency.exports import COLUMNS, as_cells, export_rows

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        rows = list(export_rows(session, actor, o.id, kind))
    fh = output.open("w", newline="", encoding="utf-8") if output else sys.stdout
    try:
        if as_json:
            print_json(rows) if fh is sys.stdout else fh.write(json.dumps(rows, default=str) + "\n")
        else:
            from core.spreadsheets import write_csv

            # People's text (a name, notes) must never run as a formula when the file is opened.
            write_csv(fh, COLUMNS[kind], as_cells(kind, rows))
    finally:
        if output:
            fh.close()
    err(f"Exported {len(rows)} {kind}" + (f" to {output}." if output else "."))


OUT = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout.")


def export_workers(org: str = ORG, as_json: bool = JSON, output: Optional[Path] = OUT) -> None:
    """Workers as CSV (or --json); phones masked."""
    _export("workers", org, as_json, output)


def export_employers(org: str = ORG, as_json: bool = JSON, output: Optional[Path] = OUT) -> None:
    """Employers as CSV (or --json)."""
    _export("employers", org, as_json, output)


def export_placements(org: str = ORG, as_json: bool = JSON, output: Optional[Path] = OUT) -> None:
    """Placements with fees, commission and what is paid, as CSV (or --json)."""
    _export("placements", org, as_json, output)


def register(export_app: typer.Typer) -> None:
    """Put the agency's exports on the `ofisi export` group."""
    export_app.command("workers")(export_workers)
    export_app.command("employers")(export_employers)
    export_app.command("placements")(export_placements)


# ---------------------------------------------------------------- report (on `ofisi report`)


def report_agency(org: str = ORG, as_json: bool = JSON) -> None:
    """Placements, fees and commission earned, received and owed, and time to placement, by month."""
    from core.agency.reports import agency_report

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        report = agency_report(session, actor, o.id)
    if as_json:
        print_json(report.as_dict())
        return
    rows = [*report.months, report.total]
    print_table(f"{o.name}: placements by month", ["Month", "Placed", "Ended", "Disputed", "Fees", "Commission",
                                                   "Received", "Refunded", "Owed", "Days to place"],
                [[r.month, r.placed, r.ended, r.disputed, money(r.fee_minor, o), money(r.commission_minor, o),
                  money(r.fee_received_minor + r.commission_received_minor, o), money(r.refunded_minor, o),
                  money(r.owed_minor, o),
                  r.average_days_to_placement if r.average_days_to_placement is not None else ""] for r in rows])
    err(f"{report.proposed_open} proposals open.")
