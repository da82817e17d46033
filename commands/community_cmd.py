"""`ofisi community …`: a community's events, registrations, members and migration batches from scripts.

Times without an offset are the community's wall clock. The importer from the
old platform is `ofisi import smilefactory`.
"""

from __future__ import annotations

from typing import Optional

import typer

from commands.common import err, org_id_for, print_json, print_table, unit_of_work

app = typer.Typer(help="Communities: events, registrations, check-in, members, search, migration batches.",
                  no_args_is_help=True)
event_app = typer.Typer(help="Events: create, list, registrations, register, cancel, check in.", no_args_is_help=True)
app.add_typer(event_app, name="event")

ORG = typer.Option(..., "--org", help="Community slug.")
JSON = typer.Option(False, "--json", help="Print the data as JSON on stdout.")


def community_for(session, actor, slug: str):
    from core.errors import NotFound

    org = org_id_for(session, actor, slug)
    if org.kind != "community":
        raise NotFound(f"{slug} is a {org.kind}, not a community; name a community with --org.")
    return org


@event_app.command("create")
def create(
    title: str = typer.Argument(...),
    starts: str = typer.Option(..., "--starts", help="2026-12-05T18:00 (the community's clock)."),
    hours: float = typer.Option(2.0, "--hours", min=0.25),
    capacity: int = typer.Option(..., "--capacity", min=1),
    venue: str = typer.Option("", "--venue"),
    link: str = typer.Option("", "--link", help="A virtual event's link."),
    org: str = ORG,
    as_json: bool = JSON,
) -> None:
    """Create an event."""
    from datetime import timedelta

    from commands.chama_cmd import parse_moment
    from core.community.events import create_event

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        start = parse_moment(starts, o.timezone)
        event = create_event(session, actor, o.id, title=title, starts_at=start,
                             ends_at=start + timedelta(hours=hours), capacity=capacity, venue=venue,
                             virtual_link=link)
    if as_json:
        print_json(event)
    err(f"Event {event.id} created: {event.title}, {event.capacity} places.")


@event_app.command("list")
def list_events(org: str = ORG, as_json: bool = JSON) -> None:
    """Upcoming events with their fill rate."""
    from core.community.events import upcoming_events

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        rows = upcoming_events(session, actor, o.id, limit=200)
    if as_json:
        print_json(rows)
        return
    print_table("Upcoming events", ["#", "title", "starts", "registered", "waitlist", "fill"],
                [[e.id, e.title, e.starts_at.astimezone(o.tz).strftime("%Y-%m-%d %H:%M"),
                  f"{e.registered}/{e.capacity}", e.waitlisted, f"{e.fill_rate:.0%}"] for e in rows])


def _account_id(session, actor, org_id: int, who: str) -> int:
    from core.community.accounts import find_account

    return find_account(session, actor, org_id, who).id


@event_app.command("register")
def register_cmd(event: int = typer.Argument(...), who: str = typer.Argument(..., help="Phone or email."),
                 org: str = ORG, as_json: bool = JSON) -> None:
    """Register a member (or waitlist them when the event is full)."""
    from core.community.events import register

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        reg = register(session, actor, o.id, event, _account_id(session, actor, o.id, who))
    if as_json:
        print_json(reg)
    err(f"{reg.name or who}: {reg.status}.")


@event_app.command("cancel")
def cancel_cmd(event: int = typer.Argument(...), who: str = typer.Argument(..., help="Phone or email."),
               org: str = ORG) -> None:
    """Cancel a registration; the first waitlisted member takes the place."""
    from core.community.events import cancel_registration

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        cancel_registration(session, actor, o.id, event, _account_id(session, actor, o.id, who))
    err("Cancelled.")


@event_app.command("registrations")
def registrations(event: int = typer.Argument(...), search: str = typer.Option("", "--search"),
                  org: str = ORG, as_json: bool = JSON) -> None:
    """An event's registrations in queue order."""
    from core.community.events import list_registrations

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        rows = list_registrations(session, actor, o.id, event, search=search, limit=1000)
    if as_json:
        print_json(rows)
        return
    print_table(None, ["#", "name", "phone", "status"], [[r.id, r.name, r.phone, r.status] for r in rows])


@event_app.command("check-in")
def check_in_cmd(registration: int = typer.Argument(...), org: str = ORG) -> None:
    """Mark a registration as attended."""
    from core.community.events import check_in

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        reg = check_in(session, actor, o.id, registration)
    err(f"{reg.name}: attended.")


@app.command("search")
def search_cmd(text: str = typer.Argument(...), kind: str = typer.Option("profile", "--kind"),
               before: Optional[int] = typer.Option(None, "--before", help="Page on: the last id shown."),
               org: str = ORG, as_json: bool = JSON) -> None:
    """Search profiles, events, posts or listings."""
    from core.community.search import search

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        hits = search(session, actor, o.id, text, kind=kind, before_id=before)
    if as_json:
        print_json(hits)
        return
    print_table(None, ["#", "title", "detail"], [[h.id, h.title, h.detail] for h in hits])


@app.command("batches")
def batches(org: str = ORG, as_json: bool = JSON) -> None:
    """Migration batches from the old platform."""
    from core.community.migration import list_batches

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        rows = list_batches(session, actor, o.id)
    if as_json:
        print_json(rows)
        return
    print_table("Import batches", ["#", "file", "status", "when", "accounts", "posts", "connections"],
                [[b.id, b.file, b.status, b.created_at.strftime("%Y-%m-%d %H:%M"), b.report.get("accounts_created"),
                  b.report.get("posts_created"), b.report.get("connections_created")] for b in rows])
