"""`ofisi community …`: a community's members, events, registrations, moderation, inbox, posts,
connections, listings and migration batches from scripts; `ofisi report community` is the reports.

Times without an offset are the community's wall clock, and times shown are on it too. A member
is named by their number, phone or email. The importer from the old platform is
`ofisi import smilefactory`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from commands.common import err, org_id_for, print_json, print_table, unit_of_work

app = typer.Typer(help="Communities: members, events, registrations, moderation, inbox, search, migration batches.",
                  no_args_is_help=True)
event_app = typer.Typer(help="Events: create, edit, cancel, list, past, registrations, register, check in, admit, "
                             "export, ics.", no_args_is_help=True)
member_app = typer.Typer(help="Members: add, list, show, edit, verify, suspend, reinstate, merge, profiles.",
                         no_args_is_help=True)
moderation_app = typer.Typer(help="The moderation queue: list, hide, restore, dismiss, suspend.", no_args_is_help=True)
inbox_app = typer.Typer(help="The staff inbox of members' SMS: list, show, reply, close.", no_args_is_help=True)
post_app = typer.Typer(help="Posts and comments: list, add, comment, report.", no_args_is_help=True)
listing_app = typer.Typer(help="Members' listings: add, status.", no_args_is_help=True)
app.add_typer(event_app, name="event")
app.add_typer(member_app, name="member")
app.add_typer(moderation_app, name="moderation")
app.add_typer(inbox_app, name="inbox")
app.add_typer(post_app, name="post")
app.add_typer(listing_app, name="listing")

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
    _events_table(o, "Upcoming events", rows)


@event_app.command("past")
def past(org: str = ORG, limit: int = typer.Option(50, "--limit", min=1, max=500), as_json: bool = JSON) -> None:
    """Events that have ended or were cancelled, latest first, with attendance."""
    from core.community.events import past_events

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        rows = past_events(session, actor, o.id, limit=limit)
    if as_json:
        print_json(rows)
        return
    _events_table(o, "Past events", rows)


@event_app.command("edit")
def edit(
    event: int = typer.Argument(...),
    title: Optional[str] = typer.Option(None, "--title"),
    starts: Optional[str] = typer.Option(None, "--starts", help="New start (the community's clock); the length stays."),
    hours: Optional[float] = typer.Option(None, "--hours", min=0.25, help="New length."),
    venue: Optional[str] = typer.Option(None, "--venue"),
    link: Optional[str] = typer.Option(None, "--link"),
    capacity: Optional[int] = typer.Option(None, "--capacity", min=1,
                                           help="Fewer places move the last registered to the waitlist (told)."),
    org: str = ORG,
    as_json: bool = JSON,
) -> None:
    """Change an event's time, place, title or capacity; the people registered are told."""
    from datetime import timedelta

    from commands.chama_cmd import parse_moment
    from core.community.events import get_event, update_event

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        start = parse_moment(starts, o.timezone)
        ends = None
        if hours is not None:
            ends = (start or get_event(session, actor, o.id, event).starts_at) + timedelta(hours=hours)
        change = update_event(session, actor, o.id, event, title=title, starts_at=start, ends_at=ends, venue=venue,
                              virtual_link=link, capacity=capacity)
    if as_json:
        print_json(change)
    e = change.event
    err(f"Event {e.id} {e.title}: {_local(o, e.starts_at)}, {e.place}, {e.registered}/{e.capacity} registered; "
        f"{change.moved_to_waitlist} moved to the waitlist, {change.promoted} promoted, {change.told} told.")


def _account_id(session, actor, org_id: int, who: str) -> int:
    """A member by number (a short number), or by phone or email."""
    from core.community.accounts import find_account, get_account

    text = who.strip()
    if text.isdigit() and len(text) <= 8:
        return get_account(session, actor, org_id, int(text)).id
    return find_account(session, actor, org_id, text).id


