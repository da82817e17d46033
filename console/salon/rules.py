"""More of the salon's setup: its booking rules, the professionals' time blocks and its staff's
preferences (``4``, ``5``, ``7`` beside ``6`` lead forms in ``forms``, and ``1`` services, ``2`` hours, ``3``
holidays; see ``setup``).

- rules: Enter (or ``e``) on a rule changes it: the notice and horizon clients must keep (staff
  book any time from now, and walk-ins), the slot step, the reminders, the deposit's hold, the
  no-show fee and whether a no-show's deposit is kept, the websites allowed to post the forms.
  It calls ``update_booking_settings``, as ``ofisi salon settings set`` does.
- blocks: the leave, training and other blocks ahead, of everyone; ``a`` adds one (and says what
  to do with appointments booked then: refuse with their list, keep or cancel them), ``x`` removes
  the one under the cursor (asks first).
- staff: ``e`` which of her bookings (booked, moved, cancelled) a professional with a phone is
  texted of, ``b`` whether an owner also takes clients (``update_staff_settings``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, Label, Select, Static

from console.salon.common import EnterConfirms, Rows, RowsLoaded, SalonChanged
from console.salon.setup import SetupScreen
from console.widgets.confirm import Confirm
from console.widgets.dialog import AskText, Dialog
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal
from core.money import format_money
from db.types import utcnow


def _minutes_list(text: str) -> list[int]:
    if text.strip().lower() in ("none", "no", "0"):
        return []
    return [int(part) for part in text.replace(" ", "").split(",") if part]


def _yes_no(text: str) -> bool:
    answer = text.strip().lower()
    if answer in ("yes", "y", "kept", "keep"):
        return True
    if answer in ("no", "n", "returned", "return"):
        return False
    raise ValueError(text)


def _origins(text: str) -> list[str]:
    return [] if text.strip().lower() == "none" else [o.strip() for o in text.split(",") if o.strip()]


@dataclass(frozen=True)
class Rule:
    """One booking rule: what it is called, how it is shown, how a typed answer becomes the setting."""

    key: str  # the keyword of ``update_booking_settings``
    label: str
    shown: Callable[[Any, str], str]  # (settings, currency) -> text
    read: Callable[[str], Any]  # raises ValueError when the text is not an answer
    hint: str


RULES = (
    Rule("min_notice_minutes", "Notice clients must give", lambda s, _: f"{s.min_notice_minutes} min", int,
         "minutes, like 60 (staff and walk-ins need none)"),
    Rule("max_advance_days", "How far ahead clients book", lambda s, _: f"{s.max_advance_days} days", int,
         "days, like 60"),
    Rule("slot_step_minutes", "Slot step", lambda s, _: f"{s.slot_step_minutes} min", int,
         "minutes: 5, 10, 15, 20, 30 or 60"),
    Rule("reminder_minutes", "Reminders before",
         lambda s, _: ", ".join(f"{m} min" for m in s.reminder_minutes) or "none", _minutes_list,
         "minutes, like 1440,120 (or none)"),
    Rule("deposit_hold_minutes", "A deposit is waited for", lambda s, _: f"{s.deposit_hold_minutes} min", int,
         "minutes, like 30"),
    Rule("no_show_fee", "No-show fee", lambda s, c: format_money(s.no_show_fee_minor, c), str,
         "an amount, like 300 (0 for none)"),
    Rule("keep_deposit_on_no_show", "A no-show's deposit is",
         lambda s, _: "kept" if s.keep_deposit_on_no_show else "returned", _yes_no, "kept or returned"),
    Rule("form_origins", "Websites posting the forms", lambda s, _: ", ".join(s.form_origins) or "none", _origins,
         "like https://glow.co.ke, comma-separated (or none)"),
)


class RulesScreen(SetupScreen):
    HEADING = "Setup: booking rules"
    BINDINGS: ClassVar[list[BindingType]] = [
        *SetupScreen.BINDINGS,
        Binding("e", "change", "Change", id="rule-change", tooltip="Change the highlighted rule."),
    ]

    def compose_table(self) -> ComposeResult:
        yield OfisiTable(("Rule", "Now"), noun="rules", empty="", id="rules")

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="setup", exit_on_error=False)
    def load(self) -> None:
        from core.salon.settings import booking_settings

        with self.database.session() as session:
            rules = booking_settings(session, self.actor, self.org.id)
        self.post_from_worker(RowsLoaded(Rows("rules", [rules])))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        settings = message.rows.rows[0]
        self.query_one("#setup-title", Label).update("Booking rules (Enter changes one)")
        self.table.reload(Row(rule.key, (rule.label, rule.shown(settings, self.org.currency)), data=rule)
                          for rule in RULES)

    @on(DataTable.RowSelected, "#rules")
    def _rule_chosen(self) -> None:
        self.action_change()

    def action_change(self) -> None:
        if (rule := self._record()) is None:
            return
        now = str(self.table.get_row_at(self.table.cursor_row)[1])

        def with_answer(text: str | None) -> None:
            if not text:
                return
            try:
                value = rule.read(text)
            except ValueError:
                self.app.notify(f"{text!r} is not an answer here: write {rule.hint}.", severity="warning")
                return
            self.change(rule, value)

        self.app.push_screen(AskText(f"{rule.label} (now {now})", placeholder=rule.hint), callback=with_answer)

    @work(thread=True, group="salon-write", exit_on_error=False)
    def change(self, rule: Rule, value: Any) -> None:
        from core.salon.settings import update_booking_settings

        with self.database.session() as session:
            settings = update_booking_settings(session, self.actor, self.org.id, **{rule.key: value})
        self.post_from_worker(SalonChanged(f"{rule.label}: {rule.shown(settings, self.org.currency)}."))


# ---------------------------------------------------------------- time blocks

BOOKED = [("Refuse, and list the appointments booked then", "refuse"),
          ("Keep them booked (move them by hand)", "keep"),
          ("Cancel them (their clients are told)", "cancel")]


@dataclass(frozen=True)
class NewBlock:
    professional_id: int
    start: datetime  # as typed: the salon's wall clock, or with its offset
    end: datetime
    reason: str
    note: str
    booked: str


def _typed(moment: datetime) -> str:
    """A time as it was typed into the block dialog (with its offset only if it was given one)."""
    return f"{moment:%Y-%m-%d %H:%M}" if moment.tzinfo is None else moment.isoformat(timespec="minutes")


class BlockDialog(EnterConfirms, Dialog[NewBlock]):
    """Who is away, from when to when, why, and what to do with appointments booked then."""

    CONFIRM_LABEL = "Block"

    def __init__(self, title: str, professionals: list[tuple[int, str]], *, given: NewBlock | None = None,
                 problem: str = "") -> None:
        super().__init__(title)
        self.professionals, self.given, self.problem = professionals, given, problem

    def compose_body(self) -> ComposeResult:
        given = self.given
        if self.problem:  # a refusal naming the appointments booked then: say what to do with them
            yield Static(literal(self.problem), id="block-problem")
        first = self.professionals[0][0] if self.professionals else Select.BLANK
        yield Select([(name, pid) for pid, name in self.professionals], prompt="Who", id="block-pro", compact=True,
                     value=given.professional_id if given else first)
        yield Input(_typed(given.start) if given else "", placeholder="From, like 2026-12-24 09:00",
                    id="block-from", compact=True)
        yield Input(_typed(given.end) if given else "", placeholder="To, like 2026-12-28 18:00",
                    id="block-to", compact=True)
        yield Select([("Leave", "leave"), ("Training", "training"), ("Other", "other")], compact=True,
                     value=given.reason if given else "leave", id="block-reason", allow_blank=False)
        yield Input(given.note if given else "", placeholder="A word for the others (optional)",
                    id="block-note", compact=True)
        yield Select(BOOKED, value=given.booked if given else "refuse", id="block-booked", allow_blank=False,
                     compact=True)

    def on_mount(self) -> None:
        self.query_one("#block-booked" if self.problem else "#block-from").focus()

    def answer(self) -> NewBlock | None:
        who = self.query_one("#block-pro", Select).value
        times = []
        for key in ("from", "to"):
            text = self.query_one(f"#block-{key}", Input).value.strip()
            try:
                times.append(datetime.fromisoformat(text))
            except ValueError:
                self.app.notify(f"{text!r} is not a time; write it like 2026-12-24 09:00.", severity="warning")
                return None
        if not isinstance(who, int):
            self.app.notify("Choose who is away.", severity="warning")
            return None
        return NewBlock(who, times[0], times[1], str(self.query_one("#block-reason", Select).value),
                        self.query_one("#block-note", Input).value.strip(),
                        str(self.query_one("#block-booked", Select).value))


class BlocksScreen(SetupScreen):
    HEADING = "Setup: time blocks"
    BINDINGS: ClassVar[list[BindingType]] = [
        *SetupScreen.BINDINGS,
        Binding("a", "add", "Add", id="block-add", tooltip="Leave, training or other time away for a professional."),
        Binding("x", "remove", "Remove", id="block-remove", tooltip="Remove the highlighted block (asks first)."),
    ]

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.professionals: list[tuple[int, str]] = []

    def compose_table(self) -> ComposeResult:
        yield OfisiTable(("From", "To", "Who", "Why"), noun="blocks",
                         empty="Nobody is away ahead: a adds leave or training.", id="blocks")

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="setup", exit_on_error=False)
    def load(self) -> None:
        from core.salon.common import list_professionals
        from core.salon.schedule import list_time_blocks

        now = utcnow()
        with self.database.session() as session:
            blocks = list_time_blocks(session, self.actor, self.org.id, None, now, now + timedelta(days=366))
            pros = [(p.id, p.name) for p in list_professionals(session, self.actor, self.org.id)]
        self.post_from_worker(RowsLoaded(Rows("blocks", [blocks, pros])))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        if message.rows.key == "booked-then":
            block, problem = message.rows.rows
            self.app.push_screen(BlockDialog("Time away for a professional", self.professionals, given=block,
                                             problem=problem), callback=lambda again: again and self.add_block(again))
            return
        blocks, self.professionals = message.rows.rows
        names = dict(self.professionals)
        when = "%a %d %b %Y %H:%M"
        self.query_one("#setup-title", Label).update(f"Time blocks ahead — {len(blocks)} (a add, x remove)")
        self.table.reload(
            Row(b.id, (Cell(self.present.time(b.starts_at, when), b.starts_at),
                       Cell(self.present.time(b.ends_at, when), b.ends_at), names.get(b.professional_id, ""),
                       b.reason + (f": {b.note}" if b.note else "")), data=b) for b in blocks)

    def action_add(self) -> None:
        if not self.professionals:
            self.app.notify("Nobody takes clients yet: add a professional first.", severity="warning")
            return
        self.app.push_screen(BlockDialog("Time away for a professional", self.professionals),
                             callback=lambda block: block and self.add_block(block))

    @work(thread=True, group="salon-write", exit_on_error=False)
    def add_block(self, block: NewBlock) -> None:
        from core.salon.common import wall_clock
        from core.salon.schedule import add_time_block

        from core.salon.schedule import BookedInTheWay

        start, end = (wall_clock(t, self.present.tz) for t in (block.start, block.end))
        try:
            with self.database.session() as session:
                done = add_time_block(session, self.actor, self.org.id, block.professional_id, start=start, end=end,
                                      reason=block.reason, note=block.note, booked=block.booked)
        except BookedInTheWay as refused:  # ask again, with the appointments named and the choice under the cursor
            self.post_from_worker(RowsLoaded(Rows("booked-then", [block, str(refused)])))
            return
        who = dict(self.professionals).get(block.professional_id, "")
        self.post_from_worker(SalonChanged(
            f"{who} is away ({done.reason}) from {self.present.time(done.starts_at, '%a %d %b %H:%M')} "
            f"to {self.present.time(done.ends_at, '%a %d %b %H:%M')}.", done.id))

    def action_remove(self) -> None:
        if (block := self._record()) is None:
            return
        who = dict(self.professionals).get(block.professional_id, "")
        self.app.push_screen(Confirm(
            f"Remove {who}'s {block.reason}?",
            f"{self.present.time(block.starts_at, '%a %d %b %H:%M')} to "
            f"{self.present.time(block.ends_at, '%a %d %b %H:%M')}: she can be booked then again.",
            confirm_label="Remove"), callback=lambda yes: yes and self.remove_block(block.id))

    @work(thread=True, group="salon-write", exit_on_error=False)
    def remove_block(self, block_id: int) -> None:
        from core.salon.schedule import remove_time_block

        with self.database.session() as session:
            remove_time_block(session, self.actor, self.org.id, block_id)
        self.post_from_worker(SalonChanged("The block is removed; that time can be booked again."))


# ---------------------------------------------------------------- staff preferences

class StaffScreen(SetupScreen):
    HEADING = "Setup: staff"
    BINDINGS: ClassVar[list[BindingType]] = [
        *SetupScreen.BINDINGS,
        Binding("e", "notify", "Texted of", id="staff-notify",
                tooltip="Which of her bookings the highlighted person is texted of: booked, moved, cancelled."),
        Binding("b", "bookable", "Takes clients", id="staff-bookable",
                tooltip="Whether the highlighted owner also takes clients (professionals always do)."),
    ]

    def compose_table(self) -> ComposeResult:
        yield OfisiTable(("Name", "Role", "Phone", "Takes clients", "Texted of"), noun="staff", empty="", id="staff")

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="setup", exit_on_error=False)
    def load(self) -> None:
        from core.salon.settings import list_staff_settings

        with self.database.session() as session:
            staff = list_staff_settings(session, self.actor, self.org.id)
        self.post_from_worker(RowsLoaded(Rows("staff", staff)))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        self.query_one("#setup-title", Label).update("Staff (e texted of, b takes clients)")
        self.table.reload(Row(s.user_id, (s.name, s.role, self.present.phone(s.phone) or "no phone",
                                          "yes" if s.bookable else "no", ", ".join(s.notify_on) or "nothing"), data=s)
                          for s in message.rows.rows)

    @on(DataTable.RowSelected, "#staff")
    def _person_chosen(self) -> None:
        self.action_notify()

    def action_notify(self) -> None:
        from core.salon.settings import NOTIFY_KINDS

        if (person := self._record()) is None:
            return

        def with_kinds(text: str | None) -> None:
            if text:
                kinds = [] if text.strip().lower() == "nothing" else [k.strip() for k in text.split(",") if k.strip()]
                self.change(person.user_id, notify=kinds)

        self.app.push_screen(AskText(f"Which of her bookings is {person.name} texted of?",
                                     question=f"Some of {', '.join(NOTIFY_KINDS)}, or nothing.",
                                     value=", ".join(person.notify_on), placeholder=", ".join(NOTIFY_KINDS)),
                             callback=with_kinds)

    def action_bookable(self) -> None:
        if (person := self._record()) is not None:
            self.change(person.user_id, bookable=not person.bookable)

    @work(thread=True, group="salon-write", exit_on_error=False)
    def change(self, user_id: int, **changes) -> None:
        from core.salon.settings import update_staff_settings

        with self.database.session() as session:
            done = update_staff_settings(session, self.actor, self.org.id, user_id, **changes)
        self.post_from_worker(SalonChanged(
            f"{done.name}: " + ("takes clients" if done.bookable else "takes no clients") + "; texted of "
            + (", ".join(done.notify_on) or "nothing") + ".", done.user_id))
