"""The agency home: workers (search, filters, verification and background checks),
employers, the placements board, fees owed, unlock history, and SMS from a row.

Every list is an :class:`~console.widgets.table.OfisiTable`: each action works on
the record under the cursor and the cursor stays on that record after the list is
read again; every dialog names the record (``SMS to Peter Kiptoo, +2547•••••912``).
Phones go through the screen's presenter, which masks workers' numbers: nothing on
these panes shows a full number (the agency sells unlocks of exactly these). A write reads again
only the lists it changed (a payment reads the placements, not the workers). Workers
come a keyset page at a time (moving onto the last row, or ``m``, reads the next).

Keys: ``a`` adds a worker or an employer (by tab), ``w`` (or Enter) edits one, ``v``/``c``/``x``
verify, clear or flag the worker, ``s`` SMS, ``l`` unlocks the worker's number for an employer (one
credit, audited; the number is shown then, and can be texted to the employer), ``d`` checks the
worker's documents, ``o`` proposes her; on an employer ``t`` matches workers to her needs and ``b``
sells her a package (marked paid with its reference, or by an M-Pesa prompt to her phone: the
purchase awaits payment until Daraja's callback gives the credits); on a placement ``p`` moves it on, ``e`` ends
it, ``s`` invites the proposed worker by SMS, ``i`` disputes it, ``f`` records a payment, ``g`` a
refund and ``n`` resolves its dispute (with a refund if agreed); every write of money asks first,
naming the record and the amount. ``z`` lists the disputes, open and resolved (``n`` there resolves
one), ``k`` opens the contact packages, ``j`` the agency's
subscriptions and payments to the platform, ``h`` the inbox of texts no keyword answered, ``1``-``4`` the tabs, ``y`` the report (``x`` there exports the placements) and
``u`` the audit log, as on every home.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy.orm import Session
from textual import on, work
from textual.worker import get_current_worker
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Select, Static, TabbedContent, TabPane

from console.agency.forms import ChooseDialog, Field, FormDialog
from console.agency.packages import PackagesScreen
from console.home import AgencyHome, register_home
from console.widgets.confirm import Confirm
from console.widgets.dialog import AskText
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal
from core.agency.commerce import UnlockView, list_unlocks
from core.agency.employers import EmployerView, list_employers
from core.agency.placements import DisputeView, PlacementView, list_placements, placement_counts
from core.agency.reports import agency_report
from core.agency.workers import WorkerFilters, WorkerView, count_workers, search_workers
from core.money import parse_money

WORKERS_PAGE = 50
BOARD_ORDER = ("proposed", "placed", "disputed", "ended")  # the statuses the board counts
ACCOMMODATION = [(a.replace("_", " "), a) for a in ("live_in", "live_out", "either")]
PAID_BY = [("now, with a receipt reference", "receipt"), ("by an M-Pesa prompt to the employer's phone", "mpesa")]
AVAILABILITY = [(a.replace("_", " "), a) for a in ("immediate", "two_weeks", "one_month", "unavailable")]
TABS = ("workers", "employers", "placements", "unlocks")
NAMED_IN = ("placements", "unlocks")  # the lists that show a worker's or an employer's name besides their own
TAB_KEYS = {
    "tab-workers": {"verify", "cleared", "flag", "sms", "add", "edit", "unlock", "documents", "propose"},
    "tab-employers": {"sms", "add", "edit", "sell", "match"},
    "tab-placements": {"place", "end", "dispute", "resolve", "payment", "refund", "sms"},
    "tab-unlocks": set(),
}


def _stage_order(stage: str) -> int:
    from core.agency.base import PLACEMENT_STAGES

    return PLACEMENT_STAGES.index(stage) if stage in PLACEMENT_STAGES else len(PLACEMENT_STAGES)


def next_stage(stage: str) -> str | None:
    """The next step along proposed → interview → placed → trial → confirmed (None at the end)."""
    from core.agency.placements import MOVES

    return next((s for s in MOVES.get(stage, ()) if s not in ("ended", "disputed")), None)


@dataclass(frozen=True)
class AgencyData:
    """What one read brought; a list left ``None`` was not read this time (a write reads again only the
    lists it changed, which also spares a slow link)."""

    org_id: int
    workers: list[WorkerView] | None = None
    next_after: tuple[int, int] | None = None
    employers: list[EmployerView] | None = None
    placements: list[PlacementView] | None = None
    counts: dict[str, int] | None = None
    owed_minor: int | None = None
    unlocks: list[UnlockView] | None = None
    append: bool = False
    total_workers: int | None = None  # on the books, placed or not


class AgencyLoaded(Message):
    def __init__(self, data: AgencyData) -> None:
        super().__init__()
        self.data = data


class AgencyChanged(Message):
    """A write went through: ``text`` is what to tell the person, ``lists`` the lists it changed
    (``messages`` is the home's pane of recent messages)."""

    def __init__(self, text: str, lists: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.text, self.lists = text, lists


@register_home
class AgencyConsoleHome(AgencyHome):
    """The agency's home: its workers, employers, placements and what it is owed."""

    KIND: ClassVar[str] = "agency"
    CSS_PATH = "agency.tcss"
    BINDINGS = [
        Binding("a", "add", "Add", id="agency-add", tooltip="Add a worker (Workers tab) or an employer (Employers)."),
        Binding("w", "edit", "Edit", id="agency-edit",
                tooltip="Change the worker or employer under the cursor (Enter does the same)."),
        Binding("v", "verify", "Verify", id="agency-verify", tooltip="Mark the worker under the cursor verified."),
        Binding("c", "cleared", "Cleared", id="agency-cleared",
                tooltip="Record a cleared background check for the worker under the cursor."),
        Binding("x", "flag", "Flag", id="agency-flag",
                tooltip="Record a flagged background check, with what was found."),
        Binding("s", "sms", "SMS", id="agency-sms",
                tooltip="Send an SMS to the worker or employer under the cursor; on a proposal, invite the worker "
                        "(she answers YES or NO)."),
        Binding("l", "unlock", "Unlock", id="agency-unlock",
                tooltip="Unlock the worker's number for an employer (one of the employer's credits, audited); "
                        "shows it and offers to text it to the employer."),
        Binding("d", "documents", "Documents", id="agency-documents",
                tooltip="Check that the worker's stored documents still have the bytes they were taken in with."),
        Binding("o", "propose", "Propose", id="agency-propose",
                tooltip="Propose the worker under the cursor to an employer, with the fee."),
        Binding("b", "sell", "Sell package", id="agency-sell",
                tooltip="Sell the employer a contact package: marked paid with its receipt reference, or paid "
                        "by an M-Pesa prompt to the employer's phone."),
        Binding("p", "place", "Next stage", id="agency-place",
                tooltip="Move the placement on: proposed → interview → placed → trial → confirmed (asks first)."),
        Binding("e", "end", "End", id="agency-end", tooltip="End the placement under the cursor."),
        Binding("i", "dispute", "Dispute", id="agency-dispute", tooltip="Open a dispute on the placement."),
        Binding("n", "resolve", "Resolve", id="agency-resolve",
                tooltip="Close the placement's open dispute: what was agreed, and any refund (asks for the amount)."),
        Binding("f", "payment", "Payment", id="agency-payment",
                tooltip="Record money received against the placement's fee or commission."),
        Binding("g", "refund", "Refund", id="agency-refund",
                tooltip="Record money given back to the employer (all or part of what was paid)."),
        Binding("z", "disputes", "Disputes", id="agency-disputes",
                tooltip="Every dispute, open and resolved, with what was refunded; n there resolves an open one."),
        Binding("k", "packages", "Packages", id="agency-packages",
                tooltip="The contact packages employers buy: add, price, retire."),
        Binding("h", "inbox", "Inbox", id="agency-inbox",
                tooltip="Texts from workers and employers that no keyword answered; Enter reads one and replies."),
        Binding("j", "subscriptions", "Subscriptions", id="agency-account",
                tooltip="The agency's subscriptions and its payments to the platform."),
        Binding("t", "match", "Match", id="agency-match",
                tooltip="Rank the available, verified workers against the employer's needs, with the reasons; "
                        "Enter on one proposes her."),
        *[Binding(str(n), f"tab('tab-{tab}')", tab.capitalize(), id=f"agency-tab-{tab}", show=False,
                  tooltip=f"The {tab.capitalize()} tab.") for n, tab in enumerate(TABS, 1)],
        Binding("y", "report", "Report", id="agency-report",
                tooltip="Fees charged, received, refunded and owed by month; x there exports the placements."),
    ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.agency: AgencyData | None = None
        self.filters = WorkerFilters()
        self._paging = False

    def compose_panels(self) -> ComposeResult:
        with TabbedContent(id="agency-tabs"):
            with TabPane("Workers", id="tab-workers"):
                with Horizontal(id="worker-filters"):
                    yield Input(placeholder="Town", id="filter-location")
                    yield Input(placeholder="Skill", id="filter-skill")
                    yield Select(ACCOMMODATION, prompt="Accommodation", id="filter-accommodation")
                    yield Select(AVAILABILITY, prompt="Availability", id="filter-availability")
                    yield Static("", id="worker-count", markup=False)
                yield OfisiTable(("Name", "Phone", "Age", "Town", "Exp.", "Salary", "Accommodation", "Availability",
                                  "Verified", "Background", "Skills"), noun="workers", search_in_core=True,
                                 empty="No workers match: clear the filters, or press a to add one.",
                                 id="agency-workers")
            with TabPane("Employers", id="tab-employers"):
                yield OfisiTable(("Name", "Household", "Phone", "Town", "Credits"), noun="employers",
                                 empty="No employers yet: press a to add one.", id="agency-employers")
            with TabPane("Placements", id="tab-placements"):
                yield Static("", id="placement-board", markup=False)
                yield Static("", id="fees-owed", markup=False)
                yield OfisiTable(("Status", "Worker", "Employer", "Start", "Fee", "Commission", "Owed"),
                                 noun="placements",
                                 empty="No placements yet: on the Workers tab, o proposes a worker.",
                                 id="agency-placements")
            with TabPane("Unlocks", id="tab-unlocks"):
                yield OfisiTable(("When", "Employer", "Worker", "By"), noun="unlocks",
                                 empty="No numbers unlocked yet: u on a worker unlocks one for an employer.",
                                 id="agency-unlocks")

    def table(self, name: str) -> OfisiTable:
        return self.query_one(f"#agency-{name}", OfisiTable)

    # ------------------------------------------------------------ reading

    def action_refresh(self) -> None:
        super().action_refresh()
        self.reload_lists(frozenset(TABS))

    def reload_lists(self, lists: frozenset[str]) -> None:
        """Read again the lists named (of :data:`TABS`); ``messages`` reads the home's own panes."""
        if "messages" in lists:
            super().action_refresh()
        if wanted := lists & set(TABS):
            self.load_agency(self.filters, None, max(WORKERS_PAGE, len(self.table("workers").records)),
                             lists=frozenset(wanted))

    def load_agency(self, filters: WorkerFilters, after: tuple[int, int] | None, limit: int = WORKERS_PAGE,
                    lists: frozenset[str] = frozenset({"workers"})) -> None:
        """Read ``lists`` in a thread; a newer read of the same lists cancels the one before it."""
        def read() -> None:
            worker = get_current_worker()
            try:
                with self.database.session() as session:
                    data = self._read(session, filters, after, limit, lists)
            finally:
                self._paging = False
            if not worker.is_cancelled:
                self.post_from_worker(AgencyLoaded(data))
        self.run_worker(read, thread=True, exclusive=True, exit_on_error=False,
                        group="agency-" + "-".join(sorted(lists)) + ("-more" if after else ""))

    def _read(self, session: Session, filters: WorkerFilters, after: tuple[int, int] | None, limit: int,
              lists: frozenset[str]) -> AgencyData:
        read: dict = {}
        if "workers" in lists:
            page = search_workers(session, self.actor, self.org.id, filters, limit=limit, after=after)
            read.update(workers=page.workers, next_after=page.next_after, append=after is not None)
            if after is None:
                read["total_workers"] = count_workers(session, self.actor, self.org.id)
        if "employers" in lists:
            read["employers"] = list_employers(session, self.actor, self.org.id, limit=100)
        if "placements" in lists:
            placements = list_placements(session, self.actor, self.org.id, limit=200)
            read.update(placements=sorted(placements, key=lambda p: (_stage_order(p.status), -p.id)),
                        counts=placement_counts(session, self.actor, self.org.id),
                        owed_minor=agency_report(session, self.actor, self.org.id).total.owed_minor)
        if "unlocks" in lists:
            read["unlocks"] = list_unlocks(session, self.actor, self.org.id, limit=100)
        return AgencyData(self.org.id, **read)

    def worker_row(self, w: WorkerView) -> Row:
        p = self.present
        return Row(w.id, (w.name, p.phone(w.phone), w.age or "", w.location, w.experience_years,
                          Cell(p.money(w.expected_salary_minor), w.expected_salary_minor),
                          w.accommodation.replace("_", " "), w.availability.replace("_", " "),
                          w.verification_status, w.background_check, ", ".join(w.skills)), data=w)

    def on_agency_loaded(self, message: AgencyLoaded) -> None:
        data = message.data
        if data.org_id != self.org.id:
            return
        workers = self.table("workers")
        before = self.agency or AgencyData(self.org.id, workers=[], employers=[], placements=[], counts={},
                                           owed_minor=0, unlocks=[], total_workers=0)
        read = {k: v for k, v in data.__dict__.items() if v is not None and k not in ("append", "next_after")}
        if data.workers is not None:
            read["next_after"] = data.next_after
            if data.append:
                read["workers"] = (before.workers or []) + data.workers
        self.agency = AgencyData(**{**before.__dict__, **read, "append": False})
        if data.workers is not None:
            if data.append:
                workers.append(self.worker_row(w) for w in data.workers)
            else:
                workers.reload(self.worker_row(w) for w in data.workers)
        self._fill_rest(data)
        total = self.agency.total_workers or 0
        self.query_one("#worker-count", Static).update(literal(
            f"{len(workers.records):,} shown of {total:,}" + (" (more below)" if self.agency and
                                                              self.agency.next_after else "")))

    def _fill_rest(self, data: AgencyData) -> None:
        """Show the lists this read brought (the others stay as they were)."""
        p = self.present
        if data.employers is not None:
            self.table("employers").reload(
                Row(e.id, (e.name, e.household_name, p.phone(e.phone), e.location, e.credits_left), data=e)
                for e in data.employers)
        if data.placements is not None:
            self._fill_placements(data)
        if data.unlocks is not None:
            self.table("unlocks").reload(
                Row(u.id, (Cell(p.time(u.unlocked_at, "%d %b %Y %H:%M"), u.unlocked_at), u.employer_name,
                           u.worker_name, u.unlocked_by), data=u) for u in data.unlocks)

    def _fill_placements(self, data: AgencyData) -> None:
        p = self.present
        self.table("placements").reload(
            Row(x.id, (x.status, x.worker_name, x.employer_name, Cell(p.date(x.start_date), x.start_date),
                       Cell(p.money(x.fee_minor), x.fee_minor), Cell(p.money(x.commission_minor), x.commission_minor),
                       Cell(p.money(x.owed_minor), x.owed_minor)), data=x) for x in data.placements)
        self.query_one("#placement-board", Static).update(literal(
            "Placements: " + " · ".join(f"{data.counts.get(s, 0)} {s}" for s in BOARD_ORDER)))
        self.query_one("#fees-owed", Static).update(literal(f"Fees and commission owed: {p.money(data.owed_minor)}"))

    # ------------------------------------------------------------ search and paging

    @on(Input.Submitted, "#filter-location, #filter-skill")
    @on(Select.Changed, "#filter-accommodation, #filter-availability")
    def _filters_changed(self) -> None:
        def chosen(selector: str) -> str | None:
            value = self.query_one(selector, Select).value
            return value if isinstance(value, str) else None

        skill = self.query_one("#filter-skill", Input).value.strip()
        availability = chosen("#filter-availability")
        self.filters = WorkerFilters(location=self.query_one("#filter-location", Input).value.strip() or None,
                                     skills=(skill,) if skill else (), accommodation=chosen("#filter-accommodation"),
                                     availability=(availability,) if availability else (), text=self.filters.text)
        self.load_agency(self.filters, None)

    @on(OfisiTable.SearchChanged, "#agency-workers")
    def _search_workers(self, event: OfisiTable.SearchChanged) -> None:
        self.filters = WorkerFilters(**{**self.filters.__dict__, "text": event.text})
        self.load_agency(self.filters, None)

    @on(OfisiTable.NearEnd, "#agency-workers")
    def _near_the_end(self) -> None:
        if self.agency is not None and self.agency.next_after is not None and not self._paging:
            self._paging = True
            self.load_agency(self.filters, self.agency.next_after)

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.refresh_bindings()

    def action_tab(self, tab: str) -> None:
        self.query_one("#agency-tabs", TabbedContent).active = tab
        self.table(tab.removeprefix("tab-")).focus()

    def active_tab(self) -> str:
        return self.query_one("#agency-tabs", TabbedContent).active

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        tabbed = {key for keys in TAB_KEYS.values() for key in keys}
        if action in tabbed:
            try:
                here = self.active_tab()
            except Exception:
                here = "tab-workers"
            if action not in TAB_KEYS.get(here, set()):
                return False
        if action in ("verify", "cleared", "flag", "add", "edit", "propose", "place", "end", "dispute", "match"):
            return self.may("agency.write")
        if action == "unlock":
            return self.may("agency.unlock")
        if action in ("sell", "payment", "refund", "resolve"):
            return self.may("agency.money")
        if action == "sms":
            return self.may("messages.send")
        return super().check_action(action, parameters)

    # ------------------------------------------------------------ the record under the cursor

    def _selected(self, name: str):
        row = self.table(name).selected_row
        return None if row is None else row.data

    def worker(self) -> WorkerView | None:
        return self._selected("workers")

    def employer(self) -> EmployerView | None:
        return self._selected("employers")

    def placement(self) -> PlacementView | None:
        return self._selected("placements")

    def write(self, change: Callable[[Session], str], *lists: str) -> None:
        """Run ``change`` in a thread worker; its text becomes the notice, then the ``lists`` it changed
        (of :data:`TABS`, or ``messages``) are read again."""
        self._write(change, frozenset(lists))

    def ask_first(self, title: str, details: list[str], label: str, then: Callable[[], None]) -> None:
        """Confirm before a write of money: ``title`` names the record and the amount."""
        self.app.push_screen(Confirm(title, details, confirm_label=label), callback=lambda yes: then() if yes else None)

    def amount(self, text: str) -> int | None:
        """What the person typed, in minor units; an unreadable amount is a notice saying how to write it."""
        from config.errors import OfisiError

        try:
            return parse_money(text or "0", self.org.currency)
        except OfisiError as refused:
            self.app.report_failure(refused)
            return None

    @work(thread=True, group="agency-write", exit_on_error=False)
    def _write(self, change: Callable[[Session], str], lists: frozenset[str]) -> None:
        with self.database.session() as session:
            text = change(session)
        self.post_from_worker(AgencyChanged(text, lists))

    def on_agency_changed(self, message: AgencyChanged) -> None:
        from console.agency.screen import AgencyScreen

        self.notify(message.text)
        self.reload_lists(message.lists)
        for screen in self.app.screen_stack:  # a list opened over the home (the disputes) shows the change too
            if isinstance(screen, AgencyScreen):
                screen.org_data_changed()

    # ------------------------------------------------------------ workers

    def action_verify(self) -> None:
        from core.agency.workers import set_verification

        if (w := self.worker()) is not None:
            self.write(lambda s: f"{set_verification(s, self.actor, self.org.id, w.id, 'verified').name} is verified.",
                       "workers")

    def action_cleared(self) -> None:
        if (w := self.worker()) is not None:
            self._check(w, "cleared", "")

    def action_flag(self) -> None:
        if (w := self.worker()) is None:
            return
        self.app.push_screen(AskText(f"Flag {self.present.person(w.name, w.phone)}: what did the check find?",
                                     placeholder="What the check found"),
                             callback=lambda notes: notes and self._check(w, "flagged", notes))

    def _check(self, w: WorkerView, result: str, notes: str) -> None:
        from core.agency.workers import record_background_check

        def change(s: Session) -> str:
            done = record_background_check(s, self.actor, self.org.id, w.id, result, notes=notes)
            return f"{done.name}: background check {done.background_check}."
        self.write(change, "workers")

    def action_sms(self) -> None:
        from core.agency.employers import sms_employer
        from core.agency.workers import sms_worker

        if self.active_tab() == "tab-placements":
            self._invite()
            return
        if self.active_tab() == "tab-employers":
            record, send = self.employer(), sms_employer
        else:
            record, send = self.worker(), sms_worker
        if record is None:
            return
        who = self.present.person(record.name, record.phone)

        def sent(text: str | None) -> None:
            if text:
                self.write(lambda s: f"SMS to {record.name} queued (message "
                                     f"{send(s, self.actor, self.org.id, record.id, text)}).", "messages")
        self.app.push_screen(AskText(f"SMS to {who}", placeholder="Message", confirm_label="Send"), callback=sent)

    def _invite(self) -> None:
        """On a proposal, ``s`` texts the worker that an employer is interested; her YES or NO answers it."""
        from core.agency.inbox import invite_worker

        if (x := self.placement()) is None:
            return
        if x.status != "proposed":
            self.notify(f"Only a proposal is sent to the worker; {x.worker_name} at {x.employer_name} is {x.status}.",
                        severity="warning", markup=False)
            return
        self.app.push_screen(Confirm(
            f"Text {x.worker_name} that {x.employer_name} is interested?",
            ["She is told an employer is interested (no names, no numbers) and asked to reply YES for an "
             "interview or NO.", "YES moves the proposal to interview; NO ends it."], confirm_label="Send"),
            callback=lambda yes: yes and self.write(
                lambda s: f"{x.worker_name} is invited (message {invite_worker(s, self.actor, self.org.id, x.id)}).",
                "messages"))

    def action_add(self) -> None:
        if self.active_tab() == "tab-employers":
            self.app.push_screen(FormDialog("Add an employer", [
                Field("name", "Name", required=True), Field("phone", "Phone", placeholder="0712 345678"),
                Field("email", "Email"), Field("household_name", "Household"), Field("location", "Town"),
                Field("requirements", "What they need")]), callback=self._add_employer)
        else:
            self.app.push_screen(FormDialog("Add a worker", [
                Field("name", "Name", required=True), Field("phone", "Phone", placeholder="0712 345678"),
                Field("location", "Town"), Field("skills", "Skills", placeholder="cooking, childcare"),
                Field("experience", "Years of experience", value="0"),
                Field("salary", "Expected salary", placeholder=f"{self.org.currency} a month"),
                Field("accommodation", "Accommodation", value="either", options=ACCOMMODATION),
                Field("availability", "Availability", value="immediate", options=AVAILABILITY)]),
                callback=self._add_worker)

    def _add_worker(self, values: dict | None) -> None:
        from core.agency.workers import WorkerInput, add_worker

        if not values:
            return

        def change(s: Session) -> str:
            data = WorkerInput(
                name=values["name"], phone=values["phone"] or None, location=values["location"],
                skills=[k.strip() for k in values["skills"].split(",") if k.strip()],
                experience_years=int(values["experience"] or 0) if values["experience"].isdigit() else 0,
                expected_salary_minor=parse_money(values["salary"], self.org.currency) if values["salary"] else None,
                accommodation=values["accommodation"] or "either", availability=values["availability"] or "immediate")
            return f"{add_worker(s, self.actor, self.org.id, data).name} is on the books."
        self.write(change, "workers")

    def _add_employer(self, values: dict | None) -> None:
        from core.agency.employers import EmployerInput, add_employer

        if not values:
            return
        data = EmployerInput(**{**values, "phone": values["phone"] or None, "email": values["email"] or None})
        self.write(lambda s: f"{add_employer(s, self.actor, self.org.id, data).name} is a client now.", "employers")

    def action_edit(self) -> None:
        if self.active_tab() == "tab-employers":
            if (e := self.employer()) is not None:
                self.app.push_screen(FormDialog(f"Edit {self.present.person(e.name, e.phone)}", [
                    Field("name", "Name", e.name, required=True),
                    Field("phone", "New phone", placeholder="leave empty to keep the number"),
                    Field("household_name", "Household", e.household_name), Field("location", "Town", e.location),
                    Field("requirements", "What they need", e.requirements)]),
                    callback=lambda values: values and self._edit_employer(e, values))
            return
        if (w := self.worker()) is None:
            return
        self.app.push_screen(FormDialog(f"Edit {self.present.person(w.name, w.phone)}", [
            Field("name", "Name", w.name, required=True),
            Field("phone", "New phone", placeholder="leave empty to keep the number"),
            Field("location", "Town", w.location), Field("skills", "Skills", ", ".join(w.skills)),
            Field("experience_years", "Years of experience", str(w.experience_years)),
            Field("salary", "Expected salary", self.present.money(w.expected_salary_minor).split(" ")[-1]
                  if w.expected_salary_minor is not None else ""),
            Field("accommodation", "Accommodation", w.accommodation, options=ACCOMMODATION),
            Field("availability", "Availability", w.availability, options=AVAILABILITY)]),
            callback=lambda values: values and self._edit_worker(w, values))

    @on(OfisiTable.RowSelected, "#agency-workers, #agency-employers")
    def _row_chosen(self) -> None:
        if self.check_action("edit", ()):
            self.action_edit()

    def _edit_worker(self, w: WorkerView, values: dict) -> None:
        from core.agency.workers import update_worker

        def change(s: Session) -> str:
            salary = values.pop("salary")
            wanted = {**values, "expected_salary_minor": parse_money(salary, self.org.currency) if salary else None,
                      "experience_years": int(values["experience_years"] or 0)}
            current = {"name": w.name, "location": w.location, "skills": ", ".join(w.skills),
                       "experience_years": w.experience_years, "expected_salary_minor": w.expected_salary_minor,
                       "accommodation": w.accommodation, "availability": w.availability}
            changes = {k: v for k, v in wanted.items() if k != "phone" and v != current.get(k)}
            if wanted["phone"]:
                changes["phone"] = wanted["phone"]
            if not changes:
                return f"Nothing changed for {w.name}."
            done = update_worker(s, self.actor, self.org.id, w.id, changes)
            return f"{done.name} updated ({', '.join(sorted(changes))})." + "".join(f" {n}" for n in done.notices)
        self.write(change, "workers", *(NAMED_IN if values["name"] != w.name else ()))

    def _edit_employer(self, e: EmployerView, values: dict) -> None:
        from core.agency.employers import update_employer

        def change(s: Session) -> str:
            changes = {k: v for k, v in values.items() if k != "phone" and v != getattr(e, k)}
            if values["phone"]:
                changes["phone"] = values["phone"]
            if not changes:
                return f"Nothing changed for {e.name}."
            done = update_employer(s, self.actor, self.org.id, e.id, changes)
            return f"{done.name} updated ({', '.join(sorted(changes))})." + "".join(f" {n}" for n in done.notices)
        self.write(change, "employers", *(NAMED_IN if values["name"] != e.name else ()))

    def _pick_employer(self, title: str, question: str, then: Callable[[int], None]) -> None:
        employers = self.agency.employers if self.agency else []
        if not employers:
            self.notify("No employers yet: add one on the Employers tab (a).", severity="warning")
            return
        options = [(f"{e.name} ({e.household_name})" if e.household_name else e.name, str(e.id)) for e in employers]
        self.app.push_screen(ChooseDialog(title, question, options),
                             callback=lambda chosen: chosen and then(int(chosen)))

    def action_unlock(self) -> None:
        if (w := self.worker()) is not None:
            self._pick_employer(f"Unlock {self.present.person(w.name, w.phone)}",
                                "For which employer? It uses one of their contact credits.",
                                lambda employer_id: self._unlock(w, employer_id))

    @work(thread=True, group="agency-write", exit_on_error=False)
    def _unlock(self, w: WorkerView, employer_id: int) -> None:
        """Unlock, then show the number (the reveal is audited) and offer to text it to the employer."""
        from core.agency.commerce import reveal_phone, unlock_contact

        with self.database.session() as session:
            result = unlock_contact(session, self.actor, self.org.id, employer_id=employer_id, worker_id=w.id)
            number = reveal_phone(session, self.actor, self.org.id, employer_id=employer_id, worker_id=w.id)
        employer = next((e for e in (self.agency.employers if self.agency else []) if e.id == employer_id), None)
        name = employer.name if employer else f"employer {employer_id}"
        charged = "One credit used" if result.charged else "Already unlocked: nothing charged"
        self.app.call_from_thread(self.app.push_screen, Confirm(
            f"{w.name}'s number, unlocked for {name}",
            [self.present.phone(number, unlocked=True), f"{charged}; {name} has {result.credits_left} left.",
             f"Text it to {name} now?"], confirm_label=f"Text it to {name}"),
            lambda yes: self._text_unlocked(w, employer_id, name) if yes else None)
        self.post_from_worker(AgencyChanged(f"{w.name}'s number is unlocked for {name}; the Unlocks tab lists it.",
                                            frozenset({"employers", "unlocks"})))

    def _text_unlocked(self, w: WorkerView, employer_id: int, name: str) -> None:
        from core.agency.commerce import sms_unlocked_contact

        def change(s: Session) -> str:
            sent = sms_unlocked_contact(s, self.actor, self.org.id, employer_id=employer_id, worker_id=w.id)
            return f"{w.name}'s number is texted to {name} (message {sent})."
        self.write(change, "messages")

    def action_propose(self) -> None:
        if (w := self.worker()) is not None:
            self._pick_employer(f"Propose {self.present.person(w.name, w.phone)}", "To which employer?",
                                lambda employer_id: self.propose(w, employer_id))

    def propose(self, w: WorkerView, employer_id: int) -> None:
        """Ask the fee and commission, then propose ``w`` to the employer (a placement at its first stage)."""
        from core.agency.placements import add_placement

        def fee(values: dict | None) -> None:
            if not values:
                return

            def change(s: Session) -> str:
                placement = add_placement(s, self.actor, self.org.id, worker_id=w.id, employer_id=employer_id,
                                          fee_minor=parse_money(values["fee"] or "0", self.org.currency),
                                          commission_minor=parse_money(values["commission"] or "0",
                                                                       self.org.currency))
                return (f"{w.name} proposed to {placement.employer_name} (placement {placement.id}, fee "
                        f"{self.present.money(placement.fee_minor)}).")
            self.write(change, "placements")
        employer = next((e for e in (self.agency.employers if self.agency else []) if e.id == employer_id), None)
        self.app.push_screen(FormDialog(
            f"Propose {self.present.person(w.name, w.phone)}" + (f" to {employer.name}" if employer else ""), [
                Field("fee", "Placement fee", value="0", placeholder=self.org.currency),
                Field("commission", "Commission", value="0", placeholder=self.org.currency)],
            confirm_label="Propose"), callback=fee)

    def action_match(self) -> None:
        from console.agency.matching import MatchScreen, requirements_form, requirements_of
        from config.errors import OfisiError

        if (e := self.employer()) is None:
            return

        def ranked(values: dict) -> None:
            try:
                wanted = requirements_of(values, self.org.currency)
            except OfisiError as refused:
                self.app.report_failure(refused)
                return
            self.app.push_screen(MatchScreen(self.database, self.actor, self.org, e, wanted),
                                 callback=lambda w: w and self.propose(w, e.id))
        self.app.push_screen(requirements_form(self.present.person(e.name, e.phone), e, self.org.currency),
                             callback=lambda values: values and ranked(values))

    def action_subscriptions(self) -> None:
        from console.agency.subscriptions import SubscriptionsScreen

        self.app.push_screen(SubscriptionsScreen(self.database, self.actor, self.org, self.membership.role))

    def action_disputes(self) -> None:
        from console.agency.disputes import DisputesScreen

        self.app.push_screen(DisputesScreen(self.database, self.actor, self.org, self.membership.role,
                                            self.resolve_form))

    def action_inbox(self) -> None:
        from console.agency.inbox import InboxScreen

        self.app.push_screen(InboxScreen(self.database, self.actor, self.org))

    def action_report(self) -> None:
        from console.agency.report import ReportScreen

        self.app.push_screen(ReportScreen(self.database, self.actor, self.org))

    def action_documents(self) -> None:
        if (w := self.worker()) is not None:
            self._documents(w)

    @work(thread=True, group="agency-read", exit_on_error=False)
    def _documents(self, w: WorkerView) -> None:
        from core.agency.files import list_files, verify_file

        with self.database.session() as session:
            files = list_files(session, self.actor, self.org.id, w.id)
        lines = [f"{f.kind}: {f.title or f.path or f.legacy_path} — "
                 f"{'intact' if verify_file(f) else 'missing or changed'}" for f in files]
        self.app.call_from_thread(self.app.push_screen, Confirm(
            f"Documents of {self.present.person(w.name, w.phone)}", lines or ["No documents stored."],
            confirm_label="OK"))

    # ------------------------------------------------------------ employers

    def action_sell(self) -> None:
        if (e := self.employer()) is not None:
            self._sell(e)

    @work(thread=True, group="agency-read", exit_on_error=False)
    def _sell(self, e: EmployerView) -> None:
        from core.agency.commerce import list_packages, list_purchases

        with self.database.session() as session:
            packages = {p.id: p for p in list_packages(session, self.actor, self.org.id, include_retired=True)}
            waiting = list_purchases(session, self.actor, self.org.id, employer_id=e.id, status="pending")
        money = self.present.money
        # A purchase already made and not yet paid (its M-Pesa prompt failed, or it came from the old
        # system) is offered first: marking it paid gives its credits, with no second purchase.
        options = [(f"Awaiting payment: {packages[b.package_id].name}, {money(b.amount_minor)} (purchase {b.id})",
                    f"purchase-{b.id}") for b in waiting]
        options += [(f"{p.name}: {p.contacts_included} contacts, {money(p.price_minor)}", str(p.id))
                    for p in packages.values() if not p.retired]
        if not options:
            self.app.call_from_thread(self.notify, "No contact packages yet: k opens them, a adds one.",
                                      severity="warning")
            return
        fields = [Field("package", "Package", value=options[0][1], options=options),
                  Field("paid_by", "Paid", value="receipt", options=PAID_BY),
                  Field("reference", "Receipt reference (M-Pesa code)")]
        self.app.call_from_thread(self.app.push_screen, FormDialog(
            f"Sell a package to {self.present.person(e.name, e.phone)}", fields, confirm_label="Sell",
            note="A receipt gives the credits now; an M-Pesa prompt, once it is paid."),
            lambda values: values and self._sold(e, values["package"], packages, waiting, values))

    def _sold(self, e: EmployerView, chosen: str, packages: dict, waiting: list, values: dict) -> None:
        from console.agency.packages import mark_paid, sell_package

        pending = next((b for b in waiting if f"purchase-{b.id}" == chosen), None)
        package = packages[pending.package_id] if pending else packages[int(chosen)]
        price = self.present.money(pending.amount_minor if pending else package.price_minor)
        if values["paid_by"] == "mpesa":
            self._prompt_mpesa(e, package, pending, price)
            return
        if not (reference := values["reference"].strip()):
            self.notify("Give the receipt reference (the M-Pesa code), or choose the M-Pesa prompt.",
                        severity="warning", markup=False)
            return

        def act(s: Session) -> str:
            if pending:
                return mark_paid(s, self.actor, self.org.id, e, pending.id, reference)
            return sell_package(s, self.actor, self.org.id, e, package.id, reference)
        title = (f"Mark {package.name} for {e.name}, {price}, paid?" if pending else
                 f"Sell {package.name} to {e.name} for {price}, paid?")
        self.ask_first(title, [f"Receipt {reference}.", f"{package.contacts_included} contact credits for {e.name}."],
                       "Mark paid" if pending else "Sell", lambda: self.write(act, "employers"))

    def _prompt_mpesa(self, e: EmployerView, package, pending, price: str) -> None:
        """Ask the employer's phone to pay by M-Pesa (STK push): the purchase (a new one, or the one
        awaiting payment) stays awaiting payment until Daraja's callback gives its credits, once."""
        from core.agency.commerce import buy_package, pay_by_mpesa

        def act(s: Session) -> str:
            purchase_id = pending.id if pending else buy_package(s, self.actor, self.org.id, employer_id=e.id,
                                                                 package_id=package.id).id
            request = pay_by_mpesa(s, self.actor, self.org.id, purchase_id)
            return (f"M-Pesa prompt for {price} sent to {self.present.person(e.name, e.phone)} (purchase "
                    f"{purchase_id}, payment request {request}): awaiting payment; the "
                    f"{package.contacts_included} credits come when M-Pesa confirms it.")
        if not e.phone:
            self.notify(f"{e.name} has no phone on record: w adds one, or sell with a receipt reference.",
                        severity="warning", markup=False)
            return
        self.ask_first(f"Ask {self.present.person(e.name, e.phone)} to pay {price} for {package.name} by M-Pesa?",
                       [f"An M-Pesa prompt goes to {e.name}'s phone.",
                        f"{package.contacts_included} contact credits for {e.name} once it is paid."],
                       "Send prompt", lambda: self.write(act, "employers"))

    # ------------------------------------------------------------ placements

    def _move(self, status: str) -> None:
        from core.agency.placements import move_placement

        if (x := self.placement()) is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.write(lambda s: f"{x.worker_name} at {x.employer_name}: "
                                     f"{move_placement(s, self.actor, self.org.id, x.id, status).status}.",
                           "placements", "workers")
        self.app.push_screen(Confirm(f"{x.worker_name} at {x.employer_name}: {x.status} → {status}?",
                                     [f"Fee {self.present.money(x.fee_minor)}, commission "
                                      f"{self.present.money(x.commission_minor)}, owed {self.present.money(x.owed_minor)}."],
                                     confirm_label=status.capitalize()), callback=confirmed)

    def action_place(self) -> None:
        if (x := self.placement()) is None:
            return
        if (stage := next_stage(x.status)) is None:
            self.notify(f"A {x.status} placement has no next stage; e ends it.", severity="warning")
            return
        self._move(stage)

    def action_end(self) -> None:
        self._move("ended")

    def action_dispute(self) -> None:
        from core.agency.placements import open_dispute

        if (x := self.placement()) is None:
            return
        self.app.push_screen(
            AskText(f"Dispute: {x.worker_name} at {x.employer_name}", "What is the dispute about?"),
            callback=lambda notes: notes and self.write(
                lambda s: f"Dispute {open_dispute(s, self.actor, self.org.id, x.id, notes)} opened.", "placements"))

    def action_resolve(self) -> None:
        if (x := self.placement()) is not None:
            self._open_dispute_of(x)

    @work(thread=True, group="agency-read", exit_on_error=False)
    def _open_dispute_of(self, x: PlacementView) -> None:
        from core.agency.placements import list_disputes
        from core.errors import InvalidInput

        with self.database.session() as session:
            found = [d for d in list_disputes(session, self.actor, self.org.id, open_only=True)
                     if d.placement_id == x.id]
        if not found:
            raise InvalidInput(f"{x.worker_name} at {x.employer_name} has no open dispute; i opens one.")
        self.app.call_from_thread(self.resolve_form, found[0])

    def resolve_form(self, x: DisputeView) -> None:
        """The resolution form for an open dispute (from a placement's ``n`` or the disputes list)."""
        form = FormDialog(f"Resolve the dispute: {x.worker_name} at {x.employer_name}", [
            Field("resolution", "How it was resolved", required=True),
            Field("refund", "Refund to the employer", "0", placeholder=self.org.currency),
            Field("reference", "Refund reference (M-Pesa code or receipt)"),
            Field("end", "The placement", "keep", options=[("goes on", "keep"), ("ends", "end")])],
            note=f"The dispute: {x.notes}", confirm_label="Resolve")
        self.app.push_screen(form, lambda values: values and self._resolve(x, values))

    def _resolve(self, x: DisputeView, values: dict) -> None:
        from core.agency.placements import resolve_dispute

        if (refund := self.amount(values["refund"])) is None:
            return

        def change(s: Session) -> str:
            after = resolve_dispute(s, self.actor, self.org.id, x.id, values["resolution"],
                                    end_placement=values["end"] == "end", refund_minor=refund,
                                    reference=values["reference"] or None)
            return (f"Dispute resolved: {x.worker_name} at {x.employer_name} is {after.status}"
                    + (f"; {self.present.money(refund)} refunded." if refund else "."))
        ends = "The placement ends." if values["end"] == "end" else "The placement goes on."
        self.ask_first(f"Resolve the dispute of {x.worker_name} at {x.employer_name}"
                       + (f", refunding {self.present.money(refund)} to {x.employer_name}?" if refund else "?"),
                       [f"Resolution: {values['resolution']}", f"Reference: {values['reference'] or 'none'}.", ends],
                       "Resolve", lambda: self.write(change, "placements", *(("workers",) if values["end"] == "end"
                                                                             else ())))

    def _money_on_placement(self, what: str, amount_label: str, reference_required: bool,
                            note: Callable[[PlacementView], str],
                            confirm_label: str, record: Callable[[Session, PlacementView, str, int, str], str]) -> None:
        """A form for money on the placement under the cursor (item, amount, reference), then ``record``."""
        if (x := self.placement()) is None:
            return

        def entered(values: dict | None) -> None:
            if not values or (amount := self.amount(values["amount"])) is None:
                return
            item, reference = values["kind"] or "fee", values["reference"]
            self.ask_first(f"{what} of {self.present.money(amount)} ({item}): {x.worker_name} at {x.employer_name}?",
                           [f"Reference: {reference or 'none'}.", note(x)], confirm_label,
                           lambda: self.write(lambda s: record(s, x, item, amount, reference), "placements"))
        self.app.push_screen(FormDialog(f"{what}: {x.worker_name} at {x.employer_name}", [
            Field("kind", "Of", value="fee", options=[("fee", "fee"), ("commission", "commission")]),
            Field("amount", amount_label, required=True, placeholder=self.org.currency),
            Field("reference", "Reference (M-Pesa code or receipt)", required=reference_required)],
            note=note(x), confirm_label=confirm_label), callback=entered)

    def action_payment(self) -> None:
        from core.agency.placements import record_payment

        def record(s: Session, x: PlacementView, item: str, amount: int, reference: str) -> str:
            after = record_payment(s, self.actor, self.org.id, x.id, kind=item, amount_minor=amount,
                                   reference=reference)
            return (f"{self.present.money(amount)} {item} from {x.employer_name} recorded; "
                    f"{self.present.money(after.owed_minor)} still owed.")
        self._money_on_placement("Payment", "Amount", True, lambda x: f"Owed now: {self.present.money(x.owed_minor)}",
                                 "Record", record)

    def action_refund(self) -> None:
        from core.agency.placements import record_refund

        def record(s: Session, x: PlacementView, item: str, amount: int, reference: str) -> str:
            after = record_refund(s, self.actor, self.org.id, x.id, amount_minor=amount, item=item,
                                  reference=reference or None)
            return (f"{self.present.money(amount)} refunded to {x.employer_name}; "
                    f"{self.present.money(after.refunded_minor)} refunded on this placement in all.")
        money = self.present.money
        self._money_on_placement("Refund", "Amount given back", False,
                                 lambda x: f"Paid so far: {money(x.fee_paid_minor)} fee, "
                                           f"{money(x.commission_paid_minor)} commission.", "Record refund", record)

    # ------------------------------------------------------------ packages

    def action_packages(self) -> None:
        self.app.push_screen(PackagesScreen(self.database, self.actor, self.org, self.membership.role))