def _local(o, moment, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(o.tz).strftime(fmt) if moment else ""


def _events_table(o, title: str, rows) -> None:
    print_table(title, ["#", "title", "starts", "where", "registered", "waitlist", "attended", "fill", "status"],
                [[e.id, e.title, _local(o, e.starts_at), e.place, f"{e.registered}/{e.capacity}", e.waitlisted,
                  e.attended, f"{e.fill_rate:.0%}", e.status] for e in rows])


@event_app.command("register")
def register_cmd(event: int = typer.Argument(...), who: str = typer.Argument(..., help="Member number, phone or email."),
                 check_in_now: bool = typer.Option(False, "--check-in", help="At the door: mark them attended too."),
                 org: str = ORG, as_json: bool = JSON) -> None:
    """Register a member (or waitlist them when the event is full); they get a confirmation."""
    from core.community.events import check_in, register

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        reg = register(session, actor, o.id, event, _account_id(session, actor, o.id, who))
        if check_in_now and reg.status == "registered":
            reg = check_in(session, actor, o.id, reg.id)
    if as_json:
        print_json(reg)
    err(f"{reg.name or who}: {reg.status} (registration {reg.id}); a confirmation was sent.")


@event_app.command("cancel")
def cancel_cmd(event: int = typer.Argument(...),
               who: Optional[str] = typer.Argument(None, help="A member (number, phone or email): cancel their "
                                                               "registration. Without: cancel the event."),
               reason: str = typer.Option("", "--reason", help="Why the event is cancelled (told to everyone)."),
               org: str = ORG) -> None:
    """Cancel a registration (the first waitlisted takes the place), or the whole event (everyone told)."""
    from core.community.events import cancel_event, cancel_registration

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        if who is None:
            change = cancel_event(session, actor, o.id, event, reason=reason)
            err(f"{change.event.title} is cancelled; {change.told} people were told.")
            return
        cancel_registration(session, actor, o.id, event, _account_id(session, actor, o.id, who))
    err("Cancelled.")


@event_app.command("admit")
def admit_cmd(registration: int = typer.Argument(..., help="The waitlisted registration's number."),
              org: str = ORG) -> None:
    """At the door: let a waitlisted person in (a free place, or one more place)."""
    from core.community.events import admit

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        reg, raised = admit(session, actor, o.id, registration)
    err(f"{reg.name}: attended" + ("; the event grew by one place for them." if raised else "."))


@event_app.command("export")
def export_cmd(event: int = typer.Argument(...),
               csv_file: Optional[str] = typer.Option(None, "--csv", metavar="FILE", help="CSV to FILE ('-': stdout)."),
               xlsx_file: Optional[Path] = typer.Option(None, "--xlsx", metavar="FILE", help="An XLSX workbook."),
               org: str = ORG) -> None:
    """An event's attendance: everyone registered, waitlisted, cancelled or attended."""
    from core.community.events import export_attendance

    if (csv_file is None) == (xlsx_file is None):
        raise typer.BadParameter("choose one of --csv FILE and --xlsx FILE.")
    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        if csv_file == "-":
            count = export_attendance(session, actor, o.id, event, sys.stdout, fmt="csv")
        elif csv_file is not None:
            count = export_attendance(session, actor, o.id, event, Path(csv_file), fmt="csv")
        else:
            count = export_attendance(session, actor, o.id, event, xlsx_file, fmt="xlsx")
    if csv_file != "-":
        err(f"Wrote {count} registrations to {csv_file or xlsx_file}.")


@event_app.command("ics")
def ics_cmd(event: int = typer.Argument(...),
            output: Optional[Path] = typer.Option(None, "-o", "--output", help="File (default: stdout)."),
            org: str = ORG) -> None:
    """The event as an iCalendar (.ics) invitation, in the community's time zone."""
    from core.community.events import event_ics

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        data = event_ics(session, actor, o.id, event)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)
        err(f"Wrote {output}.")


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
    print_table(None, ["#", "name", "phone", "status", "attended"],
                [[r.id, r.name, r.phone, r.status, _local(o, r.attended_at)] for r in rows])


@event_app.command("check-in")
def check_in_cmd(registration: int = typer.Argument(...), org: str = ORG) -> None:
    """Mark a registration as attended."""
    from core.community.events import check_in

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        reg = check_in(session, actor, o.id, registration)
    err(f"{reg.name}: attended.")


