"""`ofisi org create|list`."""

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
