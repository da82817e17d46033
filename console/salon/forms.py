"""The salon's lead forms (``6`` in setup): the list, and one form's questions and limits.

- the list: ``e`` a new title, ``x`` closes the form (its page answers 404) or opens it again,
  Enter (or ``f``) opens the form's questions.
- a form's questions: the standard ones (name, phone, email, service, preferred date, message)
  and the form's own below them, in the order the page asks them. ``a`` adds a question of the
  form's own, ``e`` (or Enter) changes its label, ``r`` makes the highlighted question required or
  optional, ``u``/``d`` move one of the form's own questions up or down, ``x`` removes it (asks
  first), ``l`` sets the limits (submissions an hour from one address and for one phone).

Every change calls ``update_form``, as ``ofisi salon forms edit`` does, with the form as it is in
the database at that moment; the core's refusals (a name that cannot be a field's, a limit under
one) come back as notices.
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, Label, Select

from console.salon.common import EnterConfirms, Rows, RowsLoaded, SalonChanged, SalonScreen
from console.salon.setup import SetupScreen
from console.widgets.confirm import Confirm
from console.widgets.dialog import AskText, Dialog
from console.widgets.table import OfisiTable, Row
from console.widgets.text import literal
from core.salon.forms import STANDARD_FIELDS

Fields = list[dict[str, Any]]


class FormsScreen(SetupScreen):
    HEADING = "Setup: lead forms"
    BINDINGS: ClassVar[list[BindingType]] = [
        *SetupScreen.BINDINGS,
        Binding("f", "questions", "Questions", id="form-questions",
                tooltip="The highlighted form's questions and limits."),
        Binding("e", "retitle", "Title", id="form-title", tooltip="A new title for the highlighted form."),
        Binding("x", "open_close", "Close/open", id="form-close",
                tooltip="Close the form (its page answers 404), or open it again."),
    ]

    def compose_table(self) -> ComposeResult:
        yield OfisiTable(("Address", "Title", "Limits/h", "Open"), noun="forms",
                         empty="No forms yet: `ofisi salon forms add`.", id="forms")

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="setup", exit_on_error=False)
    def load(self) -> None:
        from core.salon.forms import list_forms

        with self.database.session() as session:
            forms = list_forms(session, self.actor, self.org.id)
        self.post_from_worker(RowsLoaded(Rows("forms", forms)))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        forms = message.rows.rows
        self.query_one("#setup-title", Label).update(f"Lead forms — {len(forms)} (Enter questions, e title, x close)")
        self.table.reload(Row(f.id, (f"/forms/{f.slug}", f.title, f"{f.max_per_ip_hour}/{f.max_per_phone_hour}",
                                     "open" if f.active else "closed"), data=f) for f in forms)

    @on(DataTable.RowSelected, "#forms")
    def _form_chosen(self) -> None:
        self.action_questions()

    def action_questions(self) -> None:
        if (form := self._record()) is not None:
            self.app.push_screen(FormQuestionsScreen(self.database, self.actor, self.org, form.id))

    def action_retitle(self) -> None:
        if (form := self._record()) is None:
            return
        self.app.push_screen(AskText(f"A new title for /forms/{form.slug}", value=form.title,
                                     placeholder="The title people see"),
                             callback=lambda title: title and self.change(form.slug, title=title))

    def action_open_close(self) -> None:
        if (form := self._record()) is None:
            return
        if not form.active:
            self.change(form.slug, active=True)
            return
        self.app.push_screen(Confirm(f"Close {form.title}?",
                                     f"/forms/{form.slug} answers 404 until it is opened again; leads kept stay.",
                                     confirm_label="Close"),
                             callback=lambda yes: yes and self.change(form.slug, active=False))

    @work(thread=True, group="salon-write", exit_on_error=False)
    def change(self, slug: str, **changes) -> None:
        from core.salon.forms import update_form

        with self.database.session() as session:
            done = update_form(session, self.actor, self.org.id, slug, **changes)
        self.post_from_worker(SalonChanged(f"/forms/{done.slug}: {done.title}, " +
                                           ("open." if done.active else "closed."), done.id))


class QuestionDialog(EnterConfirms, Dialog[dict[str, Any]]):
    """A question of the form's own: its name (what the page posts), its label, required or not."""

    CONFIRM_LABEL = "Add"

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="Name, like hair_length (lower-case, digits, _)", id="question-name", compact=True)
        yield Input(placeholder="What the page asks, like Hair length (optional)", id="question-label",
                    compact=True)
        yield Select([("Optional", False), ("Required", True)], value=False, allow_blank=False,
                     id="question-required", compact=True)

    def answer(self) -> dict[str, Any] | None:
        name = self.query_one("#question-name", Input).value.strip()
        if not name:
            self.app.notify("Give the question a name, like hair_length.", severity="warning")
            return None
        return {"name": name, "label": self.query_one("#question-label", Input).value.strip(),
                "required": bool(self.query_one("#question-required", Select).value)}


