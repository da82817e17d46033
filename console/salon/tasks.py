"""Follow-up tasks, all of them and not only today's: overdue, today, upcoming, with who does each.

``f`` cycles what is shown (every open task, overdue, today, upcoming), ``a`` adds a task (what,
by when, for whom), ``s`` gives the task under the cursor to someone (or anyone) and may move its
due time, ``d`` marks it done. It calls ``list_tasks``, ``add_task``, ``assign_task`` and
``complete_task``, as ``ofisi salon tasks`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Label, Select

from console.salon.common import EnterConfirms, Rows, RowsLoaded, SalonChanged, SalonScreen
from console.widgets.dialog import Dialog
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal, short

SHOWN = (None, "overdue", "today", "upcoming")
ANYONE = 0  # the Select's value for "anyone"


@dataclass(frozen=True)
class TaskAnswer:
    title: str
    due: datetime | None  # as typed: the salon's wall clock
    assignee_id: int | None


class TaskDialog(EnterConfirms, Dialog[TaskAnswer]):
    """What is to be done (not when giving a task to someone), by when and for whom."""

    CONFIRM_LABEL = "Save"

    def __init__(self, title: str, staff: list[tuple[int, str]], *, task_title: bool = True,
                 assignee_id: int | None = None) -> None:
        super().__init__(title)
        self.staff, self.task_title, self.assignee_id = staff, task_title, assignee_id

    def compose_body(self) -> ComposeResult:
        if self.task_title:
            yield Input(placeholder="What is to be done", id="task-title", compact=True)
        yield Input(placeholder="Due, like 2026-12-07 10:00" + ("" if self.task_title else " (empty: as it is)"),
                    id="task-due", compact=True)
        yield Select([("Anyone", ANYONE), *((name, uid) for uid, name in self.staff)], id="task-for",
                     value=self.assignee_id or ANYONE, allow_blank=False, compact=True)

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    def answer(self) -> TaskAnswer | None:
        title = self.query_one("#task-title", Input).value.strip() if self.task_title else ""
        text = self.query_one("#task-due", Input).value.strip()
        if self.task_title and not (title and text):
            self.app.notify("Say what is to be done and by when.", severity="warning")
            return None
        try:
            due = datetime.fromisoformat(text) if text else None
        except ValueError:
            self.app.notify(f"{text!r} is not a time; write it like 2026-12-07 10:00.", severity="warning")
            return None
        who = self.query_one("#task-for", Select).value
        return TaskAnswer(title, due, who if isinstance(who, int) and who != ANYONE else None)


# What the mixin below asks of its screen (a SalonScreen's database, actor, org, tables and notices).
_Screen = SalonScreen if TYPE_CHECKING else object


class FinishesTasks(_Screen):
    """Mixin for a screen showing tasks in the table ``TASKS_TABLE`` (home's pane of today's, the tasks
    screen's list): ``action_task_done`` marks the highlighted one done, as ``ofisi salon tasks done``
    does, and says so."""

    TASKS_TABLE: ClassVar[str]

    def action_task_done(self) -> None:
        row = self.query_one(self.TASKS_TABLE, OfisiTable).selected_row
        if row is None:
            self.app.notify("Highlight a task first.", severity="warning")
            return
        self.finish_task(row.data.id)

    @work(thread=True, group="salon-write", exit_on_error=False)
    def finish_task(self, task_id: int) -> None:
        from core.salon.leads import complete_task

        with self.database.session() as session:
            done = complete_task(session, self.actor, self.org.id, task_id)
        self.post_from_worker(SalonChanged(f"Done: {done.title}.", done.id))


class TasksScreen(FinishesTasks, SalonScreen):
    """Every open task, or the overdue, today's or upcoming ones, with who does each."""

    BINDINGS = [
        *SalonScreen.BINDINGS,
        Binding("f", "next_filter", "Show", id="tasks-filter", tooltip="All open, overdue, today, upcoming."),
        Binding("a", "add", "Add", id="task-add", tooltip="A task: what, by when, for whom."),
        Binding("s", "assign", "Give to", id="task-assign",
                tooltip="Give the highlighted task to someone (or anyone); move its due time."),
        Binding("d", "task_done", "Done", id="task-done-all", tooltip="Mark the highlighted task done."),
    ]

    TASKS_TABLE = "#all-tasks"

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.shown: str | None = None
        self.staff: list[tuple[int, str]] = []

    def compose_body(self) -> ComposeResult:
        yield Label("Tasks", id="tasks-screen-title", classes="pane-title")
        yield OfisiTable(("Due", "P", "Task", "Lead", "For"), noun="tasks", empty="No open task here.", id="all-tasks")

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, "Tasks"
        self.table.focus()
        self.action_refresh()

    @property
    def table(self) -> OfisiTable:
        return self.query_one("#all-tasks", OfisiTable)

    def action_refresh(self) -> None:
        self.load(self.shown)

    def action_next_filter(self) -> None:
        self.shown = SHOWN[(SHOWN.index(self.shown) + 1) % len(SHOWN)]
        self.action_refresh()

    @work(thread=True, exclusive=True, group="tasks", exit_on_error=False)
    def load(self, shown: str | None) -> None:
        from core.salon.leads import list_tasks
        from core.salon.settings import list_staff_settings

        with self.database.session() as session:
            tasks = list_tasks(session, self.actor, self.org.id, due=shown, limit=500)
            staff = [(s.user_id, s.name) for s in list_staff_settings(session, self.actor, self.org.id)]
        self.post_from_worker(RowsLoaded(Rows(shown or "open", [tasks, staff])))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        if message.rows.key != (self.shown or "open"):
            return
        tasks, self.staff = message.rows.rows
        p = self.present
        self.query_one("#tasks-screen-title", Label).update(literal(
            f"Tasks: {self.shown or 'all open'} — {len(tasks)} (f show, a add, s give to, d done)"))
        self.table.reload(
            Row(t.id, (Cell(p.time(t.due_at, "%a %d %b %H:%M"), t.due_at), str(t.priority), short(t.title, 40),
                       t.lead_name or "", t.assignee_name or "anyone"), data=t) for t in tasks)

    def _highlighted(self):
        row = self.table.selected_row
        if row is None:
            self.app.notify("Highlight a task first.", severity="warning")
        return None if row is None else row.data

    def action_add(self) -> None:
        self.app.push_screen(TaskDialog("A task", self.staff), callback=lambda answer: answer and self.add(answer))

    @work(thread=True, group="salon-write", exit_on_error=False)
    def add(self, answer: TaskAnswer) -> None:
        from core.salon.common import wall_clock
        from core.salon.leads import add_task

        with self.database.session() as session:
            done = add_task(session, self.actor, self.org.id, title=answer.title, assignee_id=answer.assignee_id,
                            due_at=wall_clock(answer.due, self.present.tz))
        self.post_from_worker(SalonChanged(f"{done.title}: due {self.present.time(done.due_at, '%a %d %b %H:%M')}, "
                                           f"for {done.assignee_name or 'anyone'}.", done.id))

    def action_assign(self) -> None:
        if (task := self._highlighted()) is None:
            return
        self.app.push_screen(TaskDialog(f"Give {task.title!r} to", self.staff, task_title=False,
                                        assignee_id=task.assignee_id),
                             callback=lambda answer: answer and self.assign(task.id, answer))

    @work(thread=True, group="salon-write", exit_on_error=False)
    def assign(self, task_id: int, answer: TaskAnswer) -> None:
        from core.salon.common import wall_clock
        from core.salon.leads import assign_task

        due = None if answer.due is None else wall_clock(answer.due, self.present.tz)
        with self.database.session() as session:
            done = assign_task(session, self.actor, self.org.id, task_id, assignee_id=answer.assignee_id,
                               unassign=answer.assignee_id is None, due_at=due)
        self.post_from_worker(SalonChanged(f"{done.title}: for {done.assignee_name or 'anyone'}, due "
                                           f"{self.present.time(done.due_at, '%a %d %b %H:%M')}.", done.id))
