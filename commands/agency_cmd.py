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
placements_app = typer.Typer(help="Placements: list, add, place, end, disputes, payments.", no_args_is_help=True)

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
    for label, value in (("Name", w.name), ("Phone", w.phone), ("Age", w.age), ("Location", w.location),
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
                   as_json: bool = JSON) -> None:
    """Spend one of the employer's contact credits on this worker's number (free if already unlocked)."""
    from core.agency.commerce import reveal_phone, unlock_contact

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        result = unlock_contact(session, actor, o.id, employer_id=employer, worker_id=worker_id)
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
    print_table("Unlocks", ["When", "Employer", "Worker", "By"],
                [[f"{u.unlocked_at:%Y-%m-%d %H:%M}", u.employer_name, u.worker_name, u.unlocked_by] for u in rows])


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
    print_table(f"Employers of {o.name}", ["ID", "Name", "Household", "Phone", "Location"],
                [[e.id, e.name, e.household_name, e.phone, e.location] for e in rows])


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
                  paid: bool = typer.Option(False, "--paid", help="The payment is already received.")) -> None:
    """Record an employer's purchase of a contact package."""
    from core.agency.commerce import buy_package, settle_purchase

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        p = buy_package(session, actor, o.id, employer_id=employer_id, package_id=package)
        if paid:
            p = settle_purchase(session, actor, o.id, p.id, paid=True)
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
                                            "Owed"],
                [[p.id, p.worker_name, p.employer_name, p.status, p.start_date or "", money(p.fee_minor, o),
                  money(p.commission_minor, o), money(p.owed_minor, o)] for p in rows])


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
    as_json: bool = JSON,
) -> None:
    """Propose a worker to an employer, or record that they are placed."""
    from core.agency.placements import add_placement

    with unit_of_work() as (session, actor):
        o = agency_for(session, actor, org)
        p = add_placement(session, actor, o.id, worker_id=worker, employer_id=employer, fee_minor=amount(fee, o),
                          commission_minor=amount(commission, o), agreed_salary_minor=amount(salary, o),
                          start_date=parse_day(start), status="placed" if placed else "proposed")
    print_json(p) if as_json else err(f"Placement {p.id}: {p.worker_name} with {p.employer_name}, {p.status}.")


@placements_app.command("move")
def placements_move(placement_id: int, org: str = ORG,
                    status: str = typer.Option(..., "--status", help="placed or ended."),
                    on: Optional[str] = typer.Option(None, "--on", help="The day it happened.")) -> None:
    """Place a proposed worker, or end a placement."""
    from core.agency.placements import move_placement

    with unit_of_work() as (session, actor):
        p = move_placement(session, actor, agency_for(session, actor, org).id, placement_id, status,
                           on=parse_day(on))
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
                       end: bool = typer.Option(False, "--end", help="End the placement too.")) -> None:
    """Resolve a dispute; the placement continues unless --end."""
    from core.agency.placements import resolve_dispute

    with unit_of_work() as (session, actor):
        p = resolve_dispute(session, actor, agency_for(session, actor, org).id, dispute_id, resolution,
                            end_placement=end)
    err(f"Resolved; placement {p.id} is {p.status}.")


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
    from core.agency.exports import COLUMNS, export_rows

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
            write_csv(fh, COLUMNS[kind], ([("; ".join(v) if isinstance(v, list) else v) for v in
                                           (row.get(c) for c in COLUMNS[kind])] for row in rows))
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
                                                   "Received", "Owed", "Days to place"],
                [[r.month, r.placed, r.ended, r.disputed, money(r.fee_minor, o), money(r.commission_minor, o),
                  money(r.fee_received_minor + r.commission_received_minor, o), money(r.owed_minor, o),
                  r.average_days_to_placement if r.average_days_to_placement is not None else ""] for r in rows])
    err(f"{report.proposed_open} proposals open.")
