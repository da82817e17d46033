"""The agency home: workers (search, filters, verification and background checks),
employers, the placements board by status, fees owed, unlock history, and SMS
to a worker or employer from their row.

Reads run in thread workers that call core services and post
:class:`AgencyLoaded`; workers come a keyset page at a time (``n`` reads the
next page). Worker phones are shown masked, as the core gives them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Input, Select, Static, TabbedContent, TabPane

from console.base import AskText
from console.widgets.table import LiteralTable
from console.home import AgencyHome, register_home
from core.agency.commerce import UnlockView, list_unlocks
from core.agency.employers import EmployerView, list_employers, sms_employer
from core.agency.placements import PlacementView, list_placements, placement_counts
from core.agency.reports import agency_report
from core.agency.workers import (
    WorkerFilters, WorkerView, record_background_check, search_workers, set_verification, sms_worker,
)
from core.money import format_money

WORKERS_PAGE = 50
BOARD_ORDER = ("proposed", "placed", "disputed", "ended")


@dataclass(frozen=True)
class AgencyData:
    org_id: int
    workers: list[WorkerView]
    next_after: tuple[int, int] | None
    employers: list[EmployerView]
    placements: list[PlacementView]
    counts: dict[str, int]
    owed_minor: int
    unlocks: list[UnlockView]
    append: bool = False


class AgencyLoaded(Message):
    def __init__(self, data: AgencyData) -> None:
        super().__init__()
        self.data = data


@register_home
class AgencyConsoleHome(AgencyHome):
    """The agency's home: its books, its placements and what it is owed."""

    KIND: ClassVar[str] = "agency"
    CSS_PATH = "agency.tcss"
    BINDINGS = [
        Binding("slash", "focus_search", "Search", id="agency-search",
                tooltip="Filter workers by town, skill, accommodation and availability."),
        Binding("v", "verify", "Verify", id="agency-verify", tooltip="Mark the highlighted worker verified."),
        Binding("c", "cleared", "Cleared", id="agency-cleared",
                tooltip="Record a cleared background check for the highlighted worker."),
        Binding("x", "flag", "Flag", id="agency-flag",
                tooltip="Record a flagged background check, with what was found."),
        Binding("s", "sms", "SMS", id="agency-sms", tooltip="Send an SMS to the highlighted worker or employer."),
        Binding("n", "more_workers", "More workers", id="agency-more", tooltip="Read the next page of workers."),
    ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.agency: AgencyData | None = None
        self.filters = WorkerFilters()

    def compose_panels(self) -> ComposeResult:
        with TabbedContent(id="agency-tabs"):
            with TabPane("Workers", id="tab-workers"):
                with Horizontal(id="worker-filters"):
                    yield Input(placeholder="Town", id="filter-location")
                    yield Input(placeholder="Skill", id="filter-skill")
                    yield Select([(a.replace("_", " "), a) for a in ("live_in", "live_out", "either")],
                                 prompt="Accommodation", id="filter-accommodation")
                    yield Select([(a.replace("_", " "), a) for a in ("immediate", "two_weeks", "one_month")],
                                 prompt="Availability", id="filter-availability")
                yield LiteralTable(id="agency-workers", cursor_type="row", zebra_stripes=True)
            with TabPane("Employers", id="tab-employers"):
                yield LiteralTable(id="agency-employers", cursor_type="row", zebra_stripes=True)
            with TabPane("Placements", id="tab-placements"):
                yield Static("", id="placement-board", markup=False)
                yield Static("", id="fees-owed", markup=False)
                yield LiteralTable(id="agency-placements", cursor_type="row", zebra_stripes=True)
            with TabPane("Unlocks", id="tab-unlocks"):
                yield LiteralTable(id="agency-unlocks", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        # Textual runs HomeScreen.on_mount too (which reads the data through action_refresh).
        columns = {
            "#agency-workers": ("Name", "Phone", "Age", "Town", "Exp.", "Salary", "Accommodation", "Availability",
                                "Verified", "Background", "Skills"),
            "#agency-employers": ("Name", "Household", "Phone", "Town"),
            "#agency-placements": ("Status", "Worker", "Employer", "Start", "Fee", "Commission", "Owed"),
            "#agency-unlocks": ("When", "Employer", "Worker", "By"),
        }
        for selector, names in columns.items():
            self.query_one(selector, DataTable).add_columns(*names)

    # ------------------------------------------------------------ reading

    def action_refresh(self) -> None:
        super().action_refresh()
        self.load_agency(self.filters, None)

    @work(thread=True, exclusive=True, group="agency", exit_on_error=False)
    def load_agency(self, filters: WorkerFilters, after: tuple[int, int] | None) -> None:
        with self.database.session() as session:
            page = search_workers(session, self.actor, self.org.id, filters, limit=WORKERS_PAGE, after=after)
            if after is not None:
                data = AgencyData(self.org.id, page.workers, page.next_after, [], [], {}, 0, [], append=True)
            else:
                placements = list_placements(session, self.actor, self.org.id, limit=200)
                data = AgencyData(
                    self.org.id, page.workers, page.next_after,
                    list_employers(session, self.actor, self.org.id, limit=100),
                    sorted(placements, key=lambda p: (BOARD_ORDER.index(p.status), -p.id)),
                    placement_counts(session, self.actor, self.org.id),
                    agency_report(session, self.actor, self.org.id).total.owed_minor,
                    list_unlocks(session, self.actor, self.org.id, limit=100))
        self.post_from_worker(AgencyLoaded(data))

    def on_agency_loaded(self, message: AgencyLoaded) -> None:
        data = message.data
        if data.org_id != self.org.id:
            return
        workers = self.query_one("#agency-workers", DataTable)
        if not data.append:
            self.agency = data
            workers.clear()
            self._fill_rest(data)
        elif self.agency is not None:
            self.agency = AgencyData(**{**self.agency.__dict__, "workers": self.agency.workers + data.workers,
                                        "next_after": data.next_after})
        for w in data.workers:
            if str(w.id) not in workers.rows:
                workers.add_row(w.name, w.phone, w.age or "", w.location, w.experience_years,
                                self.money(w.expected_salary_minor), w.accommodation.replace("_", " "),
                                w.availability.replace("_", " "), w.verification_status, w.background_check,
                                ", ".join(w.skills), key=str(w.id))
        self.refresh_bindings()

    def _fill_rest(self, data: AgencyData) -> None:
        employers = self.query_one("#agency-employers", DataTable)
        employers.clear()
        for e in data.employers:
            employers.add_row(e.name, e.household_name, e.phone, e.location, key=str(e.id))
        board = self.query_one("#agency-placements", DataTable)
        board.clear()
        for p in data.placements:
            board.add_row(p.status, p.worker_name, p.employer_name, p.start_date or "", self.money(p.fee_minor),
                          self.money(p.commission_minor), self.money(p.owed_minor), key=str(p.id))
        self.query_one("#placement-board", Static).update(
            "Placements: " + " · ".join(f"{data.counts.get(s, 0)} {s}" for s in BOARD_ORDER))
        self.query_one("#fees-owed", Static).update(f"Fees and commission owed: {self.money(data.owed_minor)}")
        unlocks = self.query_one("#agency-unlocks", DataTable)
        unlocks.clear()
        for u in data.unlocks:
            unlocks.add_row(f"{u.unlocked_at.astimezone(self.org.tz):%d %b %Y %H:%M}", u.employer_name,
                            u.worker_name, u.unlocked_by, key=str(u.id))

    def money(self, minor: int | None) -> str:
        return "" if minor is None else format_money(minor, self.org.currency)

    # ------------------------------------------------------------ search

    def action_focus_search(self) -> None:
        self.query_one("#agency-tabs", TabbedContent).active = "tab-workers"
        self.query_one("#filter-location", Input).focus()

    @on(Input.Submitted, "#filter-location, #filter-skill")
    @on(Select.Changed)
    def _filters_changed(self) -> None:
        def chosen(selector: str) -> str | None:
            value = self.query_one(selector, Select).value
            return value if isinstance(value, str) else None

        skill = self.query_one("#filter-skill", Input).value.strip()
        availability = chosen("#filter-availability")
        self.filters = WorkerFilters(location=self.query_one("#filter-location", Input).value.strip() or None,
                                     skills=(skill,) if skill else (), accommodation=chosen("#filter-accommodation"),
                                     availability=(availability,) if availability else ())
        self.load_agency(self.filters, None)

    def action_more_workers(self) -> None:
        if self.agency is not None and self.agency.next_after is not None:
            self.load_agency(self.filters, self.agency.next_after)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("verify", "cleared", "flag"):
            return self.may("agency.write")
        if action == "sms":
            return self.may("messages.send")
        if action == "more_workers":
            return self.agency is not None and self.agency.next_after is not None
        return super().check_action(action, parameters)

    # ------------------------------------------------------------ writing

    def highlighted(self, selector: str) -> int | None:
        table = self.query_one(selector, DataTable)
        if not table.row_count:
            return None
        return int(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value or 0)

    def action_verify(self) -> None:
        if (worker_id := self.highlighted("#agency-workers")) is not None:
            self.change_worker(worker_id, "verify", "")

    def action_cleared(self) -> None:
        if (worker_id := self.highlighted("#agency-workers")) is not None:
            self.change_worker(worker_id, "cleared", "")

    def action_flag(self) -> None:
        if (worker_id := self.highlighted("#agency-workers")) is None:
            return
        self.app.push_screen(AskText(self.database, "Why is this worker flagged?", placeholder="What the check found"),
                             callback=lambda notes: notes and self.change_worker(worker_id, "flagged", notes))

    def action_sms(self) -> None:
        active = self.query_one("#agency-tabs", TabbedContent).active
        kind, selector = ("employer", "#agency-employers") if active == "tab-employers" else \
            ("worker", "#agency-workers")
        if (row_id := self.highlighted(selector)) is None:
            return
        self.app.push_screen(AskText(self.database, f"SMS to this {kind}", placeholder="Message"),
                             callback=lambda text: text and self.send_sms(kind, row_id, text))

    @work(thread=True, group="agency-write", exit_on_error=False)
    def change_worker(self, worker_id: int, what: str, notes: str) -> None:
        with self.database.session() as session:
            if what == "verify":
                w = set_verification(session, self.actor, self.org.id, worker_id, "verified")
            else:
                w = record_background_check(session, self.actor, self.org.id, worker_id, what, notes=notes)
        self.app.call_from_thread(self.notify, f"{w.name}: {w.verification_status}, background {w.background_check}.")
        self.app.call_from_thread(self.action_refresh)

    @work(thread=True, group="agency-write", exit_on_error=False)
    def send_sms(self, kind: str, row_id: int, text: str) -> None:
        with self.database.session() as session:
            send = sms_employer if kind == "employer" else sms_worker
            message_id = send(session, self.actor, self.org.id, row_id, text)
        self.app.call_from_thread(self.notify, f"SMS queued (message {message_id}).")
        self.app.call_from_thread(self.action_refresh)
