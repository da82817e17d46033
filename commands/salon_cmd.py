"""`ofisi services …`, `ofisi bookings …` and `ofisi salon …`: a salon's menu, its
appointments from booking to payment, its hours, blocks, holidays, settings,
forms, leads, tasks and timelines.

Times on the command line are the salon's wall clock unless they carry an
offset (``2026-03-03T10:00`` or ``2026-03-03T10:00+03:00``); a time the clocks
skip is refused with the reason, and one that happens twice (the fall-back
hour) must carry its offset. Output shows times in the salon's time zone,
with the offset in the hour that happens twice. A booking the rules refuse
exits 1 with one line naming what is in the way and the next free slots.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, time
from typing import Optional

import typer

from commands.common import err, org_id_for, print_json, print_table, unit_of_work
from core.money import format_money

services_app = typer.Typer(help="A salon's services: what it sells, how long it takes, what it costs.",
                           no_args_is_help=True)
bookings_app = typer.Typer(help="A salon's appointments: free slots, booking, moving, cancelling.",
                           no_args_is_help=True)

ORG = typer.Option(..., "--org", help="Salon slug.")
JSON = typer.Option(False, "--json", help="Print the data as JSON on stdout.")
PRO = typer.Option(..., "--pro", help="The professional's login email.")
SERVICE = typer.Option(..., "--service", help="The service's name.")


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date and time; write it like 2026-03-03T10:00.") from None


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date; write it like 2026-03-03.") from None


def _in_salon_time(moment: datetime, timezone: str) -> datetime:
    """A time without an offset is the salon's wall clock (refused in a gap, or when it happens twice)."""
    from zoneinfo import ZoneInfo

    from core.salon.common import wall_clock

    return wall_clock(moment, ZoneInfo(timezone))


def _label(moment: datetime) -> str:
    """``Tue 3 Mar 10:00`` of an aware time in the salon's zone (``01:30 (+01:00)`` in the hour that repeats)."""
    from core.salon.common import when

    return when(moment, moment.tzinfo)


def _clock(moment: datetime) -> str:
    from core.salon.common import clock

    return clock(moment, moment.tzinfo)


def _closures(session, actor, salon, day: date, professional_id: Optional[int] = None) -> list[str]:
    """``Wed 4 Mar: the salon is closed (Madaraka Day).``: the holidays, closures and other hours on ``day``
    (for one professional: hers and the salon's), for staff reading a day's list or its free slots."""
    from core.salon.common import list_professionals
    from core.salon.schedule import list_date_exceptions

    rows = [r for r in list_date_exceptions(session, actor, salon.id, day, day)
            if professional_id is None or r.professional_id in (None, professional_id)]
    names = {p.id: p.name for p in list_professionals(session, actor, salon.id)} if rows else {}
    lines = []
    for r in rows:
        who = "the salon" if r.professional_id is None else names.get(r.professional_id, f"#{r.professional_id}")
        hours = "is closed" if r.hours is None else f"is open {r.hours[0]:%H:%M}-{r.hours[1]:%H:%M} only"
        lines.append(f"{day:%a} {day.day} {day:%b}: {who} {hours}" + (f" ({r.note})." if r.note else "."))
    return lines


def _resolve(session, actor, org: str, pro: str, service: str):
    """The salon, the professional (by login email) and the active service (by name) a command names."""
    from core.salon.common import find_professional
    from core.salon.services import find_service

    salon = org_id_for(session, actor, org)
    return salon, find_professional(session, actor, salon.id, pro), find_service(session, actor, salon.id, service)


@services_app.command("add")
def services_add(
    org: str = ORG,
    name: str = typer.Option(..., "--name", help="What clients ask for, like 'Box braids'."),
    minutes: int = typer.Option(..., "--minutes", min=1, help="How long the service takes."),
    price: str = typer.Option(..., "--price", help="In the salon's currency, like 1500 or 1,500.50."),
    category: str = typer.Option("", "--category", help="A heading for the menu, like 'Hair'."),
    buffer_before: int = typer.Option(0, "--buffer-before", min=0, help="Minutes to prepare before."),
    buffer_after: int = typer.Option(0, "--buffer-after", min=0, help="Minutes to clear up after."),
) -> None:
    """Add a service to a salon's menu."""
    from core.salon.services import add_service

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        service = add_service(session, actor, salon.id, name=name, minutes=minutes, price=price, category=category,
                              buffer_before=buffer_before, buffer_after=buffer_after)
    err(f"Added {service.name} to {salon.name}: {service.minutes} min, {service.price}.")


@services_app.command("list")
def services_list(org: str = ORG, as_json: bool = JSON) -> None:
    """List a salon's active services."""
    from core.salon.services import list_services

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        services = list_services(session, actor, salon.id)
    if as_json:
        print_json([{**asdict(s), "price": s.price} for s in services])
        return
    if not services:
        err(f"{salon.name} has no services yet: `ofisi services add --org {salon.slug} --name NAME "
            "--minutes N --price AMOUNT`.")
        return
    print_table(None, ["service", "category", "minutes", "buffers", "price"],
                [[s.name, s.category, s.minutes, f"{s.buffer_before}+{s.buffer_after}", s.price] for s in services])


@bookings_app.command("slots")
def bookings_slots(
    org: str = ORG,
    pro: str = PRO,
    service: str = SERVICE,
    day: str = typer.Option(..., "--date", help="YYYY-MM-DD, the salon's calendar."),
    staff: bool = typer.Option(False, "--staff", help="As staff book (no notice or horizon), not as clients do."),
    as_json: bool = JSON,
) -> None:
    """The free starts for a service with a professional on one date (as a client may book them)."""
    from datetime import timedelta

    from core.salon.availability import free_slots_on

    from zoneinfo import ZoneInfo

    wanted = _day(day)
    with unit_of_work() as (session, actor):
        salon, professional, offered = _resolve(session, actor, org, pro, service)
        slots = free_slots_on(session, actor, salon.id, professional.id, offered.id, wanted, client=not staff)
        closures = _closures(session, actor, salon, wanted, professional.id)
    length, utc = timedelta(minutes=offered.minutes), ZoneInfo("UTC")
    if as_json:
        # The end is counted on the UTC line and shown on the salon's clock: across a clock change
        # a one-hour service that starts at 01:30 (+01:00) ends at 01:30 (+00:00).
        print_json([{"start": s, "end": (s.astimezone(utc) + length).astimezone(salon.tz)} for s in slots])
        return
    heading = f"{offered.name} ({offered.minutes} min) with {professional.name} on {wanted:%a} {wanted.day} " \
              f"{wanted:%b %Y}, {salon.timezone}"
    for line in closures:
        err(line)
    if not slots:
        err(f"No free time for {heading}.")
        return
    err(f"Free for {heading}:")
    typer.echo(" ".join(_clock(s) for s in slots))