@app.command("search")
def search_cmd(text: str = typer.Argument(...), kind: str = typer.Option("profile", "--kind",
                                                                         help="profile, event, post, listing or all."),
               before: Optional[int] = typer.Option(None, "--before", help="Page on: the last id shown."),
               org: str = ORG, as_json: bool = JSON) -> None:
    """Search profiles, events, posts or listings."""
    from core.community.search import search

    from core.community.search import search_all

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        if kind == "all":
            hits = [h for found in search_all(session, actor, o.id, text).values() for h in found]
        else:
            hits = search(session, actor, o.id, text, kind=kind, before_id=before)
    if as_json:
        print_json(hits)
        return
    print_table(None, ["kind", "#", "title", "detail"], [[h.kind, h.id, h.title, h.detail] for h in hits])


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


# ---------------------------------------------------------------- members

WHO = typer.Argument(..., help="Member number, phone or email.")


@member_app.command("add")
def member_add(name: str = typer.Argument(...), phone: Optional[str] = typer.Option(None, "--phone"),
               email: Optional[str] = typer.Option(None, "--email"),
               profile_type: str = typer.Option("innovator", "--type", help="innovator, mentor, investor, "
                                                "academic_student, academic_institution, organization, professional."),
               org: str = ORG, as_json: bool = JSON) -> None:
    """Add a member (an account and its primary profile)."""
    from core.community.accounts import create_account

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        account = create_account(session, actor, o.id, display_name=name, phone=phone, email=email, type=profile_type)
    if as_json:
        print_json(account)
    err(f"Member {account.id} added: {name}.")


@member_app.command("list")
def member_list(search: str = typer.Option("", "--search", help="Part of a name, username, phone or email."),
                status: Optional[str] = typer.Option(None, "--status", help="active or suspended."),
                after: Optional[int] = typer.Option(None, "--after", help="Page on: the last member number shown."),
                limit: int = typer.Option(50, "--limit", min=1, max=500), org: str = ORG, as_json: bool = JSON) -> None:
    """The member directory, by name, a page at a time."""
    from core.community.accounts import get_account
    from core.community.members import count_members, list_members

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        cursor = None
        if after is not None:
            last = get_account(session, actor, o.id, after)
            cursor = ((last.primary.display_name if last.primary else "").lower(), last.id)
        rows = list_members(session, actor, o.id, search=search, status=status, after=cursor, limit=limit)
        total = count_members(session, actor, o.id, status=status)
    if as_json:
        print_json(rows)
        return
    print_table(f"Members ({len(rows)} shown of {total})",
                ["#", "name", "type", "phone", "email", "status", "verified", "joined"],
                [[m.id, m.name, m.type, m.phone, m.email, m.status, "yes" if m.verified else "",
                  _local(o, m.joined_at, "%Y-%m-%d")] for m in rows])
    if len(rows) == limit:
        err(f"More: --after {rows[-1].id}")


@member_app.command("show")
def member_show(who: str = WHO, org: str = ORG, as_json: bool = JSON) -> None:
    """A member's page: profiles, contact, registrations, posts, connections, listings, moderation."""
    from core.community.members import describe, member_page
    from core.community.social import bookmarks_of, list_notifications

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        account_id = _account_id(session, actor, o.id, who)
        page = member_page(session, actor, o.id, account_id)
        notes = list_notifications(session, actor, o.id, account_id, limit=10)
        marks = bookmarks_of(session, actor, o.id, account_id)
        from db.models import Org

        lines = describe(session.get(Org, o.id), page)
    if as_json:
        print_json({**{k: v for k, v in page.__dict__.items()}, "bookmarks": marks, "notifications": notes})
        return
    lines += ["Bookmarks:"] + [f"  {kind} {target}" for kind, target in marks]
    lines += ["Notifications:"] + [f"  {_local(o, n.created_at)} {n.body}" for n in notes]
    from rich.console import Console
    from rich.text import Text

    console = Console()
    for line in lines:
        console.print(Text(line))  # people's text, never markup