class LimitsDialog(EnterConfirms, Dialog[tuple[int, int]]):
    """How many submissions an hour the form takes from one address and for one phone."""

    CONFIRM_LABEL = "Set"

    def __init__(self, title: str, per_ip: int, per_phone: int) -> None:
        super().__init__(title)
        self.per_ip, self.per_phone = per_ip, per_phone

    def compose_body(self) -> ComposeResult:
        yield Label("Submissions an hour from one address, then for one phone:")
        yield Input(str(self.per_ip), placeholder="From one address, like 20", id="limit-ip", compact=True)
        yield Input(str(self.per_phone), placeholder="For one phone, like 3", id="limit-phone", compact=True)

    def answer(self) -> tuple[int, int] | None:
        numbers = []
        for key in ("ip", "phone"):
            text = self.query_one(f"#limit-{key}", Input).value.strip()
            try:
                numbers.append(int(text))
            except ValueError:
                self.app.notify(f"{text!r} is not a number of submissions; write a whole number, like 20.",
                                severity="warning", markup=False)
                return None
        return numbers[0], numbers[1]


class FormQuestionsScreen(SalonScreen):
    """One form's questions, in the order its page asks them, and its limits."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *SalonScreen.BINDINGS,
        Binding("a", "add", "Add", id="question-add", tooltip="A question of the form's own."),
        Binding("e", "label", "Label", id="question-label", tooltip="What the page asks for the highlighted question."),
        Binding("r", "required", "Required", id="question-required",
                tooltip="Make the highlighted question required, or optional."),
        Binding("u", "move(-1)", "Up", id="question-up", tooltip="Ask the highlighted question earlier."),
        Binding("d", "move(1)", "Down", id="question-down", tooltip="Ask the highlighted question later."),
        Binding("x", "remove", "Remove", id="question-remove", tooltip="Remove the highlighted question (asks)."),
        Binding("l", "limits", "Limits", id="form-limits",
                tooltip="Submissions an hour from one address and for one phone."),
    ]

    def __init__(self, database, actor, org, form_id: int) -> None:
        super().__init__(database, actor, org)
        self.form_id = form_id
        self.form: Any = None

    def compose_body(self) -> ComposeResult:
        yield Label("", id="questions-title", classes="pane-title")
        yield Label("", id="questions-limits")
        yield OfisiTable(("Question", "Label", "Required", "Whose"), noun="questions", empty="", id="questions")

    @property
    def table(self) -> OfisiTable:
        return self.query_one(OfisiTable)

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Setup: a form's questions"
        self.table.focus()
        self.action_refresh()

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="setup", exit_on_error=False)
    def load(self) -> None:
        from core.salon.forms import list_forms

        with self.database.session() as session:
            form = next((f for f in list_forms(session, self.actor, self.org.id) if f.id == self.form_id), None)
        self.post_from_worker(RowsLoaded(Rows("questions", [form])))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        self.form = form = message.rows.rows[0]
        if form is None:
            self.app.notify("That form is no longer there.", severity="warning")
            self.app.pop_screen()
            return
        self.query_one("#questions-title", Label).update(literal(f"{form.title} (/forms/{form.slug})"))
        self.query_one("#questions-limits", Label).update(
            f"At most {form.max_per_ip_hour} an hour from one address, {form.max_per_phone_hour} for one phone (l)")
        rows = [Row(f"standard:{name}", (name, "(the page's own)", "always" if name == "phone" else
                                         "yes" if name in form.required else "no", "standard"), data=("standard", name))
                for name in STANDARD_FIELDS]
        rows += [Row(f"own:{q['name']}", (q["name"], q["label"], "yes" if q["required"] else "no", "the form's own"),
                     data=("own", q["name"])) for q in form.fields]
        self.table.reload(rows)

    def _chosen(self, *, own: bool) -> str | None:
        """The highlighted question's name; with ``own``, only one of the form's own (else says why)."""
        row = self.table.selected_row
        if row is None or self.form is None:
            self.app.notify("Highlight a question first.", severity="warning")
            return None
        whose, name = row.data
        if own and whose != "own":
            self.app.notify(f"{name} is a standard question: every form has it, where it is, under its label; "
                            "r makes it required or optional.", severity="warning")
            return None
        return name

    @on(DataTable.RowSelected, "#questions")
    def _question_chosen(self) -> None:
        self.action_label()

    def action_add(self) -> None:
        if self.form is not None:
            self.app.push_screen(QuestionDialog(f"A question of the form {self.form.title}'s own"),
                                 callback=lambda question: question and self.change(
                                     f"{question['name']} is asked.",
                                     lambda form: {"fields": [*form.fields, question]}))

    def action_label(self) -> None:
        if (name := self._chosen(own=True)) is None:
            return
        now = next(q["label"] for q in self.form.fields if q["name"] == name)

        def relabel(form) -> dict[str, Fields]:
            return {"fields": [{**q, "label": label} if q["name"] == name else q for q in form.fields]}

        self.app.push_screen(AskText(f"What the page asks for {name}", value=now, placeholder="The label"),
                             callback=lambda label: label and self.change(f"{name}: {label}.", relabel))

    def action_required(self) -> None:
        if (name := self._chosen(own=False)) is None:
            return
        whose = self.table.selected_row.data[0]
        if whose == "standard":
            if name == "phone":
                self.app.notify("The phone is always required: it is how the salon reaches the lead.",
                                severity="warning")
                return
            wanted = name not in self.form.required
            self.change(f"{name} is {'required' if wanted else 'optional'}.", lambda form: {
                "required": tuple(sorted(set(form.required) ^ {name}))})
            return
        wanted = not next(q["required"] for q in self.form.fields if q["name"] == name)
        self.change(f"{name} is {'required' if wanted else 'optional'}.", lambda form: {"fields": [
            {**q, "required": not q["required"]} if q["name"] == name else q for q in form.fields]})

    def action_move(self, by: int) -> None:
        if (name := self._chosen(own=True)) is None:
            return

        def moved(form) -> dict[str, Fields]:
            fields = list(form.fields)
            at = next(i for i, q in enumerate(fields) if q["name"] == name)
            fields.insert(min(max(at + by, 0), len(fields) - 1), fields.pop(at))
            return {"fields": fields}

        self.change(f"{name} is asked {'earlier' if by < 0 else 'later'}.", moved)

    def action_remove(self) -> None:
        if (name := self._chosen(own=True)) is None:
            return
        self.app.push_screen(Confirm(f"Remove {name} from {self.form.title}?",
                                     "The page stops asking it; the answers leads already gave stay with them.",
                                     confirm_label="Remove"),
                             callback=lambda yes: yes and self.change(f"{name} is no longer asked.", lambda form: {
                                 "fields": [q for q in form.fields if q["name"] != name]}))

    def action_limits(self) -> None:
        if (form := self.form) is None:
            return
        self.app.push_screen(LimitsDialog(f"Limits of {form.title}", form.max_per_ip_hour, form.max_per_phone_hour),
                             callback=lambda limits: limits and self.change(
                                 f"At most {limits[0]} an hour from one address, {limits[1]} for one phone.",
                                 lambda _: {"max_per_ip_hour": limits[0], "max_per_phone_hour": limits[1]}))

    @work(thread=True, group="salon-write", exit_on_error=False)
    def change(self, done: str, changes: Callable[[Any], dict[str, Any]]) -> None:
        """``changes`` turns the form as the database has it now into ``update_form``'s keywords."""
        from core.salon.forms import list_forms, update_form

        with self.database.session() as session:
            form = next((f for f in list_forms(session, self.actor, self.org.id) if f.id == self.form_id), None)
            if form is None:
                self.post_from_worker(RowsLoaded(Rows("questions", [None])))
                return
            update_form(session, self.actor, self.org.id, form.slug, **changes(form))
        self.post_from_worker(SalonChanged(done, self.form_id))