@bookings_app.command("add")
def bookings_add(
    org: str = ORG,
    pro: str = PRO,
    service: str = SERVICE,
    client: str = typer.Option(..., "--client", help="The client's phone number."),
    client_name: str = typer.Option("", "--client-name", help="The client's name, for a new client."),
    at: Optional[str] = typer.Option(None, "--at", help="Start, like 2026-03-03T10:00 (the salon's time unless an "
                                                        "offset is given); a walk-in without it starts now."),
    walk_in: bool = typer.Option(False, "--walk-in", help="The client is here: now or up to an hour back; "
                                                          "checked in at once."),
    notes: str = typer.Option("", "--notes"),
    as_json: bool = JSON,
) -> None:
    """Book a client (a new one is added only if the booking is made); refused (exit 1) with what is
    in the way and the next free slots."""
    from core.salon.bookings import book
    from db.types import utcnow

    if at is None and not walk_in:
        raise typer.BadParameter("say when with --at (or --walk-in for now).")
    start = _moment(at) if at else None
    with unit_of_work() as (session, actor):
        salon, professional, offered = _resolve(session, actor, org, pro, service)
        appointment = book(session, actor, salon.id, professional_id=professional.id, service_id=offered.id,
                           client_phone=client, client_name=client_name, walk_in=walk_in, notes=notes,
                           start=_in_salon_time(start, salon.timezone) if start else utcnow())
    if as_json:
        print_json(appointment)
    err(f"Booked #{appointment.id}{' (walk-in, checked in)' if walk_in else ''}: {appointment.service_name} for "
        f"{appointment.client_name} with {appointment.professional_name}, {_label(appointment.starts_at)}–"
        f"{_clock(appointment.ends_at)}, {appointment.price}.")


@bookings_app.command("list")
def bookings_list(
    org: str = ORG,
    day: Optional[str] = typer.Option(None, "--date", help="One date (YYYY-MM-DD); without it, from today on."),
    pro: Optional[str] = typer.Option(None, "--pro", help="Only this professional's (login email)."),
    limit: int = typer.Option(200, "--limit", min=1, help="At most this many."),
    as_json: bool = JSON,
) -> None:
    """List appointments of one date, or from today on, by time."""
    from core.salon.bookings import appointments_on, list_appointments
    from core.salon.common import find_professional
    from core.salon.schedule import local_instant
    from db.types import utcnow

    wanted = _day(day) if day else None
    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        only = {"professional_id": find_professional(session, actor, salon.id, pro).id} if pro else {}
        if wanted is not None:
            rows = appointments_on(session, actor, salon.id, wanted, limit=limit, **only)
            closures = _closures(session, actor, salon, wanted, only.get("professional_id"))
        else:
            today = utcnow().astimezone(salon.tz).date()
            rows = list_appointments(session, actor, salon.id, start=local_instant(today, 0, salon.tz), limit=limit,
                                     **only)
    if as_json:
        print_json(rows)
        return
    for line in closures if wanted is not None else ():
        err(line)
    if not rows:
        err("No appointments" + (f" on {wanted.isoformat()}." if wanted else " from today on."))
        return
    print_table(None, ["#", "when", "professional", "service", "client", "status", "price", "paid"],
                [[a.id, f"{_label(a.starts_at)}–{_clock(a.ends_at)}", a.professional_name, a.service_name,
                  a.client_name or "", a.state + (" (walk-in)" if a.walk_in else ""), a.price,
                  format_money(a.paid_minor, a.currency) if a.paid_minor else ""] for a in rows])


@bookings_app.command("show")
def bookings_show(
    appointment_id: int = typer.Argument(..., help="The appointment's number."),
    org: str = ORG,
    as_json: bool = JSON,
) -> None:
    """One appointment and everything that happened to it: booked, moved, confirmed, closed, paid."""
    from core.salon.bookings import appointment_history, get_appointment

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        appointment = get_appointment(session, actor, salon.id, appointment_id)
        history = appointment_history(session, actor, salon.id, appointment_id)
    if as_json:
        print_json({"appointment": appointment, "history": history})
        return
    a = appointment
    print_table(None, ["", ""], [
        ["appointment", f"#{a.id}"], ["when", f"{_label(a.starts_at)}–{_clock(a.ends_at)}"],
        ["client", f"{a.client_name or ''} {a.client_phone or ''}".strip()], ["professional", a.professional_name],
        ["service", a.service_name], ["status", a.state + (" (walk-in)" if a.walk_in else "")],
        ["price", a.price], ["paid", format_money(a.paid_minor, a.currency)], ["notes", a.notes],
        ["cancelled because", a.cancel_reason or ""]])
    tz = salon.tz
    print_table("History", ["when", "what", "by", "detail"], [
        [_label(e.at.astimezone(tz)), e.kind, e.actor,
         " ".join(x for x in (f"{_label(e.from_start.astimezone(tz))} → {_label(e.to_start.astimezone(tz))}"
                              if e.from_start and e.to_start else "", e.reason or "") if x)]
        for e in history])


@bookings_app.command("cancel")
def bookings_cancel(
    appointment_id: int = typer.Argument(..., help="The appointment's number."),
    org: str = ORG,
    reason: str = typer.Option(..., "--reason", help="Why, for the history (the client is told it is cancelled)."),
) -> None:
    """Cancel an appointment; its reminders are withdrawn and the client is told."""
    from core.salon.bookings import cancel

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        appointment = cancel(session, actor, salon.id, appointment_id, reason=reason)
    err(f"Cancelled #{appointment.id}: {appointment.service_name} for {appointment.client_name}, "
        f"{_label(appointment.starts_at)}.")


@bookings_app.command("reschedule")
def bookings_reschedule(
    appointment_id: int = typer.Argument(..., help="The appointment's number."),
    org: str = ORG,
    at: str = typer.Option(..., "--at", help="New start, like 2026-03-04T11:00."),
    pro: Optional[str] = typer.Option(None, "--pro", help="Move to this professional (login email)."),
    reason: str = typer.Option("", "--reason"),
) -> None:
    """Move an appointment; refused (exit 1) like a new booking when the time is taken."""
    from core.salon.bookings import reschedule
    from core.salon.common import find_professional

    start = _moment(at)
    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        professional_id = find_professional(session, actor, salon.id, pro).id if pro else None
        appointment = reschedule(session, actor, salon.id, appointment_id, professional_id=professional_id,
                                 start=_in_salon_time(start, salon.timezone), reason=reason)
    err(f"Moved #{appointment.id} to {_label(appointment.starts_at)}–{_clock(appointment.ends_at)} with "
        f"{appointment.professional_name}.")