@member_app.command("edit")
def member_edit(who: str = WHO, name: Optional[str] = typer.Option(None, "--name"),
                phone: Optional[str] = typer.Option(None, "--phone", help="'' removes it."),
                email: Optional[str] = typer.Option(None, "--email", help="'' removes it."),
                profile_type: Optional[str] = typer.Option(None, "--type"),
                bio: Optional[str] = typer.Option(None, "--bio"), location: Optional[str] = typer.Option(None, "--location"),
                website: Optional[str] = typer.Option(None, "--website"),
                profile: Optional[int] = typer.Option(None, "--profile", help="Which profile (default: the primary)."),
                org: str = ORG) -> None:
    """Change a member's contact details or a profile."""
    from core.community.accounts import get_account, update_profile
    from core.community.members import update_contact

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        account_id = _account_id(session, actor, o.id, who)
        if phone is not None or email is not None:
            update_contact(session, actor, o.id, account_id, email=email, phone=phone)
        changes = {k: v for k, v in (("display_name", name), ("type", profile_type), ("bio", bio),
                                     ("location", location), ("website", website)) if v is not None}
        if changes:
            target = profile or get_account(session, actor, o.id, account_id).primary.id
            update_profile(session, actor, o.id, target, **changes)
    err(f"Member {account_id} updated.")


@member_app.command("verify")
def member_verify(who: str = WHO, undo: bool = typer.Option(False, "--undo", help="Take the verification away."),
                  org: str = ORG) -> None:
    """Mark a member's primary profile verified."""
    from core.community.members import verify_member

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        view = verify_member(session, actor, o.id, _account_id(session, actor, o.id, who), verified=not undo)
    err(f"{view.primary.display_name}: {'verified' if view.primary.verified else 'not verified'}.")


@member_app.command("suspend")
def member_suspend(who: str = WHO, reason: str = typer.Option(..., "--reason", help="Told to the member."),
                   org: str = ORG) -> None:
    """Suspend a member: SMS and USSD refuse them politely until reinstated."""
    from core.community.members import set_status

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        view = set_status(session, actor, o.id, _account_id(session, actor, o.id, who), "suspended", reason=reason)
    err(f"{view.primary.display_name} is suspended; they were told.")


@member_app.command("reinstate")
def member_reinstate(who: str = WHO, org: str = ORG) -> None:
    """Make a suspended member active again."""
    from core.community.members import set_status

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        view = set_status(session, actor, o.id, _account_id(session, actor, o.id, who), "active")
    err(f"{view.primary.display_name} is active again; they were told.")


@member_app.command("merge")
def member_merge(who: str = typer.Argument(..., help="The member to keep."),
                 other: str = typer.Argument(..., help="The other account's phone or email (the code goes there)."),
                 code: Optional[str] = typer.Option(None, "--code", help="The code its owner received."),
                 org: str = ORG) -> None:
    """Merge two accounts of one person: first sends a sign-in code to OTHER, then run again with --code."""
    from core.community.members import finish_merge, start_merge
    from core.otp import mask

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        keep = _account_id(session, actor, o.id, who)
        if code is None:
            sent = start_merge(session, actor, o.id, keep, other)
            err(f"A code went to {mask(sent.address)}; when its owner reads it to you, run this again with --code.")
            return
        view = finish_merge(session, actor, o.id, keep, other, code)
    err(f"Merged into member {view.id} ({view.primary.display_name}): {len(view.profiles)} profiles.")


@member_app.command("profile-add")
def profile_add(who: str = WHO, name: str = typer.Option(..., "--name"),
                profile_type: str = typer.Option(..., "--type"), org: str = ORG) -> None:
    """Give a member another profile (another face: a mentor, an investor …)."""
    from core.community.accounts import add_profile

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        profile = add_profile(session, actor, o.id, _account_id(session, actor, o.id, who), type=profile_type,
                              display_name=name)
    err(f"Profile {profile.id} added: {profile.display_name} ({profile.type}).")


