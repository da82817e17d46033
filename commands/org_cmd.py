"""`ofisi org create|list|sms-number`."""

from __future__ import annotations

from typing import Optional

import typer

from commands.common import err, print_json, print_table, unit_of_work

app = typer.Typer(help="Create and list organisations.", no_args_is_help=True)


@app.command("create")
def create(
    slug: str = typer.Argument(..., help="Short name used in commands, like 'umoja-chama'."),
    kind: str = typer.Option(..., "--kind", help="salon, chama, agency, campaigns or community."),
    name: str = typer.Option(..., "--name", help="The organisation's full name."),
    timezone: Optional[str] = typer.Option(None, "--timezone", help="IANA time zone (default from the country)."),
    currency: Optional[str] = typer.Option(None, "--currency", help="ISO currency (default from the country)."),
    country: str = typer.Option("KE", "--country", help="Two-letter country code; phones are read as this country's."),
) -> None:
    """Create an organisation."""
    from core.orgs import create_org

    with unit_of_work() as (session, actor):
        org = create_org(session, actor, slug, kind=kind, name=name, timezone=timezone,
                         currency=currency, country=country)
    err(f"Created {org.kind} {org.slug!r} ({org.name}), {org.country}, {org.currency}, {org.timezone}.")


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON lines data on stdout.")) -> None:
    """List organisations."""
    from core.orgs import list_orgs

    with unit_of_work() as (session, actor):
        orgs = list_orgs(session, actor)
    if as_json:
        print_json(orgs)
        return
    if not orgs:
        err("No organisations yet: `ofisi org create SLUG --kind KIND --name NAME`, or `ofisi demo`.")
        return
    print_table(None, ["slug", "name", "kind", "country", "currency", "time zone"],
                [[o.slug, o.name, o.kind, o.country, o.currency, o.timezone] for o in orgs])


@app.command("sms-number")
def sms_number(
    slug: str = typer.Argument(..., help="The organisation."),
    number: Optional[str] = typer.Argument(None, help="Short code or number members text, e.g. 22384; omit to clear."),
) -> None:
    """Set the short code or number whose inbound SMS belong to this organisation."""
    from core.orgs import get_org, set_sms_number

    with unit_of_work() as (session, actor):
        org = set_sms_number(session, actor, get_org(session, actor, slug).id, number)
    err(f"Inbound SMS to {org.sms_number} now reach {org.slug}." if org.sms_number
        else f"{org.slug} has no SMS number now; members' texts reach it when they are its contacts.")