# ---------------------------------------------------------------- ofisi salon hours|block|forms|leads

salon_app = typer.Typer(help="A salon's diary settings, lead forms and leads.", no_args_is_help=True)
hours_app = typer.Typer(help="A professional's usual week.", no_args_is_help=True)
block_app = typer.Typer(help="Time a professional cannot be booked: leave, training.", no_args_is_help=True)
forms_app = typer.Typer(help="Public lead forms on `ofisi serve`: the page at GET /forms/SLUG posts to POST /forms/SLUG.",
                         no_args_is_help=True)
leads_app = typer.Typer(help="Leads: who may become a client, with score and follow-up.", no_args_is_help=True)
salon_app.add_typer(hours_app, name="hours")
salon_app.add_typer(block_app, name="block")
salon_app.add_typer(forms_app, name="forms")
salon_app.add_typer(leads_app, name="leads")

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _days(text: str) -> list[int]:
    """``mon-sat``, ``mon,wed,fri`` or ``sun`` as weekday numbers (0 Monday)."""
    days: list[int] = []
    for part in text.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise typer.BadParameter(f"{part!r} is not a day or a range of days; write mon-sat or mon,wed,fri.")
        a, b = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        days += list(range(a, b + 1)) if a <= b else [*range(a, 7), *range(0, b + 1)]
    return sorted(set(days))


def _stretch(text: str) -> tuple[time, time]:
    try:
        start, end = (time.fromisoformat(t.strip()) for t in text.split("-"))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a stretch of time; write it like 09:00-18:00.") from None
    return start, end


@hours_app.command("set")
def hours_set(
    org: str = ORG,
    pro: str = PRO,
    days: str = typer.Option(..., "--days", help="Which days: sat, mon-fri, or mon,wed,fri."),
    hours: str = typer.Option("09:00-18:00", "--hours", help="Working time on those days, like 09:00-18:00."),
    breaks: list[str] = typer.Option([], "--break", help="A break on those days, like 13:00-14:00 (repeatable)."),
    closed: bool = typer.Option(False, "--closed", help="Those days are days off."),
    whole_week: bool = typer.Option(False, "--whole-week", help="Replace the week: the days not given are off."),
) -> None:
    """Set a professional's hours on the days given; the other days keep theirs (unless --whole-week)."""
    from core.salon.common import find_professional
    from core.salon.schedule import WEEKDAYS, set_weekly_hours

    chosen, stretch, pauses = _days(days), _stretch(hours), [_stretch(b) for b in breaks]
    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        professional = find_professional(session, actor, salon.id, pro)
        set_weekly_hours(session, actor, salon.id, professional.id,
                         work={d: [] if closed else [stretch] for d in chosen},
                         breaks={d: pauses for d in chosen} if pauses and not closed else None,
                         only_these_days=not whole_week)
    named = ", ".join(WEEKDAYS[d] for d in chosen)
    err(f"{professional.name} is off on {named}." if closed else
        f"{professional.name} works {named} {hours}" + (f", breaks {', '.join(breaks)}" if breaks else "") + ".")


@hours_app.command("show")
def hours_show(org: str = ORG, pro: str = PRO, as_json: bool = JSON) -> None:
    """A professional's usual week."""
    from core.salon.common import find_professional
    from core.salon.schedule import WEEKDAYS, weekly_hours

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        week = weekly_hours(session, actor, salon.id, find_professional(session, actor, salon.id, pro).id)
    if as_json:
        print_json(week)
        return

    def shown(stretches) -> str:
        return ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in stretches)

    print_table(None, ["day", "works", "breaks"],
                [[WEEKDAYS[d], shown(week.work.get(d, [])) or "closed", shown(week.breaks.get(d, []))]
                 for d in range(7)])


@block_app.command("add")
def block_add(
    org: str = ORG,
    pro: str = PRO,
    start: str = typer.Option(..., "--from", help="Start, like 2026-03-03T09:00 (the salon's time)."),
    end: str = typer.Option(..., "--to", help="End, like 2026-03-05T18:00."),
    reason: str = typer.Option("leave", "--reason", help="leave, training or other."),
    note: str = typer.Option("", "--note", help="A word for the others."),
    booked: str = typer.Option("refuse", "--booked", help="Appointments already booked then: refuse (list them), "
                                                        "keep (move them by hand) or cancel (clients told)."),
) -> None:
    """Keep a professional free of bookings for a while."""
    from core.salon.common import find_professional
    from core.salon.schedule import add_time_block

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        professional = find_professional(session, actor, salon.id, pro)
        block = add_time_block(session, actor, salon.id, professional.id,
                               start=_in_salon_time(_moment(start), salon.timezone),
                               end=_in_salon_time(_moment(end), salon.timezone), reason=reason, note=note,
                               booked=booked)
    tz = salon.tz
    err(f"{professional.name} cannot be booked from {_label(block.starts_at.astimezone(tz))} "
        f"to {_label(block.ends_at.astimezone(tz))} ({block.reason}).")


@forms_app.command("add")
def forms_add(
    org: str = ORG,
    slug: str = typer.Option(..., "--slug", help="The form's address: POST /forms/SLUG."),
    title: str = typer.Option("", "--title", help="What the form is called."),
    fields: list[str] = typer.Option([], "--field", help="A field of the form's own, like hair_length "
                                                         "(end it with ! if required; repeatable)."),
    required: str = typer.Option("name,phone", "--require", help="Standard fields the form insists on."),
    per_ip: int = typer.Option(20, "--max-per-ip-hour", min=1, help="Submissions an hour from one address."),
    per_phone: int = typer.Option(3, "--max-per-phone-hour", min=1, help="Submissions an hour for one phone."),
) -> None:
    """Open a public lead form."""
    from core.salon.forms import create_form

    own = [{"name": f.rstrip("!"), "required": f.endswith("!")} for f in fields]
    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        form = create_form(session, actor, salon.id, slug=slug, title=title or slug, fields=own,
                           required=tuple(r.strip() for r in required.split(",") if r.strip()),
                           max_per_ip_hour=per_ip, max_per_phone_hour=per_phone)
    err(f"The form {form.title} takes submissions at POST /forms/{form.slug}; its page is GET /forms/{form.slug}.")


