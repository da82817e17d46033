"""The paybill statement that M-Pesa's organisation portal exports (CSV or XLSX), read to credit
what the confirmation callbacks missed.

Each money-in line is taken by its receipt number through
:func:`core.payments.c2b.take_payment`, the same door as the callback: a
receipt already taken (from a callback, or an earlier import) credits
nothing, and a callback that comes after the import finds its receipt taken.
Lines that are not money in (withdrawals, charges, incomplete ones) are
skipped and counted; a line whose account names no one is kept for review
and named in the report, as is every line that cannot be read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.errors import InvalidInput
from core.importing import read_rows
from core.payments.c2b import C2BPayment, paybill_of, take_payment
from core.payments.results import shillings_minor
from core.permissions import require
from core.spreadsheets import cell_text

COLUMNS = {
    "receipt": ("receipt no.", "receipt no", "receipt", "receipt number", "transaction id"),
    "completed": ("completion time", "completed", "completion date"),
    "details": ("details",),
    "status": ("transaction status", "status"),
    "paid_in": ("paid in", "paid in (ksh)", "credit"),
    "withdrawn": ("withdrawn", "debit"),
    "other_party": ("other party info", "other party"),
    "account": ("a/c no.", "a/c no", "account", "account no.", "account number", "bill ref number"),
}
TIME_FORMATS = ("%d-%m-%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d-%m-%Y %H:%M", "%d/%m/%Y %H:%M")


@dataclass(frozen=True)
class Unmatched:
    line: int
    receipt: str
    account: str
    reason: str


@dataclass
class StatementReport:
    file: str
    lines: int = 0
    credited: int = 0
    already: int = 0
    skipped: int = 0
    unmatched: list[Unmatched] = field(default_factory=list)
    dry_run: bool = False

    def line(self) -> str:
        verb = "would credit" if self.dry_run else "credited"
        text = (f"{self.file}: {self.lines} lines; {verb} {self.credited}, {self.already} already taken, "
                f"{self.skipped} not money in, {len(self.unmatched)} unmatched")
        return text + ("; dry run, nothing was written" if self.dry_run else "")


def _account_in(details: str) -> str:
    """The account from the Details text (``Pay Bill from 2547… - NAME Acc. M001``), when A/C No. is empty."""
    _, found, account = details.rpartition(" Acc. ")
    return account.strip() if found else ""


def _when(value, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        local = value
    else:
        text = cell_text(value)
        for fmt in TIME_FORMATS:
            try:
                local = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise InvalidInput(f"completion time {text!r} is not a date and time like 01-12-2026 09:34:00")
    return local.replace(tzinfo=zone) if local.tzinfo is None else local


def import_statement(session: Session, actor: Actor, org_id: int, path: Path, *,
                     dry_run: bool = False) -> StatementReport:
    """Credit every money-in line of the statement that no callback credited; once per receipt.
    One transaction: commits, or (``dry_run``) rolls back after reporting what it would do."""
    org = require(session, actor, org_id, "payments.settle")
    paybill = paybill_of(session, org.id)
    shortcode = paybill.shortcode if paybill else "statement"
    zone = ZoneInfo(org.timezone)
    report = StatementReport(path.name, dry_run=dry_run)
    for line, values in read_rows(path, COLUMNS, ("receipt", "paid_in", "account")):
        report.lines += 1
        receipt = cell_text(values.get("receipt")).upper()
        account = cell_text(values.get("account")) or _account_in(cell_text(values.get("details")))
        paid_in = cell_text(values.get("paid_in")).replace(",", "")
        status = cell_text(values.get("status")).lower()
        if not paid_in or (status and status != "completed"):
            report.skipped += 1
            continue
        amount = shillings_minor(paid_in)
        try:
            if not receipt:
                raise InvalidInput("no receipt number")
            if amount is None or amount <= 0:
                raise InvalidInput(f"paid in {paid_in!r} is not an amount")
            when = _when(values.get("completed"), zone)
        except InvalidInput as exc:
            report.unmatched.append(Unmatched(line, receipt, account, str(exc)))
            continue
        raw = {k: cell_text(v) for k, v in values.items()} | {"line": line, "file": path.name}
        payment = C2BPayment(receipt, shortcode, account, amount, when, cell_text(values.get("other_party"))[:200],
                             raw)
        taken = take_payment(session, org, payment, source="statement")
        if taken.verdict == "applied":
            report.credited += 1
        elif taken.verdict == "duplicate" and "(review)" not in (taken.reason or ""):
            report.already += 1
        else:
            report.unmatched.append(Unmatched(line, receipt, account, taken.reason or "kept for review"))
    audit.record(session, actor, "payment.statement_import", "org", org.id, org_id=org.id,
                 after={"file": path.name, "lines": report.lines, "credited": report.credited,
                        "already": report.already, "unmatched": len(report.unmatched), "dry_run": dry_run})
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return report
