"""Keeping the salon set up: the service menu, each professional's hours per
weekday, and holidays and closures. ``1`` services, ``2`` hours, ``3`` holidays
(and ``4`` booking rules, ``5`` time blocks, ``7`` staff, in ``rules``; ``6`` lead forms, in ``forms``) switch
between them; each change calls the core service the CLI's ``salon
services edit/retire``, ``salon hours set`` and ``salon holiday add/remove`` call.

- services: ``e`` a new price (the booked appointments keep theirs), ``x``
  retires the service after a Confirm naming it (no new bookings; history stays).
- hours: ``p`` the next professional; Enter (or ``e``) on a weekday sets that
  day alone (``09:00-18:00`` or ``closed``); the other days keep theirs.
- holidays: ``a`` adds a date (closed, or other hours) for the whole salon,
  ``x`` removes the one under the cursor (asks first).
"""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, Label

from console.salon.common import EnterConfirms, Rows, RowsLoaded, SalonChanged, SalonScreen, next_after
from console.widgets.confirm import Confirm
from console.widgets.dialog import AskText, Dialog
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal
from core.money import format_money

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _stretch(text: str) -> tuple[time, time] | None:
    """``09:00-18:00`` as two times; ``None`` when it is not one."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        return None
    return start, end


def _shown(stretches) -> str:
    return ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in stretches)


class SetupScreen(SalonScreen):
    """What the three setup screens share: the keys that switch between them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *SalonScreen.BINDINGS,
        Binding("1", "setup('services')", "Services", id="setup-services", tooltip="The service menu."),
        Binding("2", "setup('hours')", "Hours", id="setup-hours", tooltip="Each professional's week."),
        Binding("3", "setup('holidays')", "Holidays", id="setup-holidays", tooltip="Holidays and closures."),
        Binding("4", "setup('rules')", "Rules", id="setup-rules",
                tooltip="Booking rules: notice, horizon, slot step, reminders, deposits, no-show fee."),
        Binding("5", "setup('blocks')", "Blocks", id="setup-blocks", tooltip="Leave and training ahead."),
        Binding("6", "setup('forms')", "Forms", id="setup-forms",
                tooltip="The lead forms: title, questions, limits, open or closed."),
        Binding("7", "setup('staff')", "Staff", id="setup-staff",
                tooltip="Who takes clients, and who is texted of which bookings."),
    ]
    HEADING = ""

    def compose_body(self) -> ComposeResult:
        yield Label("", id="setup-title", classes="pane-title")
        yield from self.compose_table()

    def compose_table(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, self.HEADING
        self.query_one(OfisiTable).focus()
        self.action_refresh()

    def action_setup(self, which: str) -> None:
        from console.salon.forms import FormsScreen
        from console.salon.rules import BlocksScreen, RulesScreen, StaffScreen

        screen = {"services": ServicesScreen, "hours": HoursScreen, "holidays": HolidaysScreen,
                  "rules": RulesScreen, "blocks": BlocksScreen, "forms": FormsScreen,
                  "staff": StaffScreen}[which]
        if not isinstance(self, screen):
            self.app.switch_screen(screen(self.database, self.actor, self.org))

    @property
    def table(self) -> OfisiTable:
        return self.query_one(OfisiTable)

    def _record(self):
        row = self.table.selected_row
        if row is None:
            self.app.notify("Highlight a row first.", severity="warning")
        return None if row is None else row.data


class ServicesScreen(SetupScreen):
    HEADING = "Setup: services"
    BINDINGS: ClassVar[list[BindingType]] = [
        *SetupScreen.BINDINGS,
        Binding("e", "price", "New price", id="service-price", tooltip="Change the price of the highlighted service."),
        Binding("x", "retire", "Retire", id="service-retire", tooltip="No new bookings for it (asks first)."),
    ]

    def compose_table(self) -> ComposeResult:
        yield OfisiTable(("Service", "Minutes", "Price", "Offered"), noun="services",
                         empty="No services yet: `ofisi salon services add`.", id="services")

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="setup", exit_on_error=False)
    def load(self) -> None:
        from core.salon.services import list_services

        with self.database.session() as session:
            services = list_services(session, self.actor, self.org.id, include_inactive=True)
        self.post_from_worker(RowsLoaded(Rows("services", services)))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        self.query_one("#setup-title", Label).update(f"Services — {len(message.rows.rows)} (e price, x retire)")
        self.table.reload(Row(s.id, (s.name, Cell(str(s.minutes), s.minutes),
                                     Cell(self.present.money(s.price_minor), s.price_minor),
                                     "yes" if s.active else "retired"), data=s) for s in message.rows.rows)

    def action_price(self) -> None:
        if (service := self._record()) is None:
            return
        now = format_money(service.price_minor, service.currency).removeprefix(f"{service.currency.upper()} ")
        self.app.push_screen(AskText(f"New price for {service.name} (now {self.present.money(service.price_minor)})",
                                     placeholder="The price", value=now),
                             callback=lambda price: price and self.change(service.id, price=price))

    def action_retire(self) -> None:
        if (service := self._record()) is None:
            return
        self.app.push_screen(Confirm(f"Retire {service.name}?",
                                     [f"{self.present.money(service.price_minor)}, {service.minutes} minutes.",
                                      "No new bookings for it; booked appointments and history keep it."],
                                     confirm_label="Retire"),
                             callback=lambda yes: yes and self.change(service.id, active=False))

    @work(thread=True, group="salon-write", exit_on_error=False)
    def change(self, service_id: int, **changes) -> None:
        from core.salon.services import update_service

        with self.database.session() as session:
            done = update_service(session, self.actor, self.org.id, service_id, **changes)
        self.post_from_worker(SalonChanged(
            f"{done.name}: {self.present.money(done.price_minor)}" + ("" if done.active else ", retired") + ".",
            done.id))