@leads_app.command("list")
def leads_list(
    org: str = ORG,
    status: Optional[str] = typer.Option(None, "--status", help="new, contacted, qualified, converted or lost."),
    as_json: bool = JSON,
) -> None:
    """The newest leads with score, temperature and status."""
    from core.salon.leads import list_leads

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        leads = list_leads(session, actor, salon.id, status=status)
    if as_json:
        print_json(leads)
        return
    print_table(None, ["#", "name", "phone", "score", "status", "source", "wants"],
                [[v.id, v.name, v.phone, f"{v.score} {v.temperature}", v.status, v.source, v.service_wanted]
                 for v in leads])


# ---------------------------------------------------------------- the menu: edit, retire, restore

def _service_changes(name, minutes, price, category, buffer_before, buffer_after, deposit) -> dict:
    given = {"name": name, "minutes": minutes, "price": price, "category": category, "buffer_before": buffer_before,
             "buffer_after": buffer_after, "deposit": deposit}
    return {k: v for k, v in given.items() if v is not None}


@services_app.command("edit")
def services_edit(
    service: str = typer.Argument(..., help="The service's name (a retired one too)."),
    org: str = ORG,
    name: Optional[str] = typer.Option(None, "--name", help="A new name."),
    minutes: Optional[int] = typer.Option(None, "--minutes", min=1),
    price: Optional[str] = typer.Option(None, "--price", help="The new price; booked appointments keep theirs."),
    category: Optional[str] = typer.Option(None, "--category"),
    buffer_before: Optional[int] = typer.Option(None, "--buffer-before", min=0),
    buffer_after: Optional[int] = typer.Option(None, "--buffer-after", min=0),
    deposit: Optional[str] = typer.Option(None, "--deposit", help="Asked by M-Pesa of clients booking by SMS or a "
                                                                  "form (0: none)."),
) -> None:
    """Change a service; appointments already booked keep their price (the audit log keeps the old one)."""
    from core.salon.services import find_service, update_service

    changes = _service_changes(name, minutes, price, category, buffer_before, buffer_after, deposit)
    if not changes:
        raise typer.BadParameter("say what changes: --name, --minutes, --price, --category, --buffer-*, --deposit.")
    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        found = find_service(session, actor, salon.id, service, include_retired=True)
        changed = update_service(session, actor, salon.id, found.id, **changes)
    err(f"{changed.name}: {changed.minutes} min, {changed.price}"
        + (f", deposit {changed.deposit}" if changed.deposit_minor else "") + ".")


def _set_active(org: str, service: str, active: bool) -> None:
    from core.salon.services import find_service, update_service

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        found = find_service(session, actor, salon.id, service, include_retired=True)
        changed = update_service(session, actor, salon.id, found.id, active=active)
    err(f"{changed.name} is {'offered again' if active else 'retired: no new bookings; its history stays'}.")


@services_app.command("retire")
def services_retire(service: str = typer.Argument(..., help="The service's name."), org: str = ORG) -> None:
    """Stop offering a service; what was booked stays in the books."""
    _set_active(org, service, False)


@services_app.command("restore")
def services_restore(service: str = typer.Argument(..., help="The service's name."), org: str = ORG) -> None:
    """Offer a retired service again."""
    _set_active(org, service, True)


# ---------------------------------------------------------------- closing the visit

APPOINTMENT = typer.Argument(..., help="The appointment's number.")


def _done(appointment) -> None:
    paid = format_money(appointment.paid_minor, appointment.currency)
    owed = f", {format_money(appointment.owed_minor, appointment.currency)} owing" if appointment.owed_minor else ""
    err(f"#{appointment.id} {appointment.client_name or ''}: {appointment.state}, paid {paid}{owed}.")


@bookings_app.command("checkin")
def bookings_checkin(appointment_id: int = APPOINTMENT, org: str = ORG) -> None:
    """The client has arrived."""
    from core.salon.bookings import check_in

    with unit_of_work() as (session, actor):
        appointment = check_in(session, actor, org_id_for(session, actor, org).id, appointment_id)
    _done(appointment)


@bookings_app.command("complete")
def bookings_complete(
    appointment_id: int = APPOINTMENT,
    org: str = ORG,
    method: str = typer.Option("cash", "--method", help="How the balance was paid: cash, mpesa or card."),
    price: Optional[str] = typer.Option(None, "--price", help="The price, if not the booked one."),
    discount: Optional[str] = typer.Option(None, "--discount"),
    tip: Optional[str] = typer.Option(None, "--tip"),
    reference: Optional[str] = typer.Option(None, "--reference", help="The M-Pesa code or card slip."),
    as_json: bool = JSON,
) -> None:
    """The visit is done and paid: price less discount plus tip, less the deposit already paid."""
    from core.salon.bookings import complete

    with unit_of_work() as (session, actor):
        appointment = complete(session, actor, org_id_for(session, actor, org).id, appointment_id, price=price,
                               discount=discount, tip=tip, method=method, reference=reference)
    if as_json:
        print_json(appointment)
    _done(appointment)


@bookings_app.command("no-show")
def bookings_no_show(
    appointment_id: int = APPOINTMENT,
    org: str = ORG,
    method: Optional[str] = typer.Option(None, "--method", help="The no-show fee was paid now: cash, mpesa or card."),
    reference: Optional[str] = typer.Option(None, "--reference"),
) -> None:
    """The client did not come: the salon's no-show fee is charged (a paid deposit kept toward it)."""
    from core.salon.bookings import mark_no_show

    with unit_of_work() as (session, actor):
        appointment = mark_no_show(session, actor, org_id_for(session, actor, org).id, appointment_id,
                                   method=method, reference=reference)
    _done(appointment)


@bookings_app.command("pay")
def bookings_pay(
    appointment_id: int = APPOINTMENT,
    org: str = ORG,
    amount: str = typer.Option(..., "--amount"),
    method: str = typer.Option(..., "--method", help="cash, mpesa or card."),
    reference: Optional[str] = typer.Option(None, "--reference"),
) -> None:
    """Money paid later on a closed appointment (a no-show's fee)."""
    from core.salon.bookings import take_payment

    with unit_of_work() as (session, actor):
        appointment = take_payment(session, actor, org_id_for(session, actor, org).id, appointment_id,
                                   amount=amount, method=method, reference=reference)
    _done(appointment)


@bookings_app.command("confirm")
def bookings_confirm(appointment_id: int = APPOINTMENT, org: str = ORG) -> None:
    """Confirm a booking a client asked for by SMS or a form; the client is told."""
    from core.salon.bookings import confirm

    with unit_of_work() as (session, actor):
        appointment = confirm(session, actor, org_id_for(session, actor, org).id, appointment_id)
    _done(appointment)


