"""`ofisi contacts`: an org's people (one contact per person per org), for admins scripting."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from commands.common import err, fail, print_json

app = typer.Typer(help="An organisation's contacts: list, add (once per phone), delete.", no_args_is_help=True)


@app.command("list")
def list_cmd(
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    search: str = typer.Option("", "--search", help="Part of a name or phone number."),
    limit: int = typer.Option(100, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json", help="Print JSON data on stdout."),
) -> None:
    """Contacts of an organisation, newest first."""
    from commands.common import print_table, unit_of_work
    from core.contacts import list_contacts
    from core.orgs import get_org

    with unit_of_work() as (session, actor):
        org_view = get_org(session, actor, org)
        rows = list_contacts(session, actor, org_view.id, search=search, limit=limit)
    if as_json:
        print_json(rows)
        return
    if not rows:
        err(f"No contacts{' match' if search else ''} in {org_view.name}.")
        return
    print_table(f"Contacts in {org_view.name}", ["id", "name", "phone", "email"],
                [[c.id, c.name, c.phone, c.email] for c in rows])


@app.command("add")
def add_cmd(
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    name: str = typer.Option(..., "--name", help="The person's name."),
    phone: str = typer.Option(..., "--phone", help="Their phone, as people write it (0712 345 678)."),
    email: Optional[str] = typer.Option(None, "--email", help="Their email, if any."),
    as_json: bool = typer.Option(False, "--json", help="Print the contact as JSON on stdout."),
) -> None:
    """Add a person, or find them by phone if they are already a contact (safe to run again: the name of
    an existing contact is kept, a missing email is filled in)."""
    from commands.common import unit_of_work
    from core.contacts import upsert_contact
    from core.orgs import get_org

    with unit_of_work() as (session, actor):
        org_view = get_org(session, actor, org)
        contact = upsert_contact(session, actor, org_view.id, name=name, phone=phone, email=email)
    if as_json:
        print_json(contact)
    else:
        err(f"Contact {contact.id}: {contact.name}, {contact.phone}, in {org_view.name}.")


@app.command("delete")
def delete_cmd(
    contact_id: int = typer.Argument(..., help="The contact id from `ofisi contacts list`."),
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask."),
) -> None:
    """Delete a contact who has no records that must be kept (to erase a person everywhere, with their
    history, use `ofisi person erase`)."""
    from commands.common import unit_of_work
    from core.contacts import delete_contact, get_contact
    from core.orgs import get_org

    with unit_of_work() as (session, actor):
        org_view = get_org(session, actor, org)
        contact = get_contact(session, actor, org_view.id, contact_id)
        if not yes:
            if not sys.stdin.isatty():
                raise fail("Nothing was deleted: pass --yes to delete without being asked.", 2)
            if not typer.confirm(f"Delete {contact.name} ({contact.phone}) from {org_view.name}?", default=False):
                raise fail("Nothing was deleted.", 1)
        delete_contact(session, actor, org_view.id, contact_id)
    err(f"Deleted {contact.name} from {org_view.name}.")