class HoursScreen(SetupScreen):
    HEADING = "Setup: hours"
    BINDINGS: ClassVar[list[BindingType]] = [
        *SetupScreen.BINDINGS,
        Binding("p", "next_professional", "Next pro", id="hours-next-pro", tooltip="Another professional's week."),
        Binding("e", "set_day", "Set day", id="hours-set-day",
                tooltip="Set the highlighted weekday alone: 09:00-18:00 or closed."),
    ]

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.professional_id: int | None = None
        self.professionals: list[tuple[int, str]] = []

    def compose_table(self) -> ComposeResult:
        yield OfisiTable(("Day", "Works", "Breaks"), noun="days", empty="No professional yet.", id="hours")

    def action_refresh(self) -> None:
        self.load(self.professional_id)

    @work(thread=True, exclusive=True, group="setup", exit_on_error=False)
    def load(self, professional_id: int | None) -> None:
        from core.salon.common import list_professionals
        from core.salon.schedule import weekly_hours

        with self.database.session() as session:
            pros = [(p.id, p.name) for p in list_professionals(session, self.actor, self.org.id)]
            chosen = professional_id if professional_id in [p for p, _ in pros] else (pros[0][0] if pros else None)
            week = None if chosen is None else weekly_hours(session, self.actor, self.org.id, chosen)
        self.post_from_worker(RowsLoaded(Rows("hours", [pros, chosen, week])))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        self.professionals, self.professional_id, week = message.rows.rows
        name = dict(self.professionals).get(self.professional_id, "nobody")
        self.query_one("#setup-title", Label).update(literal(f"{name}'s week (Enter sets a day, p next)"))
        self.table.reload([] if week is None else (
            Row(d, (WEEKDAYS[d], _shown(week.work.get(d, [])) or "closed", _shown(week.breaks.get(d, []))), data=d)
            for d in range(7)))

    def action_next_professional(self) -> None:
        ids = [p for p, _ in self.professionals]
        if ids:
            self.professional_id = next_after(ids, self.professional_id)
            self.action_refresh()

    @on(DataTable.RowSelected, "#hours")
    def _day_chosen(self) -> None:
        self.action_set_day()

    def action_set_day(self) -> None:
        if (day := self._record()) is None or self.professional_id is None:
            return
        professional_id, name = self.professional_id, dict(self.professionals)[self.professional_id]

        def with_hours(text: str | None) -> None:
            if not text:
                return
            closed = text.strip().lower() in ("closed", "off")
            stretch = None if closed else _stretch(text)
            if not closed and stretch is None:
                self.app.notify(f"{text!r} is not a stretch of time; write it like 09:00-18:00, or closed.",
                                severity="warning")
                return
            self.set_day(professional_id, day, stretch)

        self.app.push_screen(AskText(f"{name}'s hours on {WEEKDAYS[day]}s (the other days keep theirs)",
                                     placeholder="09:00-18:00, or closed"), callback=with_hours)

    @work(thread=True, group="salon-write", exit_on_error=False)
    def set_day(self, professional_id: int, day: int, stretch: tuple[time, time] | None) -> None:
        from core.salon.schedule import set_weekly_hours

        with self.database.session() as session:
            set_weekly_hours(session, self.actor, self.org.id, professional_id,
                             work={day: [stretch] if stretch else []}, only_these_days=True)
        self.post_from_worker(SalonChanged(f"{WEEKDAYS[day]}: " + (_shown([stretch]) if stretch else "closed") + "."))


