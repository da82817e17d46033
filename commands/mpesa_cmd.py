"""`ofisi mpesa`: an org's paybill (C2B) and money sent out by B2C."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo
from typing import Optional

import typer

from commands.common import err, print_json, print_table, unit_of_work

app = typer.Typer(help="M-Pesa paybill (money in) and B2C (money out) for an organisation.", no_args_is_help=True)


def _client(*, b2c: bool = False):
    """The Daraja client for C2B (and, with ``b2c``, one whose initiator is set), or the setting to fix."""
    from core.payments import PaymentsUnavailable
    from core.payments.b2c import b2c_client
    from core.providers import ProviderUnavailable

    try:
        client = b2c_client()
    except ProviderUnavailable as exc:
        raise PaymentsUnavailable(str(exc)) from None
    try:
        if b2c:
            client.initiator()
    except ProviderUnavailable as exc:
        client.close()
        raise PaymentsUnavailable(str(exc)) from None
    return client


def _daraja_refused(exc) -> typer.Exit:
    err(f"Daraja refused it: {exc}")
    return typer.Exit(1)


@app.command("register-urls")
def register_urls_cmd(
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    shortcode: Optional[str] = typer.Option(None, "--shortcode",
                                            help="The paybill short code (default: OFISI_MPESA_SHORTCODE)."),
    when_down: str = typer.Option("Cancelled", "--when-down",
                                  help="What M-Pesa does when Ofisi cannot be reached to validate: "
                                       "Cancelled (refuse the payment) or Completed (take it)."),
) -> None:
    """Register the gateway's validation and confirmation URLs with Daraja (C2B v2) for the org's paybill."""
    from config import get_settings
    from core.orgs import get_org
    from core.payments.c2b import register_urls
    from core.providers import SendError

    code = shortcode or get_settings().mpesa_shortcode
    if not code:
        err("Give --shortcode, or set OFISI_MPESA_SHORTCODE to the paybill number.")
        raise typer.Exit(2)
    client = _client()
    try:
        with unit_of_work() as (session, actor):
            org_view = get_org(session, actor, org)
            paybill = register_urls(session, actor, org_view.id, client, shortcode=str(code),
                                    response_type=when_down)
    except SendError as exc:
        raise _daraja_refused(exc) from None
    finally:
        client.close()
    err(f"Paybill {paybill.shortcode} now validates and confirms at {paybill.confirmation_url} "
        f"(when Ofisi is down: {paybill.response_type}).")


@app.command("import-statement")
def import_statement_cmd(
    file: Path = typer.Argument(..., help="The paybill statement from the M-Pesa org portal (.csv or .xlsx)."),
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report what would be credited; write nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
) -> None:
    """Credit the statement's payments that no callback credited (once per receipt number)."""
    from core.orgs import get_org
    from core.payments.statement import import_statement

    with unit_of_work() as (session, actor):
        org_view = get_org(session, actor, org)
        report = import_statement(session, actor, org_view.id, file, dry_run=dry_run)
    if as_json:
        print_json(report)
    for miss in report.unmatched:
        err(f"line {miss.line}: {miss.receipt or '(no receipt)'}: {miss.reason}")
    err(report.line())


