"""The chama's AGM reports under `ofisi report NAME --org SLUG`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Optional

import typer

from commands.common import err, print_table, unit_of_work


AGM_REPORTS = {  # `ofisi report NAME`: the reports in core.chama.agm
    "contributions": "Contribution register: members x months, with arrears",
    "loans": "Loan book and ageing (current, 1-30, 31-60, 61-90, 90+ days late)",
    "fines": "Fines register: charged, paid and owed per member",
    "income": "Income and expenditure: interest, fines, expenses and payouts",
    "attendance": "Meeting attendance: members x meetings",
    "shareout": "Share-out statement: savings and share of earnings per member",
}


def agm_report(name: str) -> Callable[..., None]:
    """The `ofisi report NAME` command for one of the AGM reports in core.chama.agm."""

    def command(
        org: str = typer.Option(..., "--org", help="Chama slug."),
        start: Optional[str] = typer.Option(None, "--from", help="First day, like 2026-01-01 (the chama's clock)."),
        end: Optional[str] = typer.Option(None, "--to", help="Last day, included (default today)."),
        fmt: str = typer.Option("table", "--format", help="table, csv, xlsx or pdf."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="File to write (csv: stdout without)."),
    ) -> None:
        from commands.chama_cmd import chama_for, parse_day
        from core.chama.agm import FORMATS, build_report, write_report

        if fmt not in FORMATS:
            raise typer.BadParameter(f"--format is one of {', '.join(FORMATS)}.")
        if fmt in ("xlsx", "pdf") and out is None:
            raise typer.BadParameter(f"--format {fmt} needs --out FILE.")
        with unit_of_work() as (session, actor):
            o = chama_for(session, actor, org)
            report = build_report(session, actor, o.id, name, start=parse_day(start), end=parse_day(end))
        if fmt == "table":
            print_table(report.title, report.columns, report.text_rows())
            for note in report.notes:
                err(note)
        elif out is None:
            write_report(report, fmt, sys.stdout)
        else:
            write_report(report, fmt, out)
            err(f"Wrote {report.title} to {out}.")

    command.__doc__ = f"{AGM_REPORTS[name]} for a chama (an AGM report)."
    return command


expenses_app = typer.Typer(help="The chama's expenses (bank and M-Pesa charges, meeting costs), with receipts.",
                           no_args_is_help=True)


@expenses_app.command("add")
def expenses_add(
    amount_text: str = typer.Argument(..., metavar="AMOUNT", help="What was spent, like 350 or 1,200.50."),
    org: str = typer.Option(..., "--org", help="Chama slug."),
    category: str = typer.Option(..., "--category", help="bank charges, mpesa charges, meeting costs or other."),
    receipt: str = typer.Option(..., "--receipt", help="Receipt number: M-Pesa code, bank slip or shop receipt."),
    note: str = typer.Option("", "--note", help="What it was for."),
    source: str = typer.Option("cash", "--source", help="cash, mpesa or bank: how it was paid."),
    on: Optional[str] = typer.Option(None, "--on", help="The day it was spent (default now)."),
) -> None:
    """Record an expense; it comes out of the pool and the earnings shared at the share-out."""
    from commands.chama_cmd import amount, chama_for, money, parse_day
    from core.chama.base import local_moment
    from core.chama.expenses import record_expense

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        day = parse_day(on)
        entry = record_expense(session, actor, o.id, amount(amount_text, o), category=category, receipt=receipt,
                               note=note, source=source, occurred_at=local_moment(o, day) if day else None)
        err(f"{'Already recorded' if entry.replayed else 'Recorded'} expense {entry.id}: "
            f"{money(entry.amount_minor, o)} ({category}, receipt {receipt}).")


def import_chama(
    path: Path = typer.Argument(..., help="The books: an .xlsx workbook with a sheet each, or a folder of CSV files."),
    org: str = typer.Option(..., "--org", help="Chama slug."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check everything and report; write nothing."),
) -> None:
    """Bring a chama's books over: members and opening balances, checked against the history."""
    from commands.chama_cmd import chama_for
    from commands.common import fail
    from core.chama.books import import_books

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        report = import_books(session, actor, o.id, path, dry_run=dry_run)
    for line in report.lines():
        err(line)
    if report.refused:
        raise fail(f"{len(report.refused)} line(s) refused; nothing was written.")


def export_chama(
    org: str = typer.Option(..., "--org", help="Chama slug."),
    out: Optional[Path] = typer.Option(None, "--out", help="An .xlsx workbook, or a folder for CSV files "
                                                          "(default: SLUG-books.xlsx)."),
) -> None:
    """Write a chama's books (members, balances, transactions) in the shape `ofisi import chama` reads."""
    from commands.chama_cmd import chama_for
    from core.chama.books import export_books

    target = out or Path(f"{org}-books.xlsx")
    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        counts = export_books(session, actor, o.id, target)
    err(f"Wrote {counts.members} members, {counts.balances} balances as at {counts.as_at} and "
        f"{counts.transactions} transactions to {target}.")