@bookings_app.command("ics")
def bookings_ics(
    org: str = ORG,
    pro: str = PRO,
    output: Optional[str] = typer.Option(None, "-o", "--output", help="The .ics file (stdout without)."),
    days: int = typer.Option(60, "--days", min=1, max=366, help="How many days ahead."),
) -> None:
    """A professional's calendar as an iCalendar file, for her phone's calendar."""
    import sys

    from core.salon.common import find_professional
    from core.salon.ics import professional_calendar

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        professional = find_professional(session, actor, salon.id, pro)
        data = professional_calendar(session, actor, salon.id, professional.id, days=days)
    if output:
        with open(output, "wb") as fh:
            fh.write(data)
        err(f"Wrote {professional.name}'s calendar to {output}.")
    else:
        sys.stdout.buffer.write(data)


# ---------------------------------------------------------------- salon: settings, staff, holidays, blocks

settings_app = typer.Typer(help="Booking rules: notice, horizon, slots, reminders, deposits, no-show fee.",
                           no_args_is_help=True)
staff_app = typer.Typer(help="Staff preferences: who takes clients, who is texted of which bookings.",
                        no_args_is_help=True)
holiday_app = typer.Typer(help="Dates the salon (or one professional) is closed or keeps other hours.",
                          no_args_is_help=True)
tasks_app = typer.Typer(help="Follow-up tasks: today, overdue, upcoming; who does them.", no_args_is_help=True)
clients_app = typer.Typer(help="Clients: their record and notes.", no_args_is_help=True)
salon_app.add_typer(settings_app, name="settings")
salon_app.add_typer(staff_app, name="staff")
salon_app.add_typer(holiday_app, name="holiday")
salon_app.add_typer(tasks_app, name="tasks")
salon_app.add_typer(clients_app, name="clients")


def _yes_no(text: Optional[str], what: str) -> Optional[bool]:
    if text is None:
        return None
    if text.lower() in ("yes", "y", "true", "on"):
        return True
    if text.lower() in ("no", "n", "false", "off"):
        return False
    raise typer.BadParameter(f"{what} is yes or no.")


@settings_app.command("show")
def settings_show(org: str = ORG, as_json: bool = JSON) -> None:
    """The booking rules in force."""
    from core.salon.settings import booking_settings

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        rules = booking_settings(session, actor, salon.id)
    if as_json:
        print_json(rules)
        return
    print_table(None, ["setting", "value"], [
        ["minimum notice (clients)", f"{rules.min_notice_minutes} min"],
        ["booking horizon (clients)", f"{rules.max_advance_days} days"],
        ["slot step", f"{rules.slot_step_minutes} min"],
        ["reminders before", ", ".join(f"{m} min" for m in rules.reminder_minutes) or "none"],
        ["deposit hold", f"{rules.deposit_hold_minutes} min"],
        ["no-show fee", format_money(rules.no_show_fee_minor, salon.currency)],
        ["deposit on a no-show", "kept" if rules.keep_deposit_on_no_show else "returned"],
        ["form websites (CORS)", ", ".join(rules.form_origins) or "none"],
    ])


@settings_app.command("set")
def settings_set(
    org: str = ORG,
    notice: Optional[int] = typer.Option(None, "--notice", help="Minutes' notice a client must give."),
    advance: Optional[int] = typer.Option(None, "--advance", help="Days ahead a client may book."),
    step: Optional[int] = typer.Option(None, "--step", help="Slot step in minutes (5, 10, 15, 20, 30, 60)."),
    reminders: Optional[str] = typer.Option(None, "--reminders", help="Minutes before, like 1440,120 ('' for none)."),
    hold: Optional[int] = typer.Option(None, "--deposit-hold", help="Minutes a booking waits for its deposit."),
    fee: Optional[str] = typer.Option(None, "--no-show-fee", help="Charged on a no-show (0 for none)."),
    keep: Optional[str] = typer.Option(None, "--keep-deposit", help="yes: a no-show's deposit is kept; no: returned."),
    origins: Optional[str] = typer.Option(None, "--form-origins", help="The salon's websites that post its forms, "
                                                                      "comma-separated ('' for none)."),
) -> None:
    """Change some booking rules; the others stay."""
    from core.salon.settings import update_booking_settings

    def numbers(text: str) -> list[int]:
        try:
            return [int(p) for p in text.split(",") if p.strip()]
        except ValueError:
            raise typer.BadParameter(f"{text!r}: write minutes like 1440,120.") from None

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        update_booking_settings(
            session, actor, salon.id, min_notice_minutes=notice, max_advance_days=advance, slot_step_minutes=step,
            reminder_minutes=numbers(reminders) if reminders is not None else None, deposit_hold_minutes=hold,
            no_show_fee=fee, keep_deposit_on_no_show=_yes_no(keep, "--keep-deposit"),
            form_origins=[o for o in origins.split(",") if o.strip()] if origins is not None else None)
    err(f"Saved {salon.name}'s booking rules.")


@staff_app.command("list")
def staff_list(org: str = ORG, as_json: bool = JSON) -> None:
    """Staff with whether they take clients and which bookings they are texted of."""
    from core.salon.settings import list_staff_settings

    with unit_of_work() as (session, actor):
        staff = list_staff_settings(session, actor, org_id_for(session, actor, org).id)
    if as_json:
        print_json(staff)
        return
    print_table(None, ["name", "role", "phone", "takes clients", "texted of"],
                [[s.name, s.role, s.phone or "", "yes" if s.bookable else "no", ", ".join(s.notify_on) or "nothing"]
                 for s in staff])


@staff_app.command("set")
def staff_set(
    org: str = ORG,
    pro: str = typer.Option(..., "--pro", help="The staff member's login email."),
    bookable: Optional[str] = typer.Option(None, "--bookable", help="yes: an owner also takes clients."),
    notify: Optional[str] = typer.Option(None, "--notify", help="booked,moved,cancelled ('' for nothing)."),
) -> None:
    """A staff member's preferences."""
    from core.salon.common import find_staff
    from core.salon.settings import update_staff_settings

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        person = find_staff(session, actor, salon.id, pro)
        saved = update_staff_settings(
            session, actor, salon.id, person.id, bookable=_yes_no(bookable, "--bookable"),
            notify=[k.strip() for k in notify.split(",") if k.strip()] if notify is not None else None)
    err(f"{saved.name}: {'takes' if saved.bookable else 'does not take'} clients; texted of "
        f"{', '.join(saved.notify_on) or 'nothing'}.")


