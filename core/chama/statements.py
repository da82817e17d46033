"""Statements and the chama's position, and writing them as CSV or XLSX.

A statement covers a member or the whole chama over a period of whole days
on the org's clock (``start`` 00:00 to the end of ``end``). It opens with the
balances before the period, lists each entry with the balances after it, and
closes with the balances at the end, all sums of the ledger. One table
(:func:`statement_table`) feeds the terminal, CSV and XLSX, so the three
always agree; ``--json`` is the :class:`Statement` itself in minor units.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.chama.base import add_months, chama_org, local_day_bounds, local_today, org_zone
from core.chama.cycles import Cycle, current_cycle
from core.chama.dues import arrears_by_member
from core.chama.ledger import Balances, EntryView, describe, sums, views
from core.chama.members import MemberView, get_member
from core.errors import InvalidInput
from core.money import exponent, format_money
from db.models import Contact
from db.models_chama import ChamaLedgerEntry, ChamaLoan, ChamaMember, ChamaPayout


@dataclass(frozen=True)
class StatementLine:
    entry_id: int
    occurred_at: datetime
    day: date
    kind: str
    description: str
    member_id: int | None
    member_number: str | None
    member_name: str | None
    amount_minor: int
    change: Balances
    after: Balances


@dataclass(frozen=True)
class Statement:
    org_id: int
    org_name: str
    currency: str
    timezone: str
    member: MemberView | None
    start: date | None
    end: date | None
    opening: Balances
    closing: Balances
    lines: list[StatementLine]
    totals_by_kind: dict[str, int]
    cycle: Cycle | None = None

    @property
    def title(self) -> str:
        who = self.member.label if self.member else self.org_name
        span = f"{self.start or 'the start'} to {self.end or 'today'}"
        text = f"Statement for {who}, {span} ({self.currency})"
        if self.cycle is not None:
            text += f"; now in {self.cycle.text()}"
        if self.member is not None and self.member.left_text:
            text += f". {self.member.left_text}"
        return text


def statement(session: Session, actor: Actor, org_id: int, *, member_id: int | None = None,
              start: date | None = None, end: date | None = None) -> Statement:
    """A member's statement, or the chama's when ``member_id`` is None."""
    org = chama_org(session, actor, org_id, "chama.read")
    if start and end and start > end:
        raise InvalidInput(f"The statement starts ({start}) after it ends ({end}).")
    member = get_member(session, actor, org.id, member_id) if member_id is not None else None
    since, until = local_day_bounds(org, start, end)
    opening = sums(session, org.id, member_id=member_id, before=since) if since else Balances()
    query = (select(ChamaLedgerEntry, ChamaMember.member_number, Contact.name)
             .outerjoin(ChamaMember, ChamaMember.id == ChamaLedgerEntry.member_id)
             .outerjoin(Contact, Contact.id == ChamaMember.contact_id)
             .where(ChamaLedgerEntry.org_id == org.id))
    if member_id is not None:
        query = query.where(ChamaLedgerEntry.member_id == member_id)
    if since:
        query = query.where(ChamaLedgerEntry.occurred_at >= since)
    if until:
        query = query.where(ChamaLedgerEntry.occurred_at < until)
    rows = session.execute(query.order_by(ChamaLedgerEntry.occurred_at, ChamaLedgerEntry.id)).all()
    entry_views: list[EntryView] = views(session, [r[0] for r in rows])
    zone = org_zone(org)
    running, lines, totals = opening, [], {}
    for view, (_entry, number, name) in zip(entry_views, rows):
        running = running + view.change
        totals[view.kind] = totals.get(view.kind, 0) + view.amount_minor
        lines.append(StatementLine(view.id, view.occurred_at, view.occurred_at.astimezone(zone).date(), view.kind,
                                   describe(view, org.currency), view.member_id, number, name, view.amount_minor,
                                   view.change, running))
    return Statement(org.id, org.name, org.currency, org.timezone, member, start, end, opening, running, lines,
                     totals, current_cycle(session, org.id))


@dataclass(frozen=True)
class StatementTable:
    columns: list[str]
    money_columns: frozenset[int]
    rows: list[list[Any]]


def statement_table(st: Statement) -> StatementTable:
    """The statement as rows: opening balance, one row per entry, closing balance."""
    if st.member:
        columns = ["date", "entry", "description", "amount", "savings", "loan", "fines"]

        def figures(b: Balances) -> list[int]:
            return [b.savings, b.loan, b.fines]
    else:
        columns = ["date", "entry", "member", "description", "amount", "pool", "savings", "loans", "fines"]

        def figures(b: Balances) -> list[int]:
            return [b.pool, b.savings, b.loan, b.fines]
    amount_at = columns.index("amount")
    money_columns = frozenset(range(amount_at, len(columns)))

    def row(day: Any, entry: Any, member: str | None, text: str, amount: int | None, b: Balances) -> list[Any]:
        cells = [day, entry] + ([] if st.member else [member]) + [text, amount]
        return cells + figures(b)

    rows = [row(st.start, None, None, "Opening balance", None, st.opening)]
    for ln in st.lines:
        who = f"{ln.member_name} ({ln.member_number})" if ln.member_name else None
        rows.append(row(ln.day, ln.entry_id, who, ln.description, ln.amount_minor, ln.after))
    rows.append(row(st.end, None, None, "Closing balance", None, st.closing))
    return StatementTable(columns, money_columns, rows)


def _major(minor: int, currency: str) -> Decimal:
    exp = exponent(currency)
    return Decimal(minor).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))


def table_as_text(st: Statement) -> StatementTable:
    """The table with money as people read it (``KES 1,500``) and dates as text."""
    table = statement_table(st)
    rows = [[("" if v is None else format_money(v, st.currency)) if i in table.money_columns
             else ("" if v is None else str(v)) for i, v in enumerate(r)] for r in table.rows]
    return StatementTable(table.columns, table.money_columns, rows)


def write_csv(st: Statement, out: IO[str]) -> None:
    """CSV with amounts in major units (``1500.00``) and the currency in its own column."""
    table = statement_table(st)
    writer = csv.writer(out)
    writer.writerow([*table.columns, "currency"])
    for r in table.rows:
        writer.writerow([("" if v is None else _major(v, st.currency)) if i in table.money_columns
                         else ("" if v is None else v) for i, v in enumerate(r)] + [st.currency])


def write_xlsx(st: Statement, path: Path) -> None:
    """An XLSX workbook with one sheet: title, header, rows; money as numbers in major units."""
    from openpyxl import Workbook  # heavy; only when a spreadsheet is asked for
    from openpyxl.styles import Font

    table = statement_table(st)
    book = Workbook()
    sheet = book.active
    sheet.title = "Statement"
    sheet.append([st.title])
    sheet["A1"].font = Font(bold=True)
    sheet.append(table.columns)
    fmt = "#,##0" + ("." + "0" * exponent(st.currency) if exponent(st.currency) else "")
    for r in table.rows:
        sheet.append([_major(v, st.currency) if i in table.money_columns and v is not None else v
                      for i, v in enumerate(r)])
        for i in table.money_columns:
            sheet.cell(row=sheet.max_row, column=i + 1).number_format = fmt
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    book.save(path)


@dataclass(frozen=True)
class Position:
    """The chama at a glance (the console's home): all sums of the ledger and the invoices."""

    org_id: int
    currency: str
    pool_minor: int
    savings_minor: int
    loans_out_minor: int
    interest_owed_minor: int
    fines_owed_minor: int
    earnings_minor: int
    arrears_minor: int
    members_in_arrears: int
    active_members: int
    loans_awaiting_approval: int
    payouts_awaiting_approval: int


def chama_position(session: Session, actor: Actor, org_id: int) -> Position:
    org = chama_org(session, actor, org_id, "chama.read")
    b = sums(session, org.id)
    arrears = arrears_by_member(session, org.id, through=local_today(org))

    def count(query) -> int:
        return session.scalar(query) or 0

    return Position(
        org.id, org.currency, b.pool, b.savings, b.principal, b.interest, b.fines, b.earnings,
        sum(arrears.values()), len(arrears),
        count(select(func.count()).select_from(ChamaMember).where(ChamaMember.org_id == org.id,
                                                                  ChamaMember.status == "active")),
        count(select(func.count()).select_from(ChamaLoan).where(ChamaLoan.org_id == org.id,
                                                                ChamaLoan.status == "requested")),
        count(select(func.count()).select_from(ChamaPayout).where(ChamaPayout.org_id == org.id,
                                                                  ChamaPayout.status == "requested")),
    )



@dataclass(frozen=True)
class PeriodTotal:
    period: str  # "2026-03", a month on the org's clock
    contributions_minor: int


def contributions_by_month(session: Session, actor: Actor, org_id: int, *, months: int = 12) -> list[PeriodTotal]:
    """Contributions that stand (not reversed) in each of the last ``months`` months, oldest
    first and months with none included: the console's contributions-over-time chart."""
    org = chama_org(session, actor, org_id, "chama.read")
    first = add_months(local_today(org).replace(day=1), -(months - 1))
    since, _until = local_day_bounds(org, first, None)
    reversed_ids = select(ChamaLedgerEntry.reverses_id).where(ChamaLedgerEntry.reverses_id.is_not(None))
    rows = session.execute(select(ChamaLedgerEntry.occurred_at, ChamaLedgerEntry.amount_minor).where(
        ChamaLedgerEntry.org_id == org.id, ChamaLedgerEntry.kind == "contribution",
        ChamaLedgerEntry.occurred_at >= since, ChamaLedgerEntry.id.not_in(reversed_ids)))
    zone = org_zone(org)
    totals = {f"{m:%Y-%m}": 0 for m in (add_months(first, i) for i in range(months))}
    for occurred_at, amount in rows:
        label = f"{occurred_at.astimezone(zone):%Y-%m}"
        if label in totals:
            totals[label] += amount
    return [PeriodTotal(label, total) for label, total in totals.items()]