@member_app.command("primary")
def profile_primary(profile: int = typer.Argument(..., help="The profile's number."), org: str = ORG) -> None:
    """Make a profile its account's primary one."""
    from core.community.accounts import set_primary

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        view = set_primary(session, actor, o.id, profile)
    err(f"{view.display_name} is now the primary profile.")


@member_app.command("notifications")
def notifications(who: str = WHO, mark_read: bool = typer.Option(False, "--mark-read"), org: str = ORG,
                  as_json: bool = JSON) -> None:
    """A member's notifications, newest first."""
    from core.community.social import list_notifications, mark_read as mark

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        account_id = _account_id(session, actor, o.id, who)
        rows = list_notifications(session, actor, o.id, account_id)
        if mark_read:
            mark(session, actor, o.id, account_id)
    if as_json:
        print_json(rows)
        return
    print_table(None, ["when", "kind", "text", "read"],
                [[_local(o, n.created_at), n.kind, n.body, "yes" if n.read_at else ""] for n in rows])


@member_app.command("connect")
def connect(who: str = WHO, other: str = typer.Argument(..., help="The other member."),
            answer: Optional[str] = typer.Option(None, "--answer", help="accepted, rejected or blocked: answer "
                                                                        "their connection instead."),
            org: str = ORG) -> None:
    """Connect two members' primary profiles (a request), or answer a connection with --answer."""
    from core.community.accounts import get_account
    from core.community.social import request_connection, respond_connection
    from db.models_community import CommunityConnection

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        a = get_account(session, actor, o.id, _account_id(session, actor, o.id, who)).primary.id
        b = get_account(session, actor, o.id, _account_id(session, actor, o.id, other)).primary.id
        if answer is None:
            view = request_connection(session, actor, o.id, a, b)
        else:
            low, high = sorted((a, b))
            from sqlalchemy import select

            connection_id = session.scalar(select(CommunityConnection.id).where(
                CommunityConnection.profile_low_id == low, CommunityConnection.profile_high_id == high))
            if connection_id is None:
                raise typer.BadParameter("those two have no connection to answer.")
            view = respond_connection(session, actor, o.id, connection_id, answer)
    err(f"Connection {view.id}: {view.status}.")


@member_app.command("bookmark")
def bookmark_cmd(who: str = WHO, kind: str = typer.Argument(..., help="post, event, listing or profile."),
                 target: int = typer.Argument(...), remove: bool = typer.Option(False, "--remove"),
                 org: str = ORG) -> None:
    """Bookmark something for a member (or --remove it)."""
    from core.community.social import bookmark, remove_bookmark

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        account_id = _account_id(session, actor, o.id, who)
        if remove:
            remove_bookmark(session, actor, o.id, account_id, kind, target)
            err("Bookmark removed.")
            return
        added = bookmark(session, actor, o.id, account_id, kind, target)
    err("Bookmarked." if added else "Already bookmarked.")


# ---------------------------------------------------------------- moderation

@moderation_app.command("list")
def moderation_list(org: str = ORG, as_json: bool = JSON) -> None:
    """Open reports, oldest first."""
    from core.community.social import moderation_queue

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        rows = moderation_queue(session, actor, o.id, limit=500)
    if as_json:
        print_json(rows)
        return
    print_table("Moderation queue", ["report", "what", "author", "text", "reason", "by", "when"],
                [[r.id, f"{r.target} {r.target_id}", r.author, r.excerpt, r.reason, r.reporter,
                  _local(o, r.created_at)] for r in rows])


KIND = typer.Argument(..., help="post or comment.")


@moderation_app.command("hide")
def moderation_hide(kind: str = KIND, target: int = typer.Argument(...),
                    reason: str = typer.Option(..., "--reason", help="Told to the author."), org: str = ORG) -> None:
    """Hide a post or comment (its author is told why); its reports are resolved."""
    from core.community.social import hide

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        hide(session, actor, o.id, kind, target, reason)
    err(f"{kind.capitalize()} {target} is hidden; its author was told.")


@moderation_app.command("restore")
def moderation_restore(kind: str = KIND, target: int = typer.Argument(...), org: str = ORG) -> None:
    """Show a hidden post or comment again."""
    from core.community.social import restore

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        restore(session, actor, o.id, kind, target)
    err(f"{kind.capitalize()} {target} is shown again.")