@holiday_app.command("add")
def holiday_add(
    org: str = ORG,
    day: str = typer.Option(..., "--date", help="YYYY-MM-DD."),
    hours: Optional[str] = typer.Option(None, "--hours", help="Open these hours that day, like 10:00-14:00; "
                                                            "without it, closed."),
    pro: Optional[str] = typer.Option(None, "--pro", help="Only this professional (login email)."),
    note: str = typer.Option("", "--note", help="Like 'Madaraka Day'."),
    booked: str = typer.Option("refuse", "--booked", help="Appointments already booked then: refuse (list them), "
                                                        "keep (move them by hand) or cancel (clients told)."),
) -> None:
    """A holiday or closure (or other hours) on one date, for the salon or one professional."""
    from core.salon.common import find_professional
    from core.salon.schedule import set_date_exception

    wanted, stretch = _day(day), _stretch(hours) if hours else None
    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        who = find_professional(session, actor, salon.id, pro) if pro else None
        set_date_exception(session, actor, salon.id, wanted, hours=stretch, professional_id=who and who.id,
                           note=note, booked=booked)
    err(f"{wanted:%a} {wanted.day} {wanted:%b %Y}, {who.name if who else salon.name}: "
        + (f"open {hours} only." if hours else "closed."))


@holiday_app.command("list")
def holiday_list(
    org: str = ORG,
    start: Optional[str] = typer.Option(None, "--from", help="First date (default today)."),
    days: int = typer.Option(365, "--days", min=1),
    as_json: bool = JSON,
) -> None:
    """Holidays, closures and other hours from a date on."""
    from datetime import timedelta

    from core.salon.common import list_professionals
    from core.salon.schedule import list_date_exceptions
    from db.types import utcnow

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        first = _day(start) if start else utcnow().astimezone(salon.tz).date()
        rows = list_date_exceptions(session, actor, salon.id, first, first + timedelta(days=days))
        names = {p.id: p.name for p in list_professionals(session, actor, salon.id)}
    if as_json:
        print_json(rows)
        return
    print_table(None, ["date", "who", "hours", "note"],
                [[r.day.isoformat(), "the salon" if r.professional_id is None
                  else names.get(r.professional_id, f"#{r.professional_id}"),
                  "closed" if r.hours is None else f"{r.hours[0]:%H:%M}-{r.hours[1]:%H:%M}", r.note] for r in rows])


@holiday_app.command("remove")
def holiday_remove(
    org: str = ORG,
    day: str = typer.Option(..., "--date"),
    pro: Optional[str] = typer.Option(None, "--pro", help="The professional's own date, not the salon's."),
) -> None:
    """Back to the usual week on that date."""
    from core.salon.common import find_professional
    from core.salon.schedule import clear_date_exception

    wanted = _day(day)
    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        who = find_professional(session, actor, salon.id, pro).id if pro else None
        clear_date_exception(session, actor, salon.id, wanted, professional_id=who)
    err(f"{wanted.isoformat()} keeps the usual hours again.")


@block_app.command("list")
def block_list(
    org: str = ORG,
    pro: Optional[str] = typer.Option(None, "--pro", help="Only this professional's."),
    days: int = typer.Option(90, "--days", min=1, help="From now, this many days ahead."),
    as_json: bool = JSON,
) -> None:
    """Time blocks (leave, training) from now on."""
    from datetime import timedelta

    from core.salon.common import find_professional, list_professionals
    from core.salon.schedule import list_time_blocks
    from db.types import utcnow

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        who = find_professional(session, actor, salon.id, pro).id if pro else None
        names = {p.id: p.name for p in list_professionals(session, actor, salon.id)}
        now = utcnow()
        blocks = list_time_blocks(session, actor, salon.id, who, now, now + timedelta(days=days))
    if as_json:
        print_json(blocks)
        return
    print_table(None, ["#", "professional", "from", "to", "reason", "note"],
                [[b.id, names.get(b.professional_id, b.professional_id), _label(b.starts_at.astimezone(salon.tz)),
                  _label(b.ends_at.astimezone(salon.tz)), b.reason, b.note] for b in blocks])


@block_app.command("remove")
def block_remove(block_id: int = typer.Argument(..., help="The block's number (block list)."),
                 org: str = ORG) -> None:
    """Remove a time block: the time can be booked again."""
    from core.salon.schedule import remove_time_block

    with unit_of_work() as (session, actor):
        remove_time_block(session, actor, org_id_for(session, actor, org).id, block_id)
    err(f"Removed block #{block_id}.")


# ---------------------------------------------------------------- forms

@forms_app.command("list")
def forms_list(org: str = ORG, as_json: bool = JSON) -> None:
    """The salon's lead forms, open and closed."""
    from core.salon.forms import list_forms

    with unit_of_work() as (session, actor):
        forms = list_forms(session, actor, org_id_for(session, actor, org).id)
    if as_json:
        print_json(forms)
        return
    print_table(None, ["slug", "title", "open", "requires", "own fields", "per ip/phone an hour"],
                [[f.slug, f.title, "yes" if f.active else "closed", ", ".join(f.required),
                  ", ".join(x["name"] + ("!" if x["required"] else "") for x in f.fields),
                  f"{f.max_per_ip_hour}/{f.max_per_phone_hour}"] for f in forms])


@forms_app.command("edit")
def forms_edit(
    slug: str = typer.Argument(..., help="The form's slug."),
    org: str = ORG,
    title: Optional[str] = typer.Option(None, "--title"),
    fields: Optional[list[str]] = typer.Option(None, "--field", help="Replaces the form's own fields (repeatable)."),
    required: Optional[str] = typer.Option(None, "--require"),
    per_ip: Optional[int] = typer.Option(None, "--max-per-ip-hour", min=1),
    per_phone: Optional[int] = typer.Option(None, "--max-per-phone-hour", min=1),
) -> None:
    """Change a form."""
    _form_update(org, slug, title=title, required=tuple(r.strip() for r in required.split(",") if r.strip())
                 if required is not None else None,
                 fields=[{"name": f.rstrip("!"), "required": f.endswith("!")} for f in fields] if fields else None,
                 max_per_ip_hour=per_ip, max_per_phone_hour=per_phone)


@forms_app.command("close")
def forms_close(slug: str = typer.Argument(...), org: str = ORG) -> None:
    """Close a form: its address answers 404 until it is opened again."""
    _form_update(org, slug, active=False)


@forms_app.command("open")
def forms_open(slug: str = typer.Argument(...), org: str = ORG) -> None:
    """Open a closed form again."""
    _form_update(org, slug, active=True)


