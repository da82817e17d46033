"""The chama office: the pool and arrears at a glance, the contributions chart,
loans awaiting approval, members with their statements, recording a payment,
meetings and the share-out preview.

Every figure comes from ``core.chama`` services in thread workers; a refusal
(the same official approving twice, a payment to an exited member) arrives as
a notice. New contributions from M-Pesa reach the open screen through the
app's change watcher (``org_data_changed``), which reloads these panels too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Label, SelectionList, Sparkline, Static, TextArea

from console.base import AskText, ConsoleModal, ConsoleScreen
from console.widgets.table import LiteralTable
from console.widgets.text import literal
from console.home import ChamaHome, register_home
from core.actors import Actor
from core.chama import ledger, loans, meetings, shareout, statements
from core.chama.ledger import MemberBalances
from core.chama.loans import LoanView
from core.chama.meetings import MeetingView
from core.chama.members import MemberView, find_member, list_members, update_member
from core.chama.statements import PeriodTotal, Position
from core.errors import InvalidInput
from core.money import format_money, parse_money
from core.orgs import OrgView
from db.engine import Database

MEMBERS_PAGE = 50


@dataclass(frozen=True)
class ChamaData:
    position: Position
    months: list[PeriodTotal]
    queue: list[LoanView]


class ChamaLoaded(Message):
    def __init__(self, data: ChamaData) -> None:
        super().__init__()
        self.data = data


def position_lines(p: Position) -> str:
    money = lambda minor: format_money(minor, p.currency)  # noqa: E731
    lines = [
        f"Pool (cash at hand): {money(p.pool_minor)}",
        f"Members' savings: {money(p.savings_minor)} · {p.active_members} active members",
        f"Loans out: {money(p.loans_out_minor)} · interest owed {money(p.interest_owed_minor)}",
        f"Fines owed: {money(p.fines_owed_minor)} · earned so far {money(p.earnings_minor)}",
        f"Arrears: {money(p.arrears_minor)} from {p.members_in_arrears} member"
        f"{'' if p.members_in_arrears == 1 else 's'}",
        f"Waiting for approval: {p.loans_awaiting_approval} loan(s), {p.payouts_awaiting_approval} payout(s)",
    ]
    return "\n".join(lines)


@register_home
class ChamaOffice(ChamaHome):
    """The chama home with its money panels."""

    KIND: ClassVar[str] = "chama"
    DESCRIPTION = "The pool, arrears and approvals; members, statements, meetings and the share-out."

    BINDINGS = [
        Binding("p", "record_payment", "Record payment", id="record-payment",
                tooltip="Record a contribution paid in cash or to the chama's account."),
        Binding("v", "approve_loan", "Approve loan", id="approve-loan",
                tooltip="Approve the loan highlighted in the approvals queue, as yourself."),
        Binding("x", "reject_loan", "Reject loan", id="reject-loan",
                tooltip="Reject the highlighted loan, with a reason the member is told."),
        Binding("b", "members", "Members", id="members", tooltip="Find members and read their statements."),
        Binding("g", "meetings", "Meetings", id="meetings",
                tooltip="Schedule meetings, take attendance and keep minutes."),
        Binding("o", "shareout", "Share-out", id="shareout",
                tooltip="Preview the end-of-cycle share-out: savings plus each member's share of earnings."),
    ]

    def compose_panels(self) -> ComposeResult:
        with Horizontal(id="chama-panels"):
            with Vertical(id="position-pane", classes="pane"):
                yield Label("The pool", classes="pane-title")
                yield Static("", id="chama-position", markup=False)
                yield Label("Contributions, last 12 months", classes="pane-title")
                yield Sparkline([], id="contributions-chart")
                yield Static("", id="contributions-range", markup=False)
            with Vertical(id="loan-queue-pane", classes="pane"):
                yield Label("Loans awaiting approval (v approve · x reject)", classes="pane-title")
                yield LiteralTable(id="loan-queue", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        # Textual runs HomeScreen.on_mount as well (handlers run for each class in the MRO).
        queue = self.query_one("#loan-queue", DataTable)
        for label in ("Member", "Amount", "Months", "Purpose", "Approvals"):
            queue.add_column(label, key=label.lower())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "record_payment":
            return self.may("chama.money")
        if action in ("approve_loan", "reject_loan"):
            return self.may("chama.approve")
        if action == "meetings":
            return self.may("chama.read")
        return super().check_action(action, parameters)

    def action_refresh(self) -> None:
        super().action_refresh()
        self.load_chama()

    @work(thread=True, exclusive=True, group="chama", exit_on_error=False)
    def load_chama(self) -> None:
        with self.database.session() as session:
            data = ChamaData(statements.chama_position(session, self.actor, self.org.id),
                             statements.contributions_by_month(session, self.actor, self.org.id),
                             loans.list_loans(session, self.actor, self.org.id, status="requested"))
        self.post_from_worker(ChamaLoaded(data))

    def on_chama_loaded(self, message: ChamaLoaded) -> None:
        data = message.data
        self.query_one("#chama-position", Static).update(position_lines(data.position))
        totals = [m.contributions_minor for m in data.months]
        self.query_one("#contributions-chart", Sparkline).data = totals
        if data.months:
            best = max(data.months, key=lambda m: m.contributions_minor)
            self.query_one("#contributions-range", Static).update(
                f"{data.months[0].period} to {data.months[-1].period}; best month {best.period} "
                f"({format_money(best.contributions_minor, data.position.currency)}), "
                f"this month {format_money(totals[-1], data.position.currency)}")
        queue = self.query_one("#loan-queue", DataTable)
        queue.clear()
        for loan in data.queue:
            queue.add_row(f"{loan.member_name} ({loan.member_number})",
                          format_money(loan.principal_minor, loan.currency), str(loan.months),
                          loan.purpose or "—", f"{len(loan.approvals)} of {loan.approvals_required}",
                          key=str(loan.id))

    # ------------------------------------------------------------ loans

    def _highlighted_loan(self) -> int | None:
        queue = self.query_one("#loan-queue", DataTable)
        if not queue.row_count:
            self.notify("No loan is waiting for approval.", markup=False)
            return None
        return int(queue.coordinate_to_cell_key((queue.cursor_row, 0)).row_key.value or 0)

    def action_approve_loan(self) -> None:
        loan_id = self._highlighted_loan()
        if loan_id is not None:
            self.decide_loan(loan_id, None)

    def action_reject_loan(self) -> None:
        loan_id = self._highlighted_loan()
        if loan_id is not None:
            self.app.push_screen(AskText(self.database, "Why is this loan rejected? The member is told."),
                                 callback=lambda reason: reason and self.decide_loan(loan_id, reason))

    @work(thread=True, group="loan-decision", exit_on_error=False)
    def decide_loan(self, loan_id: int, reason: str | None) -> None:
        with self.database.session() as session:
            if reason is None:
                loan = loans.approve_loan(session, self.actor, self.org.id, loan_id)
            else:
                loan = loans.reject_loan(session, self.actor, self.org.id, loan_id, reason=reason)
        self.app.call_from_thread(self.notify, f"Loan {loan.id} for {loan.member_name}: {loan.status} "
                                  f"({len(loan.approvals)} of {loan.approvals_required} approvals).", markup=False)
        self.app.call_from_thread(self.load_chama)

    # ------------------------------------------------------------ other screens

    def action_record_payment(self) -> None:
        self.app.push_screen(RecordPaymentModal(self.database, self.actor, self.org),
                             callback=lambda done: done and self.action_refresh())

    def action_members(self) -> None:
        self.app.push_screen(MembersScreen(self.database, self.actor, self.org))

    def action_meetings(self) -> None:
        self.app.push_screen(MeetingsScreen(self.database, self.actor, self.org, self.may("chama.meetings")))

    def action_shareout(self) -> None:
        self.app.push_screen(ShareoutModal(self.database, self.actor, self.org))


class OrgModal(ConsoleModal):
    """A dialog about the open org; escape closes it with None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, database: Database, actor: Actor, org: OrgView) -> None:
        super().__init__(database)
        self.actor, self.org = actor, org

    def action_cancel(self) -> None:
        self.dismiss(None)