@moderation_app.command("dismiss")
def moderation_dismiss(report: int = typer.Argument(...), org: str = ORG) -> None:
    """Leave the content as it is and take the report off the queue."""
    from core.community.social import dismiss_report

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        dismiss_report(session, actor, o.id, report)
    err(f"Report {report} dismissed.")


@moderation_app.command("suspend")
def moderation_suspend(report: int = typer.Argument(...), reason: str = typer.Option(..., "--reason"),
                       org: str = ORG) -> None:
    """Hide the reported content and suspend its author (both told)."""
    from core.community.social import suspend_author

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        account_id = suspend_author(session, actor, o.id, report, reason)
    err(f"Member {account_id} is suspended and the content hidden.")


# ---------------------------------------------------------------- inbox

@inbox_app.command("list")
def inbox_list(all_threads: bool = typer.Option(False, "--all", help="Closed conversations too."), org: str = ORG,
               as_json: bool = JSON) -> None:
    """Conversations, latest first."""
    from core.community.inbox import list_threads

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        rows = list_threads(session, actor, o.id, status=None if all_threads else "open", limit=200)
    if as_json:
        print_json(rows)
        return
    print_table("Inbox", ["#", "from", "phone", "unread", "last", "when", "status"],
                [[t.id, t.name, t.phone, t.unread or "", t.last_text[:50], _local(o, t.last_message_at), t.status]
                 for t in rows])


@inbox_app.command("show")
def inbox_show(thread: int = typer.Argument(...), org: str = ORG, as_json: bool = JSON) -> None:
    """A conversation, oldest first (reading it marks it read)."""
    from core.community.inbox import read_thread

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        view, rows = read_thread(session, actor, o.id, thread)
    if as_json:
        print_json({"thread": view, "messages": rows})
        return
    print_table(f"{view.name} {view.phone}", ["when", "", "text", "staff"],
                [[_local(o, m.created_at), "→" if m.direction == "out" else "←", m.body, m.staff] for m in rows])


@inbox_app.command("reply")
def inbox_reply(thread: int = typer.Argument(...), text: str = typer.Argument(...), org: str = ORG) -> None:
    """Answer a conversation by SMS."""
    from core.community.inbox import reply

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        reply(session, actor, o.id, thread, text)
    err("Reply queued.")


@inbox_app.command("close")
def inbox_close(thread: int = typer.Argument(...), org: str = ORG) -> None:
    """Done with a conversation; the member's next SMS opens it again."""
    from core.community.inbox import close_thread

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        close_thread(session, actor, o.id, thread)
    err("Closed.")


# ---------------------------------------------------------------- posts and listings

def _profile_of(session, actor, org_id: int, who: str) -> int:
    from core.community.accounts import get_account

    return get_account(session, actor, org_id, _account_id(session, actor, org_id, who)).primary.id


@post_app.command("list")
def post_list(limit: int = typer.Option(20, "--limit", min=1, max=200), org: str = ORG, as_json: bool = JSON) -> None:
    """The latest posts members can see."""
    from core.community.social import recent_posts

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        rows = recent_posts(session, actor, o.id, limit=limit)
    if as_json:
        print_json([{"post": p, "author": name} for p, name in rows])
        return
    print_table(None, ["#", "author", "title", "text", "when"],
                [[p.id, name, p.title, p.body[:60], _local(o, p.created_at)] for p, name in rows])


@post_app.command("add")
def post_add(who: str = typer.Option(..., "--as", help="The member who posts."),
             body: str = typer.Option(..., "--body"), title: str = typer.Option("", "--title"), org: str = ORG) -> None:
    """Post on a member's behalf (an announcement from the community's own member account)."""
    from core.community.social import create_post

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        post = create_post(session, actor, o.id, _profile_of(session, actor, o.id, who), body=body, title=title)
    err(f"Post {post.id} added.")


