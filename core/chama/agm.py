"""The reports an AGM reads, each one table written as text, CSV, XLSX or PDF.

Every figure is a sum of the ledger (or of the loans, meetings and invoices it
points at) over a period of whole days on the chama's clock; a reversal counts
under the kind of the entry it undoes, so a reversed contribution or fine
payment nets to nothing. :data:`REPORTS` names them; :func:`build_report`
makes one and :func:`write_report` writes it.

- ``contributions``: members x months, with what each still owes (arrears).
- ``loans``: the loan book with each loan's ageing (current, 1-30, 31-60, 61-90, 90+ days late).
- ``fines``: per member, fines charged, paid and still owed.
- ``income``: income and expenditure: interest and fines earned, less expenses and payouts.
- ``attendance``: members x meetings, with each member's count present.
- ``shareout``: each member's savings and the share of the earnings they would take now.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.chama.base import add_months, chama_org, contact_of, largest_remainder, local_day_bounds, local_today, org_zone
from core.chama.dues import arrears_by_member
from core.chama.ledger import KINDS, sums, sums_by_member
from core.chama.loans import LENT, schedule_of, standing_of
from core.errors import InvalidInput
from core.money import exponent, format_money
from db.models import Org
from db.models_chama import ChamaAttendance, ChamaLedgerEntry, ChamaLoan, ChamaMeeting, ChamaMember

FORMATS = ("table", "csv", "xlsx", "pdf")
BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


@dataclass
class Report:
    """A titled table; ``money`` holds the indexes of columns in minor units; ``totals`` is the last row."""

    name: str
    title: str
    currency: str
    columns: list[str]
    money: set[int]
    rows: list[list[Any]] = field(default_factory=list)
    totals: list[Any] | None = None
    notes: list[str] = field(default_factory=list)

    def all_rows(self) -> list[list[Any]]:
        return self.rows + ([self.totals] if self.totals is not None else [])

    def cell_text(self, i: int, value: Any) -> str:
        if value is None:
            return ""
        return format_money(value, self.currency) if i in self.money else str(value)

    def text_rows(self) -> list[list[str]]:
        return [[self.cell_text(i, v) for i, v in enumerate(r)] for r in self.all_rows()]

    def major(self, i: int, value: Any) -> Any:
        if i in self.money and isinstance(value, int):
            exp = exponent(self.currency)
            return Decimal(value).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))
        return value


@dataclass(frozen=True)
class _Entry:
    kind: str  # for a reversal, the kind of the entry it undoes
    member_id: int | None
    loan_id: int | None
    day: date
    row: ChamaLedgerEntry


def _entries(session: Session, org: Org, start: date | None, end: date | None) -> list[_Entry]:
    since, until = local_day_bounds(org, start, end)
    query = select(ChamaLedgerEntry).where(ChamaLedgerEntry.org_id == org.id)
    if since:
        query = query.where(ChamaLedgerEntry.occurred_at >= since)
    if until:
        query = query.where(ChamaLedgerEntry.occurred_at < until)
    rows = list(session.scalars(query.order_by(ChamaLedgerEntry.occurred_at, ChamaLedgerEntry.id)))
    undone = {r.reverses_id for r in rows if r.reverses_id is not None}
    kinds = dict(session.execute(select(ChamaLedgerEntry.id, ChamaLedgerEntry.kind)
                                 .where(ChamaLedgerEntry.id.in_(undone)))) if undone else {}
    zone = org_zone(org)
    return [_Entry(kinds.get(r.reverses_id, r.kind) if r.reverses_id else r.kind, r.member_id, r.loan_id,
                   r.occurred_at.astimezone(zone).date(), r) for r in rows]


def _members(session: Session, org: Org) -> list[tuple[ChamaMember, str]]:
    members = session.scalars(select(ChamaMember).where(ChamaMember.org_id == org.id).order_by(ChamaMember.id))
    return [(m, contact_of(session, m).name) for m in members]


def _span(org: Org, start: date | None, end: date | None) -> str:
    return f"{start or 'the start'} to {end or local_today(org)}"


def _months(entries: list[_Entry], start: date | None, end: date) -> list[str]:
    first = start or min((e.day for e in entries), default=end)
    month, labels = first.replace(day=1), []
    while month <= end:
        labels.append(f"{month:%Y-%m}")
        month = add_months(month, 1)
    return labels


def _contributions(session: Session, org: Org, start: date | None, end: date | None) -> Report:
    entries = [e for e in _entries(session, org, start, end) if e.kind == "contribution"]
    through = end or local_today(org)
    months = _months(entries, start, through)
    arrears = arrears_by_member(session, org.id, through=through)
    report = Report("contributions", f"Contribution register, {org.name}, {_span(org, start, end)} ({org.currency})",
                    org.currency, ["no.", "member", *months, "total", "arrears"],
                    set(range(2, len(months) + 4)))
    paid: dict[tuple[int | None, str], int] = {}
    for e in entries:
        key = (e.member_id, f"{e.day:%Y-%m}")
        paid[key] = paid.get(key, 0) + e.row.savings_minor
    for member, name in _members(session, org):
        cells = [paid.get((member.id, m), 0) for m in months]
        if any(cells) or arrears.get(member.id) or member.status == "active":
            report.rows.append([member.member_number, name, *cells, sum(cells), arrears.get(member.id, 0)])
    report.totals = ["", "Total", *(sum(r[i] for r in report.rows) for i in range(2, len(months) + 4))]
    return report


def _days_late(session: Session, org: Org, loan: ChamaLoan, today: date) -> int:
    standing = standing_of(session, org, loan, today)
    late = [inst.due_on for inst in schedule_of(loan, today)
            if standing.due_for(inst.number) > 0 and inst.due_on < today]
    return (today - min(late)).days if late else 0


def bucket_of(days_late: int) -> str:
    """Which ageing column a loan this many days past its oldest unpaid instalment falls in."""
    if days_late <= 0:
        return "current"
    return "1-30" if days_late <= 30 else "31-60" if days_late <= 60 else "61-90" if days_late <= 90 else "90+"


def _loans(session: Session, org: Org, start: date | None, end: date | None) -> Report:
    today = end or local_today(org)
    report = Report("loans", f"Loan book and ageing, {org.name}, as at {today} ({org.currency})", org.currency,
                    ["loan", "no.", "member", "principal", "status", "days late", "outstanding", *BUCKETS],
                    {3, 6, *range(7, 7 + len(BUCKETS))})
    _, until = local_day_bounds(org, None, today)
    loans = session.scalars(select(ChamaLoan).where(ChamaLoan.org_id == org.id, ChamaLoan.status.in_(LENT))
                            .order_by(ChamaLoan.id))
    for loan in loans:
        owed = sums(session, org.id, loan_id=loan.id, before=until).loan
        if owed <= 0:
            continue
        member = session.get(ChamaMember, loan.member_id)
        assert member is not None
        late = _days_late(session, org, loan, today)
        report.rows.append([loan.id, member.member_number, contact_of(session, member).name, loan.principal_minor,
                            loan.status, late, owed, *(owed if b == bucket_of(late) else 0 for b in BUCKETS)])
    report.totals = ["", "", "Total", sum(r[3] for r in report.rows), "", "",
                     *(sum(r[i] for r in report.rows) for i in range(6, 7 + len(BUCKETS)))]
    return report


def _fines(session: Session, org: Org, start: date | None, end: date | None) -> Report:
    charged: dict[int | None, int] = {}
    paid: dict[int | None, int] = {}
    for e in _entries(session, org, start, end):
        if e.kind == "fine":
            charged[e.member_id] = charged.get(e.member_id, 0) + e.row.fines_minor
        elif e.row.fines_minor:
            paid[e.member_id] = paid.get(e.member_id, 0) - e.row.fines_minor
    _, until = local_day_bounds(org, None, end)
    owed = {m: b.fines for m, b in sums_by_member(session, org.id).items()} if until is None else {
        m: sums(session, org.id, member_id=m, before=until).fines for m in set(charged) | set(paid) if m}
    report = Report("fines", f"Fines register, {org.name}, {_span(org, start, end)} ({org.currency})", org.currency,
                    ["no.", "member", "charged", "paid", "owed"], {2, 3, 4})
    for member, name in _members(session, org):
        if charged.get(member.id) or paid.get(member.id) or owed.get(member.id):
            report.rows.append([member.member_number, name, charged.get(member.id, 0), paid.get(member.id, 0),
                                owed.get(member.id, 0)])
    report.totals = ["", "Total", *(sum(r[i] for r in report.rows) for i in (2, 3, 4))]
    return report


INCOME_LINES = ("Interest earned", "Fines collected")


def _income(session: Session, org: Org, start: date | None, end: date | None) -> Report:
    """Income is what entered earnings (interest and fines paid); expenditure what left them before the
    share-out (expenses and payouts). The surplus is the change in earnings over the period, share-outs aside."""
    lines = {name: 0 for name in INCOME_LINES}
    spent: dict[str, int] = {}
    for e in _entries(session, org, start, end):
        r = e.row
        if e.kind in ("fine_payment",):
            lines["Fines collected"] += r.earnings_minor
        elif e.kind in ("loan_repayment", "exit_settlement"):
            lines["Interest earned"] -= r.interest_minor
            lines["Fines collected"] -= r.fines_minor
        elif e.kind != "shareout" and r.earnings_minor:
            label = KINDS.get(e.kind, e.kind)
            if e.kind == "expense":
                label += ": " + r.memo.split(":")[0]
            spent[label] = spent.get(label, 0) - r.earnings_minor
    report = Report("income", f"Income and expenditure, {org.name}, {_span(org, start, end)} ({org.currency})",
                    org.currency, ["section", "item", "amount"], {2})
    report.rows += [["Income", name, amount] for name, amount in lines.items()]
    report.rows += [["Expenditure", name, amount] for name, amount in sorted(spent.items())]
    report.totals = ["Surplus", "income less expenditure", sum(lines.values()) - sum(spent.values())]
    return report


def _attendance(session: Session, org: Org, start: date | None, end: date | None) -> Report:
    since, until = local_day_bounds(org, start, end)
    query = select(ChamaMeeting).where(ChamaMeeting.org_id == org.id, ChamaMeeting.status != "cancelled")
    if since:
        query = query.where(ChamaMeeting.starts_at >= since)
    if until:
        query = query.where(ChamaMeeting.starts_at < until)
    meetings = list(session.scalars(query.order_by(ChamaMeeting.starts_at)))
    zone = org_zone(org)
    marks = {(a.meeting_id, a.member_id): a.status for a in session.scalars(
        select(ChamaAttendance).where(ChamaAttendance.meeting_id.in_([m.id for m in meetings])))} if meetings else {}
    report = Report("attendance", f"Meeting attendance, {org.name}, {_span(org, start, end)}", org.currency,
                    ["no.", "member", *(f"{m.starts_at.astimezone(zone):%Y-%m-%d}" for m in meetings), "present"],
                    set())
    for member, name in _members(session, org):
        cells = [marks.get((m.id, member.id), "") for m in meetings]
        if any(cells) or member.status == "active":
            report.rows.append([member.member_number, name, *cells,
                                sum(c in ("present", "late") for c in cells)])
    report.totals = ["", "Present", *(sum(r[i + 2] in ("present", "late") for r in report.rows)
                                      for i in range(len(meetings))), sum(r[-1] for r in report.rows)]
    return report


def _shareout(session: Session, org: Org, start: date | None, end: date | None) -> Report:
    _, until = local_day_bounds(org, None, end)
    totals = sums(session, org.id, before=until)
    by_member = {m: sums(session, org.id, member_id=m, before=until) for m in sums_by_member(session, org.id)}
    savings = {m: b.savings for m, b in sorted(by_member.items()) if b.savings > 0}
    shares = dict(zip(savings, largest_remainder(max(totals.earnings, 0), list(savings.values())))) if savings else {}
    report = Report("shareout", f"Share-out statement, {org.name}, as at {end or local_today(org)} ({org.currency})",
                    org.currency, ["no.", "member", "savings", "share of earnings", "loans owed", "fines owed",
                                   "to receive"], {2, 3, 4, 5, 6})
    for member, name in _members(session, org):
        if member.id not in by_member:
            continue
        b = by_member[member.id]
        share = shares.get(member.id, 0)
        report.rows.append([member.member_number, name, b.savings, share, b.loan, b.fines,
                            b.savings + share - b.loan - b.fines])
    report.totals = ["", "Total", *(sum(r[i] for r in report.rows) for i in range(2, 7))]
    report.notes.append(f"Earnings to share: {format_money(totals.earnings, org.currency)}, in proportion to "
                        "savings; loans and fines owed are settled from what a member would receive.")
    return report


REPORTS: dict[str, Callable[[Session, Org, date | None, date | None], Report]] = {
    "contributions": _contributions,
    "loans": _loans,
    "fines": _fines,
    "income": _income,
    "attendance": _attendance,
    "shareout": _shareout,
}


def build_report(session: Session, actor: Actor, org_id: int, name: str, *, start: date | None = None,
                 end: date | None = None) -> Report:
    """One of :data:`REPORTS` for the chama over [start, end] (whole days, the chama's clock)."""
    org = chama_org(session, actor, org_id, "chama.read")
    if name not in REPORTS:
        raise InvalidInput(f"There is no chama report {name!r}; choose one of {', '.join(REPORTS)}.")
    if start and end and start > end:
        raise InvalidInput(f"The report starts ({start}) after it ends ({end}).")
    return REPORTS[name](session, org, start, end)


def _write_csv(report: Report, out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow(report.columns)
    for r in report.all_rows():
        writer.writerow(["" if v is None else report.major(i, v) for i, v in enumerate(r)])


def _write_xlsx(report: Report, path: Path) -> None:
    from openpyxl import Workbook  # heavy; only when a spreadsheet is asked for
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = report.name[:31]
    sheet.append([report.title])
    sheet["A1"].font = Font(bold=True)
    sheet.append(report.columns)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    fmt = "#,##0" + ("." + "0" * exponent(report.currency) if exponent(report.currency) else "")
    for r in report.all_rows():
        sheet.append([report.major(i, v) for i, v in enumerate(r)])
        for i in report.money:
            sheet.cell(row=sheet.max_row, column=i + 1).number_format = fmt
    for note in report.notes:
        sheet.append([note])
    book.save(path)


def _write_pdf(report: Report, path: Path) -> None:
    from fpdf import FPDF  # only when a PDF is asked for

    wide = len(report.columns) > 7
    pdf = FPDF(orientation="L" if wide else "P", format="A4")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 12)
    pdf.multi_cell(0, 7, _latin(report.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    size = 8 if len(report.columns) <= 10 else 6
    pdf.set_font("Helvetica", size=size)
    rows = [report.columns, *report.text_rows()]
    with pdf.table(text_align="LEFT", first_row_as_headings=True, line_height=size * 0.55) as table:
        for r in rows:
            line = table.row()
            for cell in r:
                line.cell(_latin(cell))
    for note in report.notes:
        pdf.ln(2)
        pdf.multi_cell(0, 5, _latin(note), new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def _latin(text: str) -> str:
    """The core PDF fonts carry Latin-1 only; anything else is shown as '?'."""
    return str(text).replace("\u2013", "-").encode("latin-1", "replace").decode("latin-1")


def write_report(report: Report, fmt: str, out: Path | IO[str]) -> None:
    """Write ``report`` as ``csv`` (to a path or an open text file), ``xlsx`` or ``pdf`` (to a path)."""
    if fmt == "csv":
        if isinstance(out, Path):
            with open(out, "w", newline="", encoding="utf-8") as fh:
                _write_csv(report, fh)
        else:
            _write_csv(report, out)
    elif fmt in ("xlsx", "pdf"):
        if not isinstance(out, Path):
            raise InvalidInput(f"A {fmt.upper()} report needs a file; give --out PATH.")
        (_write_xlsx if fmt == "xlsx" else _write_pdf)(report, out)
    else:
        raise InvalidInput(f"The format is one of {', '.join(FORMATS)}.")

