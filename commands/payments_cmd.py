"""`ofisi payments`: M-Pesa payments for the operator and the officials who settle them."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Optional

import typer

from commands.common import err, print_json

app = typer.Typer(help="M-Pesa payments: list, push what is pending, ask Daraja about stale ones, settle.",
                  no_args_is_help=True)


@app.command("list")
def list_cmd(
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    status: Optional[str] = typer.Option(None, "--status", help="Only this status (for example review or unknown)."),
    limit: int = typer.Option(100, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json", help="Print JSON data on stdout."),
) -> None:
    """Payment requests of an organisation, newest first."""
    from commands.common import print_table, unit_of_work
    from core.orgs import get_org
    from core.payments import list_payments

    with unit_of_work() as (session, actor):
        org_view = get_org(session, actor, org)
        rows = list_payments(session, actor, org_view.id, status=status, limit=limit)
    if as_json:
        print_json(rows)
        return
    if not rows:
        err(f"No payments{f' that are {status}' if status else ''} in {org_view.name}.")
        return
    print_table(f"Payments in {org_view.name}", ["id", "phone", "amount", "for", "status", "receipt", "note"],
                [[p.id, p.phone, p.amount, p.purpose, p.status, p.receipt_number, p.last_error or p.result_desc]
                 for p in rows])


@app.command("show")
def show_cmd(
    payment_id: int = typer.Argument(..., help="The payment id from `ofisi payments list`."),
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON data on stdout."),
) -> None:
    """One payment request in full: what was asked, what Daraja answered, and why it is where it is."""
    from commands.common import unit_of_work
    from core.orgs import get_org
    from core.payments import get_payment

    with unit_of_work() as (session, actor):
        org_view = get_org(session, actor, org)
        p = get_payment(session, actor, org_view.id, payment_id)
    if as_json:
        print_json(p)
        return
    for label, value in (("payment", p.id), ("for", p.purpose), ("phone", p.phone), ("amount", p.amount),
                         ("status", p.status), ("receipt", p.receipt_number), ("result", p.result_desc),
                         ("problem", p.last_error), ("attempts", p.attempts), ("checkout", p.checkout_request_id),
                         ("asked at", p.created_at.isoformat(timespec="seconds")),
                         ("paid at", p.paid_at.isoformat(timespec="seconds") if p.paid_at else None)):
        if value not in (None, ""):
            typer.echo(f"{label:>9}: {value}")


@app.command("results")
def results_cmd(
    org: Optional[str] = typer.Option(None, "--org", help="Only this organisation's (default: every result)."),
    verdict: Optional[str] = typer.Option(None, "--verdict", help="applied, duplicate or review."),
    limit: int = typer.Option(100, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json", help="Print JSON data on stdout."),
) -> None:
    """Results as Daraja sent them (callbacks and STK query answers), with what each did."""
    from commands.common import print_table, unit_of_work
    from core.orgs import get_org
    from core.payments import list_callbacks

    with unit_of_work() as (session, actor):
        org_id = get_org(session, actor, org).id if org else None
        rows = list_callbacks(session, actor, org_id=org_id, verdict=verdict, limit=limit)
    if as_json:
        print_json(rows)
        return
    if not rows:
        err("No results.")
        return
    print_table("Daraja results", ["id", "at", "payment", "from", "code", "receipt", "verdict", "why"],
                [[c.id, c.received_at.strftime("%Y-%m-%d %H:%M:%S"), c.payment_request_id, c.source,
                  c.result_code, c.receipt_number, c.verdict, c.reason] for c in rows])


@app.command("send")
def send_cmd(
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
) -> None:
    """Push every pending request now (`ofisi serve` does this by itself within a second)."""
    from core.payments import send_pending_payments

    summary = _with_client(send_pending_payments)
    _report(summary, as_json)
    if summary.stopped:
        err(f"Stopped: {summary.stopped}")
        sys.exit(1)


@app.command("check")
def check_cmd(
    older_than: int = typer.Option(180, "--older-than", min=0, help="Seconds since Daraja accepted the push."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
) -> None:
    """Ask Daraja (STK query) about pushes still waiting for their result; apply what it says."""
    from core.payments import check_stale_payments

    def check(database, client):
        return check_stale_payments(database, client, older_than=timedelta(seconds=older_than))

    _report(_with_client(check), as_json)


def _with_client(work):
    """Run ``work(database, client)`` with the configured database and Daraja client."""
    from config import get_settings
    from core.payments import PaymentsUnavailable
    from core.providers import ProviderUnavailable
    from core.providers.mpesa import DarajaClient
    from db.engine import open_database

    try:
        client = DarajaClient.from_settings(get_settings())
    except ProviderUnavailable as exc:
        raise PaymentsUnavailable(str(exc)) from None
    database = open_database()
    try:
        return work(database, client)
    finally:
        database.dispose()
        client.close()


def _report(summary, as_json: bool) -> None:
    if as_json:
        print_json(summary)
    else:
        err(summary.line())


@app.command("settle")
def settle_cmd(
    payment_id: int = typer.Argument(..., help="The payment id from `ofisi payments list`."),
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    paid: Optional[str] = typer.Option(None, "--paid", metavar="RECEIPT",
                                       help="It was paid: the receipt number on the M-Pesa statement."),
    not_paid: bool = typer.Option(False, "--not-paid", help="The statement shows no such payment."),
    amount: Optional[str] = typer.Option(None, "--amount", metavar="AMOUNT",
                                         help="What the receipt shows was paid (default: what M-Pesa reported, "
                                              "else the amount asked)."),
) -> None:
    """Settle a payment under review or of unknown fate, from the M-Pesa statement; it is credited with the
    amount M-Pesa reported (or --amount), not the amount asked."""
    from commands.common import unit_of_work
    from core.money import format_money, parse_money
    from core.orgs import get_org
    from core.payments import CURRENCY, settle_payment

    if bool(paid) == not_paid:
        err("Say what the M-Pesa statement shows: --paid RECEIPT, or --not-paid.")
        raise typer.Exit(2)
    with unit_of_work() as (session, actor):
        org_view = get_org(session, actor, org)
        amount_minor = None if amount is None else parse_money(amount, CURRENCY)
        payment = settle_payment(session, actor, org_view.id, payment_id, paid=bool(paid), receipt_number=paid,
                                 amount_minor=amount_minor)
    asked = payment.payload.get("asked_minor")
    also = f"; {format_money(asked, payment.currency)} was asked" if asked else ""
    err(f"Payment {payment.id} ({payment.amount}{also}) is now {payment.status}.")