def _form_update(org: str, slug: str, **changes) -> None:
    from core.salon.forms import update_form

    with unit_of_work() as (session, actor):
        form = update_form(session, actor, org_id_for(session, actor, org).id, slug, **changes)
    err(f"The form {form.title} at /forms/{form.slug} is {'open' if form.active else 'closed'}.")


# ---------------------------------------------------------------- leads, tasks, clients, timelines

@leads_app.command("show")
def leads_show(lead_id: int = typer.Argument(...), org: str = ORG, as_json: bool = JSON) -> None:
    """A lead with what they asked for and everything done about them (calls, messages, edits, tasks)."""
    from core.salon.leads import get_lead, lead_activities

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        lead = get_lead(session, actor, salon.id, lead_id)
        activities = lead_activities(session, actor, salon.id, lead_id)
    if as_json:
        print_json({"lead": lead, "activities": activities})
        return
    print_table(None, ["", ""], [
        ["lead", f"#{lead.id} {lead.name}"], ["phone", lead.phone], ["email", lead.email or ""],
        ["wants", lead.service_wanted], ["date", lead.preferred_date.isoformat() if lead.preferred_date else ""],
        ["message", lead.message], ["score", f"{lead.score} ({lead.temperature})"],
        ["status", lead.status + (f": {lead.lost_reason}" if lead.lost_reason else "")], ["source", lead.source],
        *([name, value] for name, value in lead.custom.items())])
    print_table("Activity", ["when", "what", "by", "note"],
                [[_label(x.at.astimezone(salon.tz)), x.kind, x.actor, x.note] for x in activities])


@leads_app.command("add")
def leads_add(
    org: str = ORG,
    phone: str = typer.Option(..., "--phone"),
    name: str = typer.Option("", "--name"),
    email: Optional[str] = typer.Option(None, "--email"),
    service: str = typer.Option("", "--service", help="What they want."),
    day: Optional[str] = typer.Option(None, "--date", help="When they would like it (YYYY-MM-DD)."),
    message: str = typer.Option("", "--message"),
) -> None:
    """A lead taken by hand (a call, a walk-past); scored and given a follow-up task."""
    from core.salon.leads import LeadDetails, add_lead

    details = LeadDetails(phone=phone, name=name, email=email, service_wanted=service,
                          preferred_date=_day(day) if day else None, message=message)
    with unit_of_work() as (session, actor):
        lead = add_lead(session, actor, org_id_for(session, actor, org).id, details)
    err(f"Lead #{lead.id} {lead.label}: {lead.score} ({lead.temperature}).")


@leads_app.command("edit")
def leads_edit(
    lead_id: int = typer.Argument(...),
    org: str = ORG,
    name: Optional[str] = typer.Option(None, "--name"),
    email: Optional[str] = typer.Option(None, "--email"),
    service: Optional[str] = typer.Option(None, "--service"),
    day: Optional[str] = typer.Option(None, "--date"),
    message: Optional[str] = typer.Option(None, "--message"),
) -> None:
    """Correct what a lead said; it is scored again."""
    from core.salon.leads import update_lead

    changes = {k: v for k, v in (("name", name), ("email", email), ("service_wanted", service),
                                 ("preferred_date", _day(day) if day else None), ("message", message))
               if v is not None}
    with unit_of_work() as (session, actor):
        lead = update_lead(session, actor, org_id_for(session, actor, org).id, lead_id, **changes)
    err(f"Lead #{lead.id} {lead.label}: {lead.score} ({lead.temperature}).")


@leads_app.command("convert")
def leads_convert(
    lead_id: int = typer.Argument(...),
    org: str = ORG,
    pro: Optional[str] = typer.Option(None, "--pro", help="Book them with this professional…"),
    service: Optional[str] = typer.Option(None, "--service", help="…for this service…"),
    at: Optional[str] = typer.Option(None, "--at", help="…at this time, in the same step."),
) -> None:
    """Make a lead a client, and book their first appointment in the same step (all or nothing)."""
    from core.salon.leads import convert_lead

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        booking = {}
        if pro or service or at:
            if not (pro and service and at):
                raise typer.BadParameter("to book while converting, give --pro, --service and --at.")
            _, professional, offered = _resolve(session, actor, org, pro, service)
            booking = {"professional_id": professional.id, "service_id": offered.id,
                       "start": _in_salon_time(_moment(at), salon.timezone)}
        lead, appointment = convert_lead(session, actor, salon.id, lead_id, **booking)
    err(f"{lead.label} is a client" + (f", booked #{appointment.id} {appointment.service_name} "
                                        f"{_label(appointment.starts_at)}." if appointment else "."))


@tasks_app.command("list")
def tasks_list(
    org: str = ORG,
    due: Optional[str] = typer.Option(None, "--due", help="overdue, today or upcoming."),
    mine: Optional[str] = typer.Option(None, "--for", help="Only this person's (login email)."),
    as_json: bool = JSON,
) -> None:
    """Open follow-up tasks, most urgent first."""
    from core.salon.common import find_staff
    from core.salon.leads import list_tasks

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        who = find_staff(session, actor, salon.id, mine).id if mine else None
        tasks = list_tasks(session, actor, salon.id, due=due, assignee_id=who)
    if as_json:
        print_json(tasks)
        return
    print_table(None, ["#", "due", "task", "lead", "for", "priority"],
                [[t.id, _label(t.due_at.astimezone(salon.tz)), t.title, t.lead_name, t.assignee_name or "anyone",
                  t.priority] for t in tasks])


@tasks_app.command("add")
def tasks_add(
    org: str = ORG,
    title: str = typer.Option(..., "--title"),
    due: str = typer.Option(..., "--due", help="Like 2026-03-03T10:00 (the salon's time)."),
    assignee: Optional[str] = typer.Option(None, "--for", help="Who does it (login email)."),
    lead: Optional[int] = typer.Option(None, "--lead", help="The lead it is about."),
    priority: int = typer.Option(2, "--priority", min=1, max=3),
) -> None:
    """A follow-up task by hand."""
    from core.salon.common import find_staff
    from core.salon.leads import add_task

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        who = find_staff(session, actor, salon.id, assignee).id if assignee else None
        task = add_task(session, actor, salon.id, title=title, due_at=_in_salon_time(_moment(due), salon.timezone),
                        assignee_id=who, lead_id=lead, priority=priority)
    err(f"Task #{task.id} for {task.assignee_name or 'anyone'}, due {_label(task.due_at.astimezone(salon.tz))}.")


