"""Bringing a chama's books over: members, opening balances as at a date, and the history behind them.

The books are one workbook with a sheet each, or a folder with a CSV each:

- ``Members`` (members.csv): member no, name, phone, role, joined;
- ``Opening balances`` (opening-balances.csv): an "As at" row with the date,
  then member no, savings, fines owed, loan outstanding;
- ``Transactions`` (transactions.csv, optional): date, member no, type, amount,
  reference; when given, each member's contributions up to the as-at date must
  add up to her opening savings, and fines charged less paid to her fines owed;
- ``Loans`` (loans.csv, optional): read to check against the loan outstanding.

Every line is checked before anything is written, and any refusal writes
nothing (``dry_run`` writes nothing either). Writing goes through the chama's
services (members, opening balances, fines), each keyed so that a re-run
creates nothing. Loans still outstanding are refused for now: bring them over
by recording them with ``ofisi chama loan``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.chama.base import chama_org, local_moment, money
from core.chama.fines import charge_fine
from core.chama.importing import import_members
from core.chama.ledger import record_opening_balance, sums
from core.errors import InvalidInput
from core.importing import parse_date
from core.money import parse_money
from db.models_chama import ChamaLedgerEntry, ChamaMember

SHEETS = {"members": "members.csv", "opening balances": "opening-balances.csv",
          "transactions": "transactions.csv", "loans": "loans.csv"}

Lines = list[tuple[int, list[Any]]]


def read_books(path: Path) -> dict[str, Lines]:
    """Each sheet's lines (numbered from 1), by lower-case sheet name."""
    found: dict[str, Lines] = {}
    if path.is_dir():
        for sheet, name in SHEETS.items():
            if (path / name).is_file():
                with open(path / name, newline="", encoding="utf-8-sig") as fh:
                    found[sheet] = list(enumerate(csv.reader(fh), start=1))
    elif path.suffix.lower() in (".xlsx", ".xlsm") and path.is_file():
        from openpyxl import load_workbook  # heavy; only for spreadsheets

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            for ws in book.worksheets:
                if ws.title.strip().lower() in SHEETS:
                    found[ws.title.strip().lower()] = [(i, list(r)) for i, r in
                                                       enumerate(ws.iter_rows(values_only=True), start=1)]
        finally:
            book.close()
    else:
        raise InvalidInput(f"{path} is neither a folder of CSV files nor an .xlsx workbook.")
    for needed in ("members", "opening balances"):
        if needed not in found:
            raise InvalidInput(f"{path} has no {needed!r} sheet ({SHEETS[needed]} in a folder).")
    return found


def _table(lines: Lines, sheet: str) -> tuple[list[tuple[int, dict[str, Any]]], dict[str, Any]]:
    """Rows keyed by lower-case header (the first row naming 'member no'), and any 'key, value' rows above it."""
    above: dict[str, Any] = {}
    for at, (line, cells) in enumerate(lines):
        heads = [str(c or "").strip().lower() for c in cells]
        if "member no" in heads:
            rows = [(n, {h: (v.strip() if isinstance(v, str) else v) for h, v in zip(heads, r) if h})
                    for n, r in lines[at + 1:] if any(v not in (None, "") for v in r)]
            return rows, above
        if heads and heads[0]:
            above[heads[0]] = cells[1] if len(cells) > 1 else None
    raise InvalidInput(f"The {sheet} sheet has no header row with a 'Member No' column.")


def _minor(value: Any, currency: str) -> int:
    if value in (None, ""):
        return 0
    return parse_money(str(value), currency)


@dataclass
class BooksReport:
    members_created: int = 0
    members_unchanged: int = 0
    openings_created: int = 0
    openings_unchanged: int = 0
    fines_created: int = 0
    fines_unchanged: int = 0
    transactions_checked: int = 0
    refused: list[str] = field(default_factory=list)
    dry_run: bool = False
    written: bool = False

    def lines(self) -> list[str]:
        verb = "added" if self.written else "would add"
        out = [f"Members: {verb} {self.members_created}, {self.members_unchanged} already there.",
               f"Opening balances: {verb} {self.openings_created}, {self.openings_unchanged} already there.",
               f"Fines owed: {verb} {self.fines_created}, {self.fines_unchanged} already there.",
               f"History: {self.transactions_checked} transactions checked against the opening balances."]
        out += [f"Refused: {why}" for why in self.refused]
        if self.refused:
            out.append("Nothing was written; fix the lines named above and import again.")
        elif self.dry_run:
            out.append("Dry run: nothing was written.")
        return out


