"""Bringing a chama's books over: members, opening balances as at a date, and the history behind them.

The books are one workbook with a sheet each, or a folder with a CSV each:

- ``Members`` (members.csv): member no, name, phone, role, joined;
- ``Opening balances`` (opening-balances.csv): an "As at" row with the date,
  then member no, savings, fines owed, loan outstanding;
- ``Transactions`` (transactions.csv, optional): date, member no, type, amount,
  reference; when given, each member's contributions up to the as-at date must
  add up to her opening savings, and fines charged less paid to her fines owed;
- ``Loans`` (loans.csv): loan no, member no, principal, rate (% a month),
  interest (flat or reducing), months, disbursed on, repaid so far,
  outstanding; needed for each member with a loan outstanding, whose open
  loans' outstanding must add up to it. Each open loan comes over as an
  opening loan (``loans.record_opening_loan``): what is outstanding, paid out
  on the as-at date, over the instalments its terms have left, so its
  schedule and arrears follow.

Every line is checked before anything is written, and any refusal writes
nothing (``dry_run`` writes nothing either). Writing goes through the chama's
services (members, opening balances, fines), each keyed so that a re-run
creates nothing.
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
from core.chama.base import add_months
from core.chama.importing import import_members
from core.chama.ledger import record_opening_balance, sums
from core.chama.loans import opening_loan_key, record_opening_loan
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
    loans_created: int = 0
    loans_unchanged: int = 0
    transactions_checked: int = 0
    refused: list[str] = field(default_factory=list)
    dry_run: bool = False
    written: bool = False

    def lines(self) -> list[str]:
        verb = "added" if self.written else "would add"
        out = [f"Members: {verb} {self.members_created}, {self.members_unchanged} already there.",
               f"Opening balances: {verb} {self.openings_created}, {self.openings_unchanged} already there.",
               f"Fines owed: {verb} {self.fines_created}, {self.fines_unchanged} already there.",
               f"Open loans: {verb} {self.loans_created}, {self.loans_unchanged} already there.",
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
    owing: dict[str, tuple[int, int]] = {}
    for line, v in openings:
        number = str(v.get("member no") or "").strip()
        try:
            if number not in numbers:
                raise InvalidInput(f"member {number or '(blank)'} is not on the Members sheet")
            savings, fines = _minor(v.get("savings"), org.currency), _minor(v.get("fines owed"), org.currency)
            loan = _minor(v.get("loan outstanding"), org.currency)
            if min(savings, fines, loan) < 0:
                raise InvalidInput("balances cannot be negative")
            wanted[number] = (savings, fines)
            if loan:
                owing[number] = (line, loan)
        except InvalidInput as exc:
            report.refused.append(f"Opening balances line {line}: {str(exc).rstrip('.')}.")
    open_loans = _open_loans(books.get("loans"), org, as_at, owing, report)
    if "transactions" in books:
        _check_history(books["transactions"], org, as_at, wanted, report)
    if report.refused or dry_run:
        session.rollback()
        _count_openings(session, org.id, wanted, report)
        by_number = {m.member_number: m.id for m in
                     session.scalars(select(ChamaMember).where(ChamaMember.org_id == org.id))}
        for number, terms in open_loans:
            key = opening_loan_key(by_number.get(number, 0), as_at, terms["loan_no"])
            there = session.scalar(select(ChamaLedgerEntry.id).where(ChamaLedgerEntry.org_id == org.id,
                                                                     ChamaLedgerEntry.idempotency_key == key))
            report.loans_unchanged += there is not None
            report.loans_created += there is None
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
    for number, terms in open_loans:
        _, created = record_opening_loan(session, actor, org.id, by_number[number].id, as_at=as_at, **terms)
        report.loans_created += created
        report.loans_unchanged += not created
    report.written = True
    return report


def _open_loans(lines: Lines | None, org: Any, as_at: date, owing: dict[str, tuple[int, int]],
                report: BooksReport) -> list[tuple[str, dict[str, Any]]]:
    """Each open loan's terms as at ``as_at``, checked against each member's loan outstanding."""
    if not owing:
        return []
    if lines is None:
        report.refused += [f"Opening balances line {line}: member {number} has a loan outstanding of "
                           f"{money(org, loan)}, but there is no Loans sheet (loans.csv) giving its terms."
                           for number, (line, loan) in owing.items()]
        return []
    found: list[tuple[str, dict[str, Any]]] = []
    total: dict[str, int] = {}
    rows, _ = _table(lines, "Loans")
    for line, v in rows:
        number = str(v.get("member no") or "").strip()
        try:
            outstanding = _minor(v.get("outstanding"), org.currency)
            if outstanding <= 0:
                continue
            if number not in owing:
                raise InvalidInput(f"member {number} owes {money(org, outstanding)} on this loan, but the opening "
                                   "balances give no loan outstanding")
            rate = next((val for key, val in v.items() if key.startswith("rate")), 0) or 0
            kind = str(v.get("interest") or "flat").strip().lower()
            months = int(Decimal(str(v.get("months") or 0)))
            disbursed = parse_date(v.get("disbursed on"))
            if months < 1 or disbursed > as_at:
                raise InvalidInput("a loan needs its months (1 or more) and a disbursement on or before the as-at date")
            passed = sum(1 for n in range(1, months + 1) if add_months(disbursed, n) <= as_at)
            left = max(months - passed, 1)  # a loan past its term: its last instalment is due (and late)
            found.append((number, {"outstanding_minor": outstanding, "months_left": left,
                                   "first_due_on": add_months(disbursed, months - left + 1),
                                   "interest_kind": kind, "interest_rate_bp": int(Decimal(str(rate)) * 100),
                                   "loan_no": str(v.get("loan no") or line)}))
            total[number] = total.get(number, 0) + outstanding
        except (InvalidInput, ArithmeticError, ValueError) as exc:
            report.refused.append(f"Loans line {line}: {str(exc).rstrip('.')}.")
    for number, (line, loan) in owing.items():
        if total.get(number, 0) != loan:
            report.refused.append(f"Opening balances line {line}: member {number} has a loan outstanding of "
                                  f"{money(org, loan)}, but her open loans on the Loans sheet add up to "
                                  f"{money(org, total.get(number, 0))}.")
    return found


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
        "Loans": [["Loan No", "Member No", "Principal", "Rate (% a month)", "Interest", "Months", "Disbursed on",
                   "Repaid so far", "Outstanding"]] + _loan_rows(session, org, numbers),
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


def _loan_rows(session: Session, org: Any, numbers: dict[int, str]) -> list[list[Any]]:
    """Every loan paid out, with its terms, what was repaid and what is outstanding (in the import's shape)."""
    from sqlalchemy import func

    from core.chama.base import org_zone
    from core.chama.loans import LENT
    from db.models_chama import ChamaLoan

    rows = []
    for loan in session.scalars(select(ChamaLoan).where(ChamaLoan.org_id == org.id, ChamaLoan.status.in_(LENT))
                                .order_by(ChamaLoan.id)):
        owed = sums(session, org.id, loan_id=loan.id).loan
        repaid = session.scalar(select(func.coalesce(func.sum(ChamaLedgerEntry.amount_minor), 0)).where(
            ChamaLedgerEntry.loan_id == loan.id, ChamaLedgerEntry.kind == "loan_repayment")) or 0
        rows.append([f"L{loan.id}", numbers.get(loan.member_id, ""), _major(loan.principal_minor, org.currency),
                     Decimal(loan.interest_rate_bp).scaleb(-2), loan.interest_kind, loan.months,
                     # the day its instalments count from (an opening loan's first instalment is a month after)
                     (add_months(loan.first_due_on, -1) if loan.first_due_on else
                      loan.disbursed_at.astimezone(org_zone(org)).date()),
                     _major(repaid, org.currency), _major(owed, org.currency)])
    return rows


def _major(minor: int, currency: str) -> Decimal:
    from core.money import exponent

    return Decimal(minor).scaleb(-exponent(currency))