@post_app.command("comment")
def post_comment(post: int = typer.Argument(...), who: str = typer.Option(..., "--as"),
                 body: str = typer.Option(..., "--body"), org: str = ORG) -> None:
    """Comment on a post on a member's behalf."""
    from core.community.social import add_comment

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        comment_id = add_comment(session, actor, o.id, post, _profile_of(session, actor, o.id, who), body)
    err(f"Comment {comment_id} added.")


@post_app.command("report")
def post_report(kind: str = KIND, target: int = typer.Argument(...), reason: str = typer.Option(..., "--reason"),
                who: Optional[str] = typer.Option(None, "--by", help="The member who reports it."),
                org: str = ORG) -> None:
    """Put a post or comment on the moderation queue."""
    from core.community.social import report_content

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        reporter = _account_id(session, actor, o.id, who) if who else None
        report_id = report_content(session, actor, o.id, kind, target, reason, reporter_account_id=reporter)
    err(f"Report {report_id} is on the moderation queue.")


@listing_app.command("add")
def listing_add(who: str = typer.Option(..., "--as"), kind: str = typer.Option(..., "--kind", help="product or service."),
                title: str = typer.Option(..., "--title"), price: str = typer.Option("0", "--price"),
                org: str = ORG) -> None:
    """List a member's product or service."""
    from core.community.social import create_listing
    from core.money import parse_money

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        listing = create_listing(session, actor, o.id, _profile_of(session, actor, o.id, who), kind=kind,
                                 title=title, price_minor=parse_money(price, o.currency))
    err(f"Listing {listing.id} added.")


@listing_app.command("status")
def listing_status(listing: int = typer.Argument(...), status: str = typer.Argument(..., help="active, sold, inactive."),
                   org: str = ORG) -> None:
    """Mark a listing active, sold or inactive."""
    from core.community.social import set_listing_status

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        view = set_listing_status(session, actor, o.id, listing, status)
    err(f"Listing {view.id}: {view.status}.")


# ---------------------------------------------------------------- reports (`ofisi report community`)

def report_community(
    name: str = typer.Argument(..., metavar="NAME", help="growth (members per month), attendance (no-shows per event) or "
                                         "active (most active members)."),
    org: str = ORG,
    start: Optional[str] = typer.Option(None, "--from", help="First day (the community's clock)."),
    end: Optional[str] = typer.Option(None, "--to", help="Last day, included."),
    months: int = typer.Option(12, "--months", min=1, max=120, help="growth: how many months."),
    limit: int = typer.Option(20, "--limit", min=1, max=500, help="active: how many members."),
    fmt: str = typer.Option("table", "--format", help="table, csv, xlsx or json."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="File for csv/xlsx (csv: stdout without)."),
) -> None:
    """A community's member growth, event attendance with no-show rates, or most active members."""
    from datetime import datetime, time, timedelta

    from commands.chama_cmd import parse_day
    from core.community.reports import community_report
    from core.spreadsheets import write_csv, write_xlsx

    if fmt not in ("table", "csv", "xlsx", "json"):
        raise typer.BadParameter("--format is table, csv, xlsx or json.")
    if fmt == "xlsx" and output is None:
        raise typer.BadParameter("--format xlsx needs -o FILE.")

    def day(text: Optional[str], tz, shift: int = 0):
        """The start of a day on the community's clock (``shift=1``: of the day after, for --to)."""
        first = parse_day(text)
        return None if first is None else datetime.combine(first + timedelta(days=shift), time(), tz)

    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        report = community_report(session, actor, o.id, name, since=day(start, o.tz), until=day(end, o.tz, 1),
                                  months=months, limit=limit)
    if fmt == "json":
        print_json(report.as_dicts())
    elif fmt == "table":
        print_table(report.title, report.columns, report.rows)
    elif fmt == "xlsx":
        write_xlsx(output, report.columns, report.rows, title=report.name)
        err(f"Wrote {len(report.rows)} rows to {output}.")
    elif output is None:
        write_csv(sys.stdout, report.columns, report.rows)
    else:
        with output.open("w", newline="", encoding="utf-8") as fh:
            write_csv(fh, report.columns, report.rows)
        err(f"Wrote {len(report.rows)} rows to {output}.")