@app.command("paybill")
def paybill_cmd(
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    status: Optional[str] = typer.Option(None, "--status", help="credited or review."),
    limit: int = typer.Option(100, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json", help="Print JSON data on stdout."),
) -> None:
    """Money paid to the org's paybill, newest first, with what each payment credited."""
    from core.payments.c2b import list_paybill_payments

    _listing(org, lambda s, a, org_id: list_paybill_payments(s, a, org_id, status=status, limit=limit), as_json,
             f"paybill payments{f' that are {status}' if status else ''}", "Paybill payments to",
             ["receipt", "paid", "account", "amount", "from", "status", "credited", "note"],
             lambda p, zone: [p.trans_id, p.paid_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"), p.account,
                              p.amount, p.source, p.status, p.entry_ref, p.reason])


def _listing(org: str, fetch, as_json: bool, nothing: str, title: str, columns: list[str], cells) -> None:
    """Rows of an org as JSON on stdout, or a table (or a line saying there are none)."""
    from core.orgs import get_org

    with unit_of_work() as (session, actor):
        org_view = get_org(session, actor, org)
        rows = fetch(session, actor, org_view.id)
    if as_json:
        print_json(rows)
    elif not rows:
        err(f"No {nothing} in {org_view.name}.")
    else:
        print_table(f"{title} {org_view.name}", columns, [cells(row, ZoneInfo(org_view.timezone)) for row in rows])


@app.command("assign")
def assign_cmd(
    receipt: str = typer.Argument(..., help="The M-Pesa receipt of a payment kept for review."),
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    account: str = typer.Option(..., "--account", help="The account it was meant for (e.g. M012 or M012-LOAN)."),
) -> None:
    """Credit a paybill payment kept for review to the account it was meant for."""
    from core.orgs import get_org
    from core.payments.c2b import assign_payment

    with unit_of_work() as (session, actor):
        org_view = get_org(session, actor, org)
        payment = assign_payment(session, actor, org_view.id, receipt, account)
    err(f"{payment.trans_id} ({payment.amount}) credited: {payment.entry_ref}.")


@app.command("disburse")
def disburse_cmd(
    what: str = typer.Argument(..., help="loan or payout."),
    item_id: int = typer.Argument(..., help="The approved loan's or payout's id."),
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    phone: Optional[str] = typer.Option(None, "--phone", help="Pay this number (default: the member's)."),
) -> None:
    """Pay an approved loan or payout by M-Pesa B2C; the books show it when M-Pesa reports it left."""
    from commands.common import open_db
    from core.orgs import get_org
    from core.payments.b2c import request_disbursement, send_disbursement

    if what not in ("loan", "payout"):
        err("Say what to disburse: loan or payout.")
        raise typer.Exit(2)
    client = _client(b2c=True)  # a setting to fix is said before anything is written
    try:
        with unit_of_work() as (session, actor):
            org_view = get_org(session, actor, org)
            asked = request_disbursement(session, actor, org_view.id, f"{org_view.kind}.{what}", item_id,
                                         phone=phone)
        database = open_db()
        try:
            sent = send_disbursement(database, client, asked.id)
        finally:
            database.dispose()
    finally:
        client.close()
    if sent.status == "failed":
        err(f"Disbursement {sent.id} failed; the {what} is still approved. {sent.last_error}")
        raise typer.Exit(1)
    err(f"Disbursement {sent.id}: {sent.amount} to {sent.phone} is {sent.status}; the books show it when M-Pesa "
        "reports that it left (`ofisi mpesa disbursements`).")


@app.command("settle-disbursement")
def settle_disbursement_cmd(
    disbursement_id: int = typer.Argument(..., help="The id from `ofisi mpesa disbursements`."),
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    paid: Optional[str] = typer.Option(None, "--paid", metavar="RECEIPT",
                                       help="The portal shows it paid: its receipt number."),
    not_paid: bool = typer.Option(False, "--not-paid", help="The portal shows no such payment."),
) -> None:
    """Settle a disbursement under review or still waiting, from what the M-Pesa portal shows."""
    from core.orgs import get_org
    from core.payments.b2c import settle_disbursement

    if bool(paid) == not_paid:
        err("Say what the M-Pesa portal shows: --paid RECEIPT, or --not-paid.")
        raise typer.Exit(2)
    with unit_of_work() as (session, actor):
        org_view = get_org(session, actor, org)
        settled = settle_disbursement(session, actor, org_view.id, disbursement_id, paid=bool(paid),
                                      receipt_number=paid)
    err(f"Disbursement {settled.id} ({settled.amount}) is now {settled.status}.")


@app.command("disbursements")
def disbursements_cmd(
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    status: Optional[str] = typer.Option(None, "--status", help="pending, awaiting, succeeded, failed or review."),
    limit: int = typer.Option(100, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json", help="Print JSON data on stdout."),
) -> None:
    """Money sent out by B2C, newest first, with M-Pesa's word on each."""
    from core.payments.b2c import list_disbursements

    _listing(org, lambda s, a, org_id: list_disbursements(s, a, org_id, status=status, limit=limit), as_json,
             f"disbursements{f' that are {status}' if status else ''}", "M-Pesa disbursements of",
             ["id", "for", "amount", "phone", "status", "receipt", "note"],
             lambda d, _zone: [d.id, f"{d.subject} {d.subject_id}", d.amount, d.phone, d.status, d.receipt_number,
                               d.last_error or ("waiting for M-Pesa's result" if d.status == "awaiting"
                                                else d.result_desc)])