class RecordPaymentModal(OrgModal):
    """A contribution paid in cash or to the chama's account: who, how much, the reference."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="payment-form"):
            yield Label(literal(f"Record a contribution to {self.org.name}"), classes="form-title")
            yield Label("Member (member number or phone)")
            yield Input(id="payment-member")
            yield Label(f"Amount in {self.org.currency}")
            yield Input(id="payment-amount")
            yield Label("Reference (receipt or bank slip number)")
            yield Input(id="payment-reference")
            with Horizontal(classes="buttons"):
                yield Button("Record", id="save-payment", variant="primary")
                yield Button("Cancel", id="cancel-payment")

    def on_mount(self) -> None:
        self.query_one("#payment-member", Input).focus()

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        if event.input.id == "payment-reference":
            self._save()
        else:
            self.focus_next()

    @on(Button.Pressed, "#save-payment")
    def _save(self) -> None:
        self.record(self.query_one("#payment-member", Input).value, self.query_one("#payment-amount", Input).value,
                    self.query_one("#payment-reference", Input).value)

    @work(thread=True, exclusive=True, group="record-payment", exit_on_error=False)
    def record(self, who: str, amount: str, reference: str) -> None:
        if not reference.strip():
            raise InvalidInput("Give the receipt or slip number, so the same payment is never recorded twice.")
        with self.database.session() as session:
            member = find_member(session, self.actor, self.org.id, who)
            entry = ledger.record_contribution(session, self.actor, self.org.id, member.id,
                                               parse_money(amount, self.org.currency), source="cash",
                                               reference=reference.strip())
        amount_text = format_money(entry.amount_minor, self.org.currency)
        # A slip reference already on the books writes nothing: say so, as the CLI does.
        said = (f"Already recorded as entry {entry.id} ({amount_text} from {member.name}); nothing new was written."
                if entry.replayed else f"{amount_text} from {member.name} recorded as entry {entry.id}.")
        self.app.call_from_thread(self.notify, said, severity="warning" if entry.replayed else "information",
                                  markup=False)
        self.app.call_from_thread(self.dismiss, True)

    @on(Button.Pressed, "#cancel-payment")
    def _cancel(self) -> None:
        self.dismiss(None)


class MemberChanged(Message):
    def __init__(self, member: MemberView) -> None:
        super().__init__()
        self.member = member


class MembersLoaded(Message):
    def __init__(self, members: list[MemberView], balances: dict[int, MemberBalances], more: bool,
                 first_page: bool) -> None:
        super().__init__()
        self.members, self.balances, self.more, self.first_page = members, balances, more, first_page


def sms_cell(member: MemberView) -> str:
    return "off" if member.sms_opt_out else "on"


class MembersScreen(ConsoleScreen):
    """Members, searched and paged in the core; Enter opens the member's statement; ``s``
    switches the highlighted member's reminder SMS off or on (the same record as their
    STOP and START)."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("slash", "search", "Search", tooltip="Find a member by name, phone or number."),
        Binding("m", "more", "More members", tooltip="Read the next page of members."),
        Binding("s", "toggle_sms", "SMS on/off", tooltip="Stop or restart the highlighted member's SMS."),
    ]

    def __init__(self, database: Database, actor: Actor, org: OrgView) -> None:
        super().__init__(database)
        self.actor, self.org = actor, org
        self.more = False
        self.search = ""
        self.shown: dict[str, MemberView] = {}  # the rows' members, by row key

    def compose_body(self) -> ComposeResult:
        with Vertical(id="members-page"):
            yield Input(placeholder="Search by name, phone or member number, then Enter", id="member-search")
            yield LiteralTable(id="members", cursor_type="row", zebra_stripes=True)
            yield Static("", id="members-status", markup=False)

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Members"
        table = self.query_one("#members", DataTable)
        for label in ("No.", "Name", "Phone", "Role", "Status", "SMS", "Savings", "Loan", "Fines"):
            table.add_column(label, key=label.lower())
        table.focus()
        self.load_page(None)

    def action_search(self) -> None:
        self.query_one("#member-search", Input).focus()

    @on(Input.Submitted, "#member-search")
    def _search(self, event: Input.Submitted) -> None:
        self.search = event.value
        self.load_page(None)
        self.query_one("#members", DataTable).focus()

    def action_more(self) -> None:
        table = self.query_one("#members", DataTable)
        if self.more and table.row_count:
            last = table.coordinate_to_cell_key((table.row_count - 1, 0)).row_key.value
            self.load_page(int(last or 0))

    @work(thread=True, exclusive=True, group="members", exit_on_error=False)
    def load_page(self, after_id: int | None) -> None:
        with self.database.session() as session:
            rows = list_members(session, self.actor, self.org.id, search=self.search, after_id=after_id,
                                limit=MEMBERS_PAGE + 1)
            page = rows[:MEMBERS_PAGE]
            balances = ledger.balances_of_members(session, self.actor, self.org.id, [m.id for m in page])
        self.post_from_worker(MembersLoaded(page, balances, len(rows) > MEMBERS_PAGE, after_id is None))

    def on_members_loaded(self, message: MembersLoaded) -> None:
        table = self.query_one("#members", DataTable)
        if message.first_page:
            table.clear()
            self.shown.clear()
        money = lambda minor: format_money(minor, self.org.currency)  # noqa: E731
        for m in message.members:
            b = message.balances[m.id]
            self.shown[str(m.id)] = m
            table.add_row(m.member_number, m.name, m.phone, m.role, m.status, sms_cell(m), money(b.savings_minor),
                          money(b.loan_outstanding_minor), money(b.fines_owed_minor), key=str(m.id))
        self.more = message.more
        self.query_one("#members-status", Static).update(literal(
            f"{table.row_count} member(s) shown" + (" — m for more" if self.more else "")
            + (f" matching “{self.search.strip()}”" if self.search.strip() else "")))

    def action_toggle_sms(self) -> None:
        table = self.query_one("#members", DataTable)
        if not table.row_count:
            return
        member = self.shown.get(str(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value))
        if member is not None:
            self.switch_sms(member.id, not member.sms_opt_out)

    @work(thread=True, exclusive=True, group="member-sms", exit_on_error=False)
    def switch_sms(self, member_id: int, opted_out: bool) -> None:
        with self.database.session() as session:
            member = update_member(session, self.actor, self.org.id, member_id, sms_opt_out=opted_out)
        self.post_from_worker(MemberChanged(member))

    def on_member_changed(self, message: MemberChanged) -> None:
        member, key = message.member, str(message.member.id)
        self.shown[key] = member
        table = self.query_one("#members", DataTable)
        if key in table.rows:
            table.update_cell(key, "sms", sms_cell(member))
        self.notify(f"{member.name} gets {'no SMS' if member.sms_opt_out else 'SMS again'}.", markup=False)

    @on(DataTable.RowSelected, "#members")
    def _statement(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(StatementModal(self.database, self.actor, self.org, int(event.row_key.value or 0)))


class StatementModal(OrgModal):
    """One member's statement: opening balance, every entry, closing balance."""

    def __init__(self, database: Database, actor: Actor, org: OrgView, member_id: int) -> None:
        super().__init__(database, actor, org)
        self.member_id = member_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="statement"):
            yield Label("", id="statement-title", classes="form-title")
            yield LiteralTable(id="statement-lines", zebra_stripes=True)

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exit_on_error=False)
    def load(self) -> None:
        with self.database.session() as session:
            st = statements.statement(session, self.actor, self.org.id, member_id=self.member_id)
        table = statements.table_as_text(st)
        self.app.call_from_thread(self.show, st.title, table)

    def show(self, title: str, table) -> None:
        self.query_one("#statement-title", Label).update(literal(title))
        lines = self.query_one("#statement-lines", DataTable)
        lines.add_columns(*table.columns)
        for row in table.rows:
            lines.add_row(*(str(cell) for cell in row))
        lines.focus()


