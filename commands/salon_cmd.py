"""`ofisi services add|list` and `ofisi bookings slots|add|list|cancel|reschedule`.

Times on the command line are the salon's wall clock unless they carry an
offset (``2026-03-03T10:00`` or ``2026-03-03T10:00+03:00``); output shows
them in the salon's time zone. A booking the rules refuse exits 1 with one
line naming what is in the way and the next free slots.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, time
from typing import Optional

import typer

from commands.common import err, org_id_for, print_json, print_table, unit_of_work

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
    """A time without an offset is the salon's wall clock."""
    from zoneinfo import ZoneInfo

    return moment.replace(tzinfo=ZoneInfo(timezone)) if moment.tzinfo is None else moment


def _label(moment: datetime) -> str:
    return f"{moment:%a} {moment.day} {moment:%b} {moment:%H:%M}"


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
    as_json: bool = JSON,
) -> None:
    """The free starts for a service with a professional on one date."""
    from datetime import timedelta

    from core.salon.availability import free_slots_on

    wanted = _day(day)
    with unit_of_work() as (session, actor):
        salon, professional, offered = _resolve(session, actor, org, pro, service)
        slots = free_slots_on(session, actor, salon.id, professional.id, offered.id, wanted)
    length = timedelta(minutes=offered.minutes)
    if as_json:
        print_json([{"start": s, "end": s + length} for s in slots])
        return
    heading = f"{offered.name} ({offered.minutes} min) with {professional.name} on {wanted:%a} {wanted.day} " \
              f"{wanted:%b %Y}, {salon.timezone}"
    if not slots:
        err(f"No free time for {heading}.")
        return
    err(f"Free for {heading}:")
    typer.echo(" ".join(f"{s:%H:%M}" for s in slots))


@bookings_app.command("add")
def bookings_add(
    org: str = ORG,
    pro: str = PRO,
    service: str = SERVICE,
    client: str = typer.Option(..., "--client", help="The client's phone number."),
    client_name: str = typer.Option("", "--client-name", help="The client's name, for a new client."),
    at: str = typer.Option(..., "--at", help="Start, like 2026-03-03T10:00 (the salon's time unless an offset is given)."),
    notes: str = typer.Option("", "--notes"),
    as_json: bool = JSON,
) -> None:
    """Book a client; refused (exit 1) with what is in the way and the next free slots."""
    from core.contacts import upsert_contact
    from core.salon.bookings import book

    start = _moment(at)
    with unit_of_work() as (session, actor):
        salon, professional, offered = _resolve(session, actor, org, pro, service)
        contact = upsert_contact(session, actor, salon.id, name=client_name, phone=client)
        appointment = book(session, actor, salon.id, professional_id=professional.id, service_id=offered.id,
                           contact_id=contact.id, start=_in_salon_time(start, salon.timezone), notes=notes)
    if as_json:
        print_json(appointment)
    err(f"Booked #{appointment.id}: {appointment.service_name} for {appointment.client_name} with "
        f"{appointment.professional_name}, {_label(appointment.starts_at)}–{appointment.ends_at:%H:%M}, "
        f"{appointment.price}.")


@bookings_app.command("list")
def bookings_list(
    org: str = ORG,
    day: Optional[str] = typer.Option(None, "--date", help="One date (YYYY-MM-DD); without it, from today on."),
    limit: int = typer.Option(200, "--limit", min=1, help="At most this many."),
    as_json: bool = JSON,
) -> None:
    """List appointments of one date, or from today on."""
    from core.salon.bookings import appointments_on, list_appointments
    from db.types import utcnow

    wanted = _day(day) if day else None
    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        if wanted is not None:
            rows = appointments_on(session, actor, salon.id, wanted, limit=limit)
        else:
            today = utcnow().astimezone(salon.tz).date()
            midnight = datetime.combine(today, time(0), tzinfo=salon.tz)
            rows = list_appointments(session, actor, salon.id, start=midnight, limit=limit)
    if as_json:
        print_json(rows)
        return
    if not rows:
        err("No appointments" + (f" on {wanted.isoformat()}." if wanted else " from today on."))
        return
    print_table(None, ["#", "when", "professional", "service", "client", "status", "price"],
                [[a.id, f"{_label(a.starts_at)}–{a.ends_at:%H:%M}", a.professional_name, a.service_name,
                  a.client_name or "", a.status.replace("_", "-"), a.price] for a in rows])


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
    err(f"Moved #{appointment.id} to {_label(appointment.starts_at)}–{appointment.ends_at:%H:%M} with "
        f"{appointment.professional_name}.")


# ---------------------------------------------------------------- ofisi salon hours|block|forms|leads

salon_app = typer.Typer(help="A salon's diary settings, lead forms and leads.", no_args_is_help=True)
hours_app = typer.Typer(help="A professional's usual week.", no_args_is_help=True)
block_app = typer.Typer(help="Time a professional cannot be booked: leave, training.", no_args_is_help=True)
forms_app = typer.Typer(help="Public lead forms at POST /forms/SLUG on `ofisi serve`.", no_args_is_help=True)
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
    days: str = typer.Option("mon-sat", "--days", help="Which days: mon-sat, or mon,wed,fri."),
    hours: str = typer.Option("09:00-18:00", "--hours", help="Working time on those days, like 09:00-18:00."),
    breaks: list[str] = typer.Option([], "--break", help="A break on those days, like 13:00-14:00 (repeatable)."),
) -> None:
    """Replace a professional's usual week: the same hours on the days given, closed on the others."""
    from core.salon.common import find_professional
    from core.salon.schedule import WEEKDAYS, set_weekly_hours

    chosen, stretch, pauses = _days(days), _stretch(hours), [_stretch(b) for b in breaks]
    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        professional = find_professional(session, actor, salon.id, pro)
        set_weekly_hours(session, actor, salon.id, professional.id, work={d: [stretch] for d in chosen},
                         breaks={d: pauses for d in chosen} if pauses else None)
    err(f"{professional.name} works {', '.join(WEEKDAYS[d] for d in chosen)} {hours}"
        + (f", breaks {', '.join(breaks)}" if breaks else "") + ".")


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
) -> None:
    """Keep a professional free of bookings for a while."""
    from core.salon.common import find_professional
    from core.salon.schedule import add_time_block

    with unit_of_work() as (session, actor):
        salon = org_id_for(session, actor, org)
        professional = find_professional(session, actor, salon.id, pro)
        block = add_time_block(session, actor, salon.id, professional.id,
                               start=_in_salon_time(_moment(start), salon.timezone),
                               end=_in_salon_time(_moment(end), salon.timezone), reason=reason, note=note)
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
    err(f"The form {form.title} takes submissions at POST /forms/{form.slug}.")


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