@tasks_app.command("assign")
def tasks_assign(
    task_id: int = typer.Argument(...),
    org: str = ORG,
    assignee: Optional[str] = typer.Option(None, "--for", help="Who does it (login email); 'nobody' to unassign."),
    due: Optional[str] = typer.Option(None, "--due", help="A new due time."),
) -> None:
    """Give a task to someone, or move its due time."""
    from core.salon.common import find_staff
    from core.salon.leads import assign_task

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        who = find_staff(session, actor, salon.id, assignee).id if assignee and assignee != "nobody" else None
        task = assign_task(session, actor, salon.id, task_id, assignee_id=who, unassign=assignee == "nobody",
                           due_at=_in_salon_time(_moment(due), salon.timezone) if due else None)
    err(f"Task #{task.id} for {task.assignee_name or 'anyone'}, due {_label(task.due_at.astimezone(salon.tz))}.")


@tasks_app.command("done")
def tasks_done(task_id: int = typer.Argument(...), org: str = ORG) -> None:
    """A task is done."""
    from core.salon.leads import complete_task

    with unit_of_work() as (session, actor):
        task = complete_task(session, actor, org_id_for(session, actor, org).id, task_id)
    err(f"Task #{task.id} done.")


@clients_app.command("list")
def clients_list(
    org: str = ORG,
    limit: int = typer.Option(100, "--limit", min=1, max=1000),
    before: Optional[int] = typer.Option(None, "--before", help="The next page: the last # of the one before."),
    as_json: bool = JSON,
) -> None:
    """Clients, newest first, with visits, spend, last visit, no-shows and what they owe."""
    from core.salon.clients import list_clients

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        clients = list_clients(session, actor, salon.id, before_id=before, limit=limit)
    if as_json:
        print_json(clients)
        return
    if not clients:
        err(f"{salon.name} has no clients" + (" before that one." if before else " yet."))
        return
    print_table(None, ["#", "name", "phone", "visits", "spent", "last visit", "no-shows", "owing"],
                [[c.id, c.name, c.phone, c.visit_count, c.lifetime_spend,
                  _label(c.last_visit_at.astimezone(salon.tz)) if c.last_visit_at else "", c.no_shows,
                  format_money(c.owed_minor, c.currency) if c.owed_minor else ""] for c in clients])


@clients_app.command("show")
def clients_show(phone: str = typer.Argument(...), org: str = ORG, as_json: bool = JSON) -> None:
    """A client's record: visits, spend, last visit, no-shows and what they owe, and the notes."""
    from core.contacts import find_by_phone
    from core.salon.clients import get_client

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        contact = find_by_phone(session, actor, salon.id, phone)
        if contact is None:
            raise typer.BadParameter(f"{phone} is not a client of {salon.name}.")
        record = get_client(session, actor, salon.id, contact.id)
    if as_json:
        print_json({"contact": contact, "record": record})
        return
    rows = [["name", contact.name], ["phone", contact.phone], ["notes", contact.notes]]
    if record is not None:
        rows += [["visits", record.visit_count], ["spent", record.lifetime_spend],
                 ["last visit", _label(record.last_visit_at.astimezone(salon.tz)) if record.last_visit_at else ""],
                 ["no-shows", record.no_shows], ["owing", format_money(record.owed_minor, salon.currency)]]
    print_table(None, ["", ""], rows)


@clients_app.command("note")
def clients_note(phone: str = typer.Argument(...), org: str = ORG,
                 text: str = typer.Option(..., "--text", help="The client's notes, replacing the old ones.")) -> None:
    """Write a client's notes (allergies, what she likes)."""
    from core.contacts import find_by_phone, update_contact

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        contact = find_by_phone(session, actor, salon.id, phone)
        if contact is None:
            raise typer.BadParameter(f"{phone} is not a client of {salon.name}.")
        update_contact(session, actor, salon.id, contact.id, notes=text)
    err(f"Saved the notes of {contact.name}.")


@salon_app.command("timeline")
def timeline(phone: str = typer.Argument(...), org: str = ORG, limit: int = typer.Option(100, "--limit", min=1),
             as_json: bool = JSON) -> None:
    """Everything with one person, newest first: messages, visits, lead activity."""
    from core.salon.timeline import person_timeline

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        entries = person_timeline(session, actor, salon.id, phone, limit=limit)
    if as_json:
        print_json(entries)
        return
    print_table(None, ["when", "", "what", "text", "by"],
                [[_label(e.at.astimezone(salon.tz)), e.kind, e.what, e.text, e.actor or ""] for e in entries])


# ---------------------------------------------------------------- ofisi report takings

def report_takings(
    org: str = typer.Option(..., "--org", help="Salon slug."),
    day: Optional[str] = typer.Option(None, "--date", help="YYYY-MM-DD (default today, the salon's calendar)."),
    fmt: str = typer.Option("table", "--format", help="table, csv, xlsx or json."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="File for csv/xlsx (csv: stdout without)."),
) -> None:
    """A day's takings, line by line and by professional, service and payment method (with tips)."""
    import sys

    from core.salon.takings import COLUMNS, daily_takings
    from db.types import utcnow

    if fmt not in ("table", "csv", "xlsx", "json"):
        raise typer.BadParameter("--format is table, csv, xlsx or json.")
    if fmt == "xlsx" and output is None:
        raise typer.BadParameter("--format xlsx needs -o FILE.")
    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        wanted = _day(day) if day else utcnow().astimezone(salon.tz).date()
        takings = daily_takings(session, actor, salon.id, wanted)
    rows = takings.rows(salon.tz)
    if fmt == "json":
        print_json({**takings.summary(), "lines": [dict(zip(COLUMNS, r)) for r in rows]})
    elif fmt == "csv":
        from core.spreadsheets import write_csv

        fh = open(output, "w", newline="", encoding="utf-8") if output else sys.stdout
        write_csv(fh, COLUMNS, rows)
        if output:
            fh.close()
            err(f"Wrote {len(rows)} payments to {output}.")
    elif fmt == "xlsx":
        from core.spreadsheets import write_xlsx

        write_xlsx(output, COLUMNS, rows, title=f"Takings {wanted.isoformat()}")
        err(f"Wrote {len(rows)} payments to {output}.")
    else:
        print_table(f"Takings of {salon.name} on {wanted.isoformat()}", COLUMNS,
                    [[*r[:7], takings.money(r[7]), r[8]] for r in rows])
        for what in ("professional", "service", "method"):
            print_table(f"By {what}", [what, "taken"], [[k, takings.money(v)] for k, v in takings.by(what).items()])
    err(f"Total {takings.money(takings.total_minor)}, tips {takings.money(takings.tips_minor)}.")