def import_books(session: Session, actor: Actor, org_id: int, path: Path, *, dry_run: bool = False) -> BooksReport:
    """Check the books at ``path`` whole, then (unless refused or ``dry_run``) write them through the services."""
    org = chama_org(session, actor, org_id, "chama.money")
    books = read_books(path)
    report = BooksReport(dry_run=dry_run)
    member_file = path / SHEETS["members"] if path.is_dir() else path
    members, _ = _table(books["members"], "Members")
    rows = [(line, {"member_number": v.get("member no"), "name": v.get("name"), "phone": v.get("phone"),
                    "role": v.get("role"), "joined_on": v.get("joined")}) for line, v in members]
    checked = import_members(session, actor, org.id, rows, file=member_file.name, dry_run=True)
    report.members_created, report.members_unchanged = checked.created, checked.unchanged
    report.refused += [f"Members line {e.line}: {e.message}" for e in checked.errors]
    numbers = {str(v["member_number"]).strip() for _, v in rows if v["member_number"]}
    openings, above = _table(books["opening balances"], "Opening balances")
    try:
        as_at = parse_date(above.get("as at"))
    except InvalidInput as exc:
        raise InvalidInput(f"The Opening balances sheet needs an 'As at' row with the date: {exc}") from None
    wanted: dict[str, tuple[int, int]] = {}
    for line, v in openings:
        number = str(v.get("member no") or "").strip()
        try:
            if number not in numbers:
                raise InvalidInput(f"member {number or '(blank)'} is not on the Members sheet")
            savings, fines = _minor(v.get("savings"), org.currency), _minor(v.get("fines owed"), org.currency)
            loan = _minor(v.get("loan outstanding"), org.currency)
            if min(savings, fines, loan) < 0:
                raise InvalidInput("balances cannot be negative")
            if loan:
                raise InvalidInput(f"member {number} has a loan outstanding of {money(org, loan)}; open loans are "
                                   "not brought over by import yet: enter 0 here and record the loan with "
                                   "`ofisi chama loan`")
            wanted[number] = (savings, fines)
        except InvalidInput as exc:
            report.refused.append(f"Opening balances line {line}: {str(exc).rstrip('.')}.")
    if "transactions" in books:
        _check_history(books["transactions"], org, as_at, wanted, report)
    if report.refused or dry_run:
        session.rollback()
        _count_openings(session, org.id, wanted, report)
        return report
    import_members(session, actor, org.id, rows, file=member_file.name)
    by_number = {m.member_number: m for m in session.scalars(select(ChamaMember).where(ChamaMember.org_id == org.id))}
    report.openings_created = report.openings_unchanged = report.fines_created = report.fines_unchanged = 0
    when = local_moment(org, as_at)
    for number, (savings, fines) in wanted.items():
        member = by_number[number]
        if savings:
            entry = record_opening_balance(session, actor, org.id, member.id, savings, as_of=when,
                                           memo=f"opening balance as at {as_at}")
            report.openings_unchanged += entry.replayed
            report.openings_created += not entry.replayed
        if fines:
            entry = charge_fine(session, actor, org.id, member.id, fines, reason=f"fines owed as at {as_at}",
                                idempotency_key=f"import:fines:{member.id}:{as_at}")
            report.fines_unchanged += entry.replayed
            report.fines_created += not entry.replayed
    report.written = True
    return report


def _count_openings(session: Session, org_id: int, wanted: dict[str, tuple[int, int]], report: BooksReport) -> None:
    """For a dry run: which opening balances and fines are already there."""
    by_number = {m.member_number: m.id for m in session.scalars(select(ChamaMember).where(ChamaMember.org_id == org_id))}
    for number, (savings, fines) in wanted.items():
        have = sums(session, org_id, member_id=by_number[number]) if number in by_number else None
        if savings:
            already = have is not None and have.savings >= savings
            report.openings_unchanged += already
            report.openings_created += not already
        if fines:
            already = have is not None and have.fines >= fines
            report.fines_unchanged += already
            report.fines_created += not already