class MeetingsLoaded(Message):
    def __init__(self, meetings: list[MeetingView], members: list[MemberView]) -> None:
        super().__init__()
        self.meetings, self.members = meetings, members


class MeetingsScreen(ConsoleScreen):
    """Meetings newest first: n schedules one, a takes attendance, w writes the minutes."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("n", "schedule", "Schedule", tooltip="Put a meeting in the calendar; members get an SMS."),
        Binding("a", "attendance", "Attendance", tooltip="Mark who came to the highlighted meeting."),
        Binding("w", "minutes", "Minutes", tooltip="Write the highlighted meeting's minutes."),
    ]

    def __init__(self, database: Database, actor: Actor, org: OrgView, may_change: bool) -> None:
        super().__init__(database)
        self.actor, self.org, self.may_change = actor, org, may_change
        self.meetings: dict[int, MeetingView] = {}
        self.members: list[MemberView] = []

    def compose_body(self) -> ComposeResult:
        yield LiteralTable(id="meetings", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Meetings"
        table = self.query_one("#meetings", DataTable)
        for label in ("When", "Venue", "Agenda", "Status", "Present", "Minutes"):
            table.add_column(label, key=label.lower())
        table.focus()
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.may_change if action in ("schedule", "attendance", "minutes") else True

    @work(thread=True, exclusive=True, group="meetings", exit_on_error=False)
    def load(self) -> None:
        with self.database.session() as session:
            found = meetings.list_meetings(session, self.actor, self.org.id)
            people = list_members(session, self.actor, self.org.id, status="active", limit=500)
        self.post_from_worker(MeetingsLoaded(found, people))

    def on_meetings_loaded(self, message: MeetingsLoaded) -> None:
        self.members = message.members
        self.meetings = {m.id: m for m in message.meetings}
        table = self.query_one("#meetings", DataTable)
        table.clear()
        for m in sorted(message.meetings, key=lambda m: m.starts_at, reverse=True):
            present = sum(1 for a in m.attendance if a.status in ("present", "late"))
            table.add_row(f"{m.starts_at.astimezone(self.org.tz):%a %d %b %Y %H:%M}", m.venue, m.agenda or "—",
                          m.status, str(present), "yes" if m.minutes else "—", key=str(m.id))

    def _highlighted(self) -> MeetingView | None:
        table = self.query_one("#meetings", DataTable)
        if not table.row_count:
            self.notify("No meetings yet: n schedules one.", markup=False)
            return None
        return self.meetings.get(int(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value or 0))

    def action_schedule(self) -> None:
        self.app.push_screen(ScheduleMeetingModal(self.database, self.actor, self.org),
                             callback=lambda done: done and self.load())

    def action_attendance(self) -> None:
        meeting = self._highlighted()
        if meeting is not None:
            self.app.push_screen(AttendanceModal(self.database, self.actor, self.org, meeting, self.members),
                                 callback=lambda done: done and self.load())

    def action_minutes(self) -> None:
        meeting = self._highlighted()
        if meeting is not None:
            self.app.push_screen(MinutesModal(self.database, self.actor, self.org, meeting),
                                 callback=lambda done: done and self.load())


class ScheduleMeetingModal(OrgModal):

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="meeting-form"):
            yield Label("Schedule a meeting (members get an SMS)", classes="form-title")
            yield Label(f"When (YYYY-MM-DD HH:MM, {self.org.timezone})")
            yield Input(id="meeting-when")
            yield Label("Venue")
            yield Input(id="meeting-venue")
            yield Label("Agenda")
            yield Input(id="meeting-agenda")

    def on_mount(self) -> None:
        self.query_one("#meeting-when", Input).focus()

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        if event.input.id != "meeting-agenda":
            self.focus_next()
            return
        self.save(self.query_one("#meeting-when", Input).value, self.query_one("#meeting-venue", Input).value,
                  event.value)

    @work(thread=True, exclusive=True, group="schedule-meeting", exit_on_error=False)
    def save(self, when: str, venue: str, agenda: str) -> None:
        try:
            starts_at = datetime.strptime(when.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=self.org.tz)
        except ValueError:
            raise InvalidInput(f"{when!r} is not a date and time; write it like 2026-12-05 14:00.") from None
        with self.database.session() as session:
            meetings.schedule_meeting(session, self.actor, self.org.id, starts_at=starts_at, venue=venue,
                                      agenda=agenda)
        self.app.call_from_thread(self.notify, "Meeting scheduled; members will get an SMS.", markup=False)
        self.app.call_from_thread(self.dismiss, True)


class AttendanceModal(OrgModal):
    """Tick who came; everyone not ticked is marked absent."""

    BINDINGS = [Binding("ctrl+s", "save", "Save")]

    def __init__(self, database: Database, actor: Actor, org: OrgView, meeting: MeetingView,
                 members: list[MemberView]) -> None:
        super().__init__(database, actor, org)
        self.meeting, self.members = meeting, members

    def compose(self) -> ComposeResult:
        came = {a.member_id for a in self.meeting.attendance if a.status in ("present", "late")}
        with Vertical(classes="dialog", id="attendance-form"):
            yield Label(f"Who came on {self.meeting.starts_at.astimezone(self.org.tz):%d %b %Y}? "
                        "(space ticks, ctrl+s saves)", classes="form-title")
            yield SelectionList[int](*[(literal(f"{m.member_number} {m.name}"), m.id, m.id in came)
                                       for m in self.members],
                                     id="attendance")

    def on_mount(self) -> None:
        self.query_one("#attendance", SelectionList).focus()

    def action_save(self) -> None:
        ticked = set(self.query_one("#attendance", SelectionList).selected)
        self.save({m.id: "present" if m.id in ticked else "absent" for m in self.members})

    @work(thread=True, exclusive=True, group="attendance", exit_on_error=False)
    def save(self, marks: dict[int, str]) -> None:
        with self.database.session() as session:
            meetings.record_attendance(session, self.actor, self.org.id, self.meeting.id, marks)
        present = sum(1 for s in marks.values() if s == "present")
        self.app.call_from_thread(self.notify, f"Attendance saved: {present} present.", markup=False)
        self.app.call_from_thread(self.dismiss, True)


class MinutesModal(OrgModal):
    BINDINGS = [Binding("ctrl+s", "save", "Save")]

    def __init__(self, database: Database, actor: Actor, org: OrgView, meeting: MeetingView) -> None:
        super().__init__(database, actor, org)
        self.meeting = meeting

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="minutes-form"):
            yield Label("Minutes (ctrl+s saves)", classes="form-title")
            yield TextArea(self.meeting.minutes, id="minutes")

    def on_mount(self) -> None:
        self.query_one("#minutes", TextArea).focus()

    def action_save(self) -> None:
        self.save(self.query_one("#minutes", TextArea).text)

    @work(thread=True, exclusive=True, group="minutes", exit_on_error=False)
    def save(self, text: str) -> None:
        with self.database.session() as session:
            meetings.record_minutes(session, self.actor, self.org.id, self.meeting.id, text)
        self.app.call_from_thread(self.notify, "Minutes saved.", markup=False)
        self.app.call_from_thread(self.dismiss, True)


class ShareoutModal(OrgModal):
    """What each member would take home if the cycle closed now; nothing is written."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="shareout"):
            yield Label("Share-out preview", classes="form-title")
            yield Static("", id="shareout-summary", markup=False)
            yield LiteralTable(id="shareout-lines", zebra_stripes=True)

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exit_on_error=False)
    def load(self) -> None:
        with self.database.session() as session:
            plan = shareout.preview_shareout(session, self.actor, self.org.id)
        self.app.call_from_thread(self.show, plan)

    def show(self, plan) -> None:
        money = lambda minor: format_money(minor, plan.currency)  # noqa: E731
        summary = (f"Pool {money(plan.pool_minor)} = savings {money(plan.savings_minor)} + earnings "
                   f"{money(plan.earnings_minor)}. Commit it with `ofisi chama shareout --org {self.org.slug} --commit {plan.code}`.")
        if plan.blockers:
            summary += "\nBefore it can be committed: " + "; ".join(plan.blockers)
        self.query_one("#shareout-summary", Static).update(literal(summary, lines=True))
        table = self.query_one("#shareout-lines", DataTable)
        table.add_columns("No.", "Member", "Savings", "Share of earnings", "Takes home")
        for line in plan.lines:
            table.add_row(line.member_number, line.name, money(line.savings_minor),
                          money(line.earnings_share_minor), money(line.payout_minor))
        table.focus()