class HolidayDialog(EnterConfirms, Dialog[tuple[date, tuple[time, time] | None, str]]):
    """A date for the whole salon: closed, or open other hours; and what it is."""

    CONFIRM_LABEL = "Add"

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="Date, YYYY-MM-DD", id="holiday-date")
        yield Input(placeholder="Hours that day, like 10:00-14:00 (empty: closed)", id="holiday-hours")
        yield Input(placeholder="What it is, like Jamhuri Day", id="holiday-note")

    def answer(self):
        text, hours = (self.query_one(f"#holiday-{k}", Input).value.strip() for k in ("date", "hours"))
        try:
            day = date.fromisoformat(text)
        except ValueError:
            self.app.notify(f"{text!r} is not a date; write it like 2026-12-25.", severity="warning")
            return None
        stretch = _stretch(hours) if hours else None
        if hours and stretch is None:
            self.app.notify(f"{hours!r} is not a stretch of time; write it like 10:00-14:00.", severity="warning")
            return None
        return day, stretch, self.query_one("#holiday-note", Input).value.strip()


class HolidaysScreen(SetupScreen):
    HEADING = "Setup: holidays"
    BINDINGS: ClassVar[list[BindingType]] = [
        *SetupScreen.BINDINGS,
        Binding("a", "add", "Add", id="holiday-add", tooltip="A holiday or closure for the whole salon."),
        Binding("x", "remove", "Remove", id="holiday-remove", tooltip="Back to the usual week that day (asks)."),
    ]

    def compose_table(self) -> ComposeResult:
        yield OfisiTable(("Date", "Who", "Hours", "Note"), noun="dates",
                         empty="No holidays or closures ahead: a adds one.", id="holidays")

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="setup", exit_on_error=False)
    def load(self) -> None:
        from core.salon.common import list_professionals
        from core.salon.schedule import list_date_exceptions
        from db.types import utcnow

        first = utcnow().astimezone(self.present.tz).date()
        with self.database.session() as session:
            rows = list_date_exceptions(session, self.actor, self.org.id, first, first + timedelta(days=365))
            names = {p.id: p.name for p in list_professionals(session, self.actor, self.org.id)}
        self.post_from_worker(RowsLoaded(Rows("holidays", [rows, names])))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        rows, names = message.rows.rows
        self.query_one("#setup-title", Label).update(f"Holidays and closures — {len(rows)} (a add, x remove)")
        self.table.reload(
            Row(r.id, (Cell(self.present.date(r.day, "%a %d %b %Y"), r.day),
                       "the salon" if r.professional_id is None else names.get(r.professional_id, ""),
                       "closed" if r.hours is None else _shown([r.hours]), r.note), data=r) for r in rows)

    def action_add(self) -> None:
        self.app.push_screen(HolidayDialog(f"A holiday or closure for {self.org.name}"),
                             callback=lambda answer: answer and self.add_date(*answer))

    @work(thread=True, group="salon-write", exit_on_error=False)
    def add_date(self, day: date, hours: tuple[time, time] | None, note: str) -> None:
        from core.salon.schedule import set_date_exception

        with self.database.session() as session:
            done = set_date_exception(session, self.actor, self.org.id, day, hours=hours, note=note)
        self.post_from_worker(SalonChanged(f"{day:%a %d %b %Y}: " + ("closed" if hours is None else
                                                                     f"open {_shown([hours])} only") + ".", done.id))

    def action_remove(self) -> None:
        if (row := self._record()) is None:
            return
        self.app.push_screen(Confirm(f"Remove {self.present.date(row.day, '%a %d %b %Y')} ({row.note or 'closure'})?",
                                     "That day goes back to the usual week.", confirm_label="Remove"),
                             callback=lambda yes: yes and self.remove_date(row.day, row.professional_id))

    @work(thread=True, group="salon-write", exit_on_error=False)
    def remove_date(self, day: date, professional_id: int | None) -> None:
        from core.salon.schedule import clear_date_exception

        with self.database.session() as session:
            clear_date_exception(session, self.actor, self.org.id, day, professional_id=professional_id)
        self.post_from_worker(SalonChanged(f"{day:%a %d %b %Y} keeps the usual hours again."))