def _check_history(lines: Lines, org: Any, as_at: date, wanted: dict[str, tuple[int, int]],
                   report: BooksReport) -> None:
    history, _ = _table(lines, "Transactions")
    saved: dict[str, int] = {}
    fined: dict[str, int] = {}
    for line, v in history:
        number = str(v.get("member no") or "").strip()
        try:
            day = parse_date(v.get("date"))
            kind = str(v.get("type") or "").strip().lower()
            amount = next((_minor(val, org.currency) for key, val in v.items() if key.startswith("amount")), 0)
            if amount <= 0:
                raise InvalidInput("the amount must be positive")
        except InvalidInput as exc:
            report.refused.append(f"Transactions line {line}: {str(exc).rstrip('.')}.")
            continue
        report.transactions_checked += 1
        if day > as_at and kind not in ("fine", "fine payment", "fine_payment"):
            continue  # fines owed are what is owed now, whenever they were charged
        if kind in ("contribution", "deposit", "savings", "opening balance"):
            saved[number] = saved.get(number, 0) + amount
        elif kind in ("withdrawal", "refund"):
            saved[number] = saved.get(number, 0) - amount
        elif kind == "fine":
            fined[number] = fined.get(number, 0) + amount
        elif kind in ("fine payment", "fine_payment"):
            fined[number] = fined.get(number, 0) - amount
    for number, (savings, fines) in wanted.items():
        for what, history_sum, opening in (("savings", saved.get(number, 0), savings),
                                           ("fines owed", fined.get(number, 0), fines)):
            if history_sum != opening:
                report.refused.append(
                    f"member {number}: the history adds up to {money(org, history_sum)} of {what} by {as_at}, "
                    f"but the opening balance says {money(org, opening)}: {money(org, abs(history_sum - opening))} "
                    f"{'more' if history_sum > opening else 'less'} in the history.")




@dataclass
class ExportCounts:
    members: int
    balances: int
    transactions: int
    as_at: date


def export_books(session: Session, actor: Actor, org_id: int, out: Path) -> ExportCounts:
    """Write the chama's books in the shape :func:`import_books` reads: a folder of CSVs, or an .xlsx workbook
    when ``out`` ends in .xlsx. Balances are as at the day money last moved; reversed entries are left out."""
    from core.chama.base import contact_of, local_today, org_zone
    from core.chama.ledger import sums_by_member
    from core.chama.statements import statement

    org = chama_org(session, actor, org_id, "chama.read")
    members = list(session.scalars(select(ChamaMember).where(ChamaMember.org_id == org.id).order_by(ChamaMember.id)))
    numbers = {m.id: m.member_number for m in members}
    lines = [ln for ln in statement(session, actor, org.id).lines if ln.kind != "reversal"]
    undone = {e.reverses_id for e in session.scalars(select(ChamaLedgerEntry).where(
        ChamaLedgerEntry.org_id == org.id, ChamaLedgerEntry.reverses_id.is_not(None)))}
    lines = [ln for ln in lines if ln.entry_id not in undone]
    # As at the day money last moved: a fine charged since (as the import charges fines owed) moves none.
    as_at = max((ln.day for ln in lines if ln.kind != "fine"), default=local_today(org))
    zone = org_zone(org)
    balances = sums_by_member(session, org.id)
    sheets: dict[str, list[list[Any]]] = {
        "Members": [["Member No", "Name", "Phone", "Role", "Joined"]] + [
            [m.member_number, contact_of(session, m).name, contact_of(session, m).phone, m.role, m.joined_on]
            for m in members],
        "Opening balances": [["As at", as_at, None, None], [None, None, None, None],
                             ["Member No", "Savings", "Fines owed", "Loan outstanding"]] + [
            [m.member_number, *(_major(v, org.currency) for v in (b.savings, b.fines, b.loan))]
            for m in members if (b := balances.get(m.id)) is not None],
        "Transactions": [["Date", "Member No", "Type", f"Amount ({org.currency})", "Reference", "Notes"]] + [
            [ln.occurred_at.astimezone(zone).date(), numbers.get(ln.member_id or 0, ""), ln.kind.replace("_", " "),
             _major(ln.amount_minor, org.currency), "", ln.description] for ln in lines],
    }
    if out.suffix.lower() == ".xlsx":
        from openpyxl import Workbook  # heavy; only for spreadsheets

        book = Workbook()
        book.remove(book.active)
        for title, rows in sheets.items():
            sheet = book.create_sheet(title)
            for row in rows:
                sheet.append(row)
        book.save(out)
    else:
        out.mkdir(parents=True, exist_ok=True)
        for title, rows in sheets.items():
            with open(out / SHEETS[title.lower()], "w", newline="", encoding="utf-8") as fh:
                csv.writer(fh).writerows([["" if v is None else v for v in r] for r in rows])
    return ExportCounts(len(members), len(sheets["Opening balances"]) - 3, len(lines), as_at)


def _major(minor: int, currency: str) -> Decimal:
    from core.money import exponent

    return Decimal(minor).scaleb(-exponent(currency))
