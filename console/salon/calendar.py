"""The salon's calendar: a day of all professionals side by side, or a week of one.

Rows are the times of day at the salon's slot step (07:00 to 21:00, stretched to
cover any appointment outside it); columns are the professionals (day view) or
the seven days from Monday (week view). A cell shows the client and service of
the appointment that starts there, and ``┊`` while it lasts.

On an appointment, ``i`` checks in, ``d`` completes with payment and ``m`` marks
a no-show (``closing``). Keys: ``[``/``]`` a day back/on, ``{``/``}`` a week, ``t`` today, ``v`` day or
week view, ``p`` the week view's next professional, Enter on an empty cell
books there (client phone and name, service), ``w`` books a walk-in now with
the professional under the cursor. Only staff with the professional role are
columns. Bookings go through ``core.salon.bookings.book`` as staff bookings
(no client notice).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Select

from console.salon.closing import CLOSING_KEYS, ClosesVisits
from console.salon.common import EnterConfirms, SalonChanged, SalonScreen, next_after
from console.widgets.dialog import Dialog
from console.widgets.table import LiteralTable
from console.widgets.text import literal

if TYPE_CHECKING:
    from core.salon.bookings import AppointmentView

OPEN_FROM, OPEN_TO = 7 * 60, 21 * 60


@dataclass(frozen=True)
class Column:
    professional_id: int
    day: date
    label: str


@dataclass
class CalendarData:
    start: date
    week: bool
    columns: list[Column]
    slots: list[int]  # minutes from midnight, at the slot step
    cells: dict[tuple[int, int], AppointmentView] = field(default_factory=dict)  # (slot, column) -> starts there
    busy: dict[tuple[int, int], AppointmentView] = field(default_factory=dict)  # the appointment covering it
    services: list[tuple[str, int]] = field(default_factory=list)
    professionals: list[tuple[int, str]] = field(default_factory=list)


class CalendarLoaded(Message):
    def __init__(self, data: CalendarData) -> None:
        super().__init__()
        self.data = data


@dataclass(frozen=True)
class NewBooking:
    phone: str
    name: str
    service_id: int


class BookDialog(EnterConfirms, Dialog[NewBooking]):
    """Who the client is (phone, name for a new one) and the service."""

    CONFIRM_LABEL = "Book"

    def __init__(self, title: str, services: list[tuple[str, int]]) -> None:
        super().__init__(title)
        self.services = services

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="Client's phone, e.g. 0712 345 678", id="book-phone")
        yield Input(placeholder="Name (for a new client)", id="book-name")
        yield Select(self.services, prompt="Service", id="book-service",
                     value=self.services[0][1] if self.services else Select.BLANK)

    def answer(self) -> NewBooking | None:
        phone = self.query_one("#book-phone", Input).value.strip()
        service = self.query_one("#book-service", Select).value
        if not phone or not isinstance(service, int):
            self.app.notify("Say the client's phone and the service.", severity="warning")
            return None
        return NewBooking(phone, self.query_one("#book-name", Input).value.strip(), service)


class CalendarScreen(ClosesVisits, SalonScreen):
    """Any day of the salon, or a week of one professional; Enter on an empty cell books."""

    BINDINGS = [
        *SalonScreen.BINDINGS,
        Binding("left_square_bracket", "move(-1)", "Day back", id="day-back", tooltip="The day before."),
        Binding("right_square_bracket", "move(1)", "Day on", id="day-on", tooltip="The next day."),
        Binding("left_curly_bracket", "move(-7)", "Week back", id="week-back", tooltip="A week earlier."),
        Binding("right_curly_bracket", "move(7)", "Week on", id="week-on", tooltip="A week later."),
        Binding("t", "today", "Today", id="today", tooltip="Back to today."),
        Binding("v", "toggle_view", "Day/week", id="day-or-week",
                tooltip="All professionals on one day, or one professional's week."),
        Binding("p", "next_professional", "Next pro", id="next-professional",
                tooltip="The week view of the next professional."),
        Binding("w", "walk_in", "Walk-in", id="walk-in",
                tooltip="Book a client who walked in now with the professional under the cursor."),
        Binding("enter", "book", "Book", id="book-cell", tooltip="Book a client in the empty cell."),
        *CLOSING_KEYS,
    ]

    def __init__(self, database, actor, org, *, day: date | None = None, week: bool = False,
                 professional_id: int | None = None) -> None:
        super().__init__(database, actor, org)
        self.day = day or datetime.now(self.present.tz).date()
        self.week = week
        self.professional_id = professional_id
        self.data: CalendarData | None = None
        self.shown: tuple[bool, date] | None = None  # the view and first day the cursor was placed for

    def compose_body(self) -> ComposeResult:
        with Vertical(id="calendar"):
            yield Label("", id="calendar-title", classes="pane-title")
            yield LiteralTable(id="grid", cursor_type="cell", zebra_stripes=True)

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Calendar"
        self.action_refresh()
        self.query_one("#grid", LiteralTable).focus()

    def action_refresh(self) -> None:
        self.load(self.day, self.week, self.professional_id)

    @work(thread=True, exclusive=True, group="salon-calendar", exit_on_error=False)
    def load(self, day: date, week: bool, professional_id: int | None) -> None:
        from core.salon.bookings import list_appointments
        from core.salon.common import PROFESSIONAL, list_professionals
        from core.salon.schedule import local_instant
        from core.salon.services import list_services
        from core.salon.settings import booking_settings

        tz = self.present.tz
        with self.database.session() as session:
            pros = [p for p in list_professionals(session, self.actor, self.org.id) if p.role == PROFESSIONAL]
            step = booking_settings(session, self.actor, self.org.id).slot_step_minutes
            services = [(s.name, s.id) for s in list_services(session, self.actor, self.org.id)]
            if week:
                start = day - timedelta(days=day.weekday())
                pro = next((p for p in pros if p.id == professional_id), pros[0] if pros else None)
                columns = [] if pro is None else [
                    Column(pro.id, start + timedelta(days=n), f"{start + timedelta(days=n):%a %d}") for n in range(7)]
            else:
                start = day
                columns = [Column(p.id, day, p.first_name) for p in pros]
            days = 7 if week else 1
            appointments = list_appointments(session, self.actor, self.org.id, start=local_instant(start, 0, tz),
                                             end=local_instant(start + timedelta(days=days), 0, tz),
                                             include_cancelled=False)
        index = {(c.professional_id, c.day): i for i, c in enumerate(columns)}
        first, last = OPEN_FROM, OPEN_TO
        placed = []
        for a in appointments:
            local = a.starts_at.astimezone(tz)
            column = index.get((a.professional_id, local.date()))
            if column is None:
                continue
            begin = local.hour * 60 + local.minute
            minutes = max(1, int((a.ends_at - a.starts_at).total_seconds() // 60))
            first, last = min(first, begin - begin % step), max(last, min(begin + minutes, 24 * 60))
            placed.append((column, begin, minutes, a))
        slots = list(range(first, last, step))
        data = CalendarData(start, week, columns, slots, services=services,
                            professionals=[(p.id, p.first_name) for p in pros])
        for column, begin, minutes, a in placed:
            data.cells[(begin - (begin - first) % step, column)] = a
            for slot in slots:
                if begin <= slot + step - 1 and slot < begin + minutes:
                    data.busy[(slot, column)] = a
        self.post_from_worker(CalendarLoaded(data))

    def on_calendar_loaded(self, message: CalendarLoaded) -> None:
        data = self.data = message.data
        grid = self.query_one("#grid", LiteralTable)
        cursor = grid.cursor_coordinate
        grid.clear(columns=True)
        grid.add_column("Time", key="time")
        for i, column in enumerate(data.columns):
            grid.add_column(literal(column.label), key=f"c{i}")
        for slot in data.slots:
            cells: list[Any] = [f"{slot // 60:02d}:{slot % 60:02d}"]
            for i in range(len(data.columns)):
                a = data.cells.get((slot, i))
                cells.append(literal(f"{a.client_name or 'walk-in'} · {a.service_name}") if a
                             else "┊" if (slot, i) in data.busy else "")
            grid.add_row(*cells, key=str(slot))
        column = next((i + 1 for i, c in enumerate(data.columns) if c.day == self.day), 1) if data.week else None
        if (data.week, data.start) != self.shown and data.slots:
            # A new day or week: the cursor on 09:00 (the week view: on the day moved to).
            nine = min(range(len(data.slots)), key=lambda r: abs(data.slots[r] - 9 * 60))
            grid.move_cursor(row=nine, column=column or (1 if data.columns else 0))
        else:
            grid.move_cursor(row=cursor.row, column=cursor.column)
        self.shown = (data.week, data.start)
        if data.week:
            who = next((name for pid, name in data.professionals
                        if data.columns and pid == data.columns[0].professional_id), "nobody")
            shown = f"Week of {data.start:%a %d %b %Y} — {who} (p: next, v: day)"
        else:
            shown = f"{data.start:%A %d %b %Y} — professionals: {len(data.columns)} (v: week)"
        if not data.columns:
            shown += " — no staff with the professional role yet"
        self.query_one("#calendar-title", Label).update(literal(shown))

    def action_move(self, days: int) -> None:
        self.day += timedelta(days=days)
        self.action_refresh()

    def action_today(self) -> None:
        self.day = datetime.now(self.present.tz).date()
        self.action_refresh()

    def _cell(self) -> tuple[int, Column] | None:
        grid = self.query_one("#grid", LiteralTable)
        if self.data is None or not self.data.slots or not self.data.columns:
            return None
        row, column = grid.cursor_coordinate.row, grid.cursor_coordinate.column
        if column == 0:
            self.app.notify("Move the cursor to a professional's or a day's column.", severity="warning")
            return None
        return self.data.slots[min(row, len(self.data.slots) - 1)], self.data.columns[column - 1]

    def action_toggle_view(self) -> None:
        if (cell := self._cell()) is not None:
            self.professional_id, self.day = cell[1].professional_id, cell[1].day
        self.week = not self.week
        self.action_refresh()

    def action_next_professional(self) -> None:
        if self.data and self.data.professionals:
            ids = [pid for pid, _ in self.data.professionals]
            self.professional_id = next_after(ids, self.professional_id)
            self.week = True
            self.action_refresh()

    def _pro_name(self, professional_id: int) -> str:
        return next((n for pid, n in self.data.professionals if pid == professional_id), "") if self.data else ""

    def _appointment(self) -> AppointmentView | None:
        if (cell := self._cell()) is None or self.data is None:
            return None
        appointment = self.data.busy.get((cell[0], self.data.columns.index(cell[1])))
        if appointment is None:
            self.app.notify("No appointment there: move the cursor onto one.", severity="warning")
        return appointment

    @on(DataTable.CellSelected, "#grid")
    def _cell_chosen(self) -> None:
        self.action_book()

    def action_book(self) -> None:
        if (cell := self._cell()) is None or self.data is None:
            return
        slot, column = cell
        if (slot, self.data.columns.index(column)) in self.data.busy:
            self.app.notify("That time is taken; choose an empty cell.", severity="warning")
            return
        from core.salon.schedule import local_instant

        start = local_instant(column.day, slot, self.present.tz)
        title = f"Book with {self._pro_name(column.professional_id)}, {self.present.time(start, '%a %d %b %H:%M')}"
        self.app.push_screen(BookDialog(title, self.data.services),
                             callback=lambda b: b and self.book(column.professional_id, start, b, False))

    def action_walk_in(self) -> None:
        if (cell := self._cell()) is None or self.data is None:
            return
        professional_id = cell[1].professional_id
        from db.types import utcnow

        now = utcnow().replace(second=0, microsecond=0)
        self.app.push_screen(BookDialog(f"Walk-in with {self._pro_name(professional_id)}, now", self.data.services),
                             callback=lambda b: b and self.book(professional_id, now, b, True))

    @work(thread=True, group="salon-write", exit_on_error=False)
    def book(self, professional_id: int, start: datetime, booking: NewBooking, walk_in: bool) -> None:
        from core.salon.bookings import book

        with self.database.session() as session:
            done = book(session, self.actor, self.org.id, professional_id=professional_id,
                        service_id=booking.service_id, client_phone=booking.phone, client_name=booking.name,
                        start=start, walk_in=walk_in)
        self.post_from_worker(SalonChanged(f"Booked {done.client_name} with {done.professional_name}, "
                                           f"{self.present.time(done.starts_at, '%a %d %b %H:%M')}.", done.id))
