"""``OfisiTable``: the one table every console list uses.

    table = OfisiTable(("Name", "Phone", Column("Added", "added")), empty="No clients yet: press a to add one.",
                       id="clients")
    table.reload(Row(c.id, (c.name, presenter.phone(c.phone), Cell(presenter.date(c.created_at), c.created_at)),
                     data=c) for c in clients)
    ...
    contact = table.selected_row.data if table.selected_row else None   # the record under the cursor

What it promises:

- **Rows are keyed by record id.** :meth:`OfisiTable.reload` replaces the rows and
  keeps the cursor on the record it was on; if that record left the list the
  cursor goes to the nearest row (the same position, clamped). :attr:`selected_id`
  and :attr:`selected_row` give the record under the cursor (``None`` when the
  list is empty), so an action never falls back to row 0.
- **Cells are shown literally** (``console.widgets.text.literal``): a name like
  ``[/]`` is text, never markup. A :class:`Cell` pairs what is shown with what
  it sorts by (``Cell("KES 1,500", 150000)``).
- **Sorting:** click a column header (again to reverse), or ``s`` to cycle the
  sort column and ``S`` to reverse it. The header shows ``▲``/``▼``.
- **Filtering:** ``/`` opens a one-line filter under the table's screen; typing
  filters the rows shown (every cell, case-insensitive); Enter keeps the filter,
  Escape clears it. For a list that pages through the core
  (``OfisiTable(..., search_in_core=True)``) the table does not filter itself:
  it posts :class:`OfisiTable.SearchChanged` and the screen reloads from the core.
- **Paging:** moving onto the last row posts :class:`OfisiTable.NearEnd`; the
  screen reads the next page and calls :meth:`append`.
- **Empty state:** when there are no rows the table says ``empty`` (what to do).

A screen's own binding for ``s``, ``S`` or ``/`` wins over the table's (the agency's
``s`` is SMS): the table then sorts only by header clicks.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.geometry import Size
from textual.strip import Strip
from textual.widgets import DataTable, Input, Label

from console.widgets.text import literal, plain

__all__ = ["Cell", "Column", "LiteralTable", "OfisiTable", "Row"]


@dataclass(frozen=True)
class Cell:
    """A cell shown as ``shown`` and sorted by ``sort`` (a number, a date...)."""

    shown: object
    sort: Any = None


@dataclass(frozen=True)
class Column:
    label: str
    key: str | None = None
    width: int | None = None


@dataclass(frozen=True)
class Row:
    """One record: its id (the row key), its cells and, optionally, the record itself."""

    id: Hashable
    cells: Sequence[object]
    data: Any = field(default=None, compare=False)

    def text(self) -> str:
        """The row's cells as one lower-case string, for filtering."""
        return " ".join(plain(_shown(c)).lower() for c in self.cells)


def _shown(cell: object) -> object:
    return cell.shown if isinstance(cell, Cell) else cell


def _sort_value(cell: object) -> tuple[int, Any]:
    """Cells of mixed kinds sort without comparing a str with a number: empties first."""
    value = cell.sort if isinstance(cell, Cell) and cell.sort is not None else _shown(cell)
    if value is None or value == "":
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float)):
        return (1, value)
    if isinstance(value, datetime):
        return (2, value.timestamp())
    if isinstance(value, date):
        return (2, value.toordinal())
    if isinstance(value, Text):
        return (3, value.plain.lower())
    return (3, str(value).lower())


class _FilterPrompt(ModalScreen[str | None]):
    """The one-line filter the table opens on ``/``: live, Enter keeps, Escape clears."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "clear", "Clear filter", id="filter-clear")]
    DEFAULT_CSS = """
    _FilterPrompt { align: center bottom; background: $background 30%; }
    _FilterPrompt > Vertical { width: 60; height: auto; border: round $accent; background: $surface;
                               padding: 0 1; margin-bottom: 2; }
    """

    def __init__(self, table: OfisiTable) -> None:
        super().__init__()
        self.table = table

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(literal(f"Filter {self.table.noun}: type to narrow, Enter keeps, Escape clears"))
            yield Input(self.table.filter_text, placeholder="Words in any column", id="table-filter")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        if not self.table.search_in_core:
            self.table.set_filter(event.value)

    @on(Input.Submitted)
    def _keep(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_clear(self) -> None:
        self.dismiss("")


def _literal_cell(cell: object) -> object:
    return literal(cell) if isinstance(cell, str) or cell is None else cell


class LiteralTable(DataTable):
    """A ``DataTable`` whose ``str`` cells are shown literally (never markup), for screens that
    have not moved to :class:`OfisiTable` yet. Use it wherever a ``DataTable`` shows data."""

    def add_row(self, *cells: object, height: int | None = 1, key: str | None = None,
                label: object = None) -> Any:
        return super().add_row(*(_literal_cell(c) for c in cells), height=height, key=key,
                               label=_literal_cell(label) if label is not None else None)

    def _update_dimensions(self, new_rows: Iterable[Any]) -> None:
        """Measure new rows, then drop the lines drawn before: DataTable caches a drawn line without
        the column widths in its key, so a line drawn between adding rows and measuring them (a
        busy machine) stayed cut to the header's widths until the cursor moved."""
        super()._update_dimensions(new_rows)
        self._clear_caches()
        self.refresh()

    def update_cell(self, row_key: Any, column_key: Any, value: object, *, update_width: bool = False) -> None:
        super().update_cell(row_key, column_key, _literal_cell(value), update_width=update_width)

    def update_cell_at(self, coordinate: Any, value: object, *, update_width: bool = False) -> None:
        super().update_cell_at(coordinate, _literal_cell(value), update_width=update_width)


class OfisiTable(LiteralTable):
    """A row-cursor table keyed by record id; see the module docstring for what it promises."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "sort_next", "Sort", id="table-sort", show=False,
                tooltip="Sort by the next column (the header shows which)."),
        Binding("S", "sort_reverse", "Reverse sort", id="table-sort-reverse", show=False,
                tooltip="Reverse the order of the sorted column."),
        Binding("slash", "filter", "Filter", id="table-filter", show=False,
                tooltip="Show only the rows that contain some words."),
    ]

    class SearchChanged(Message):
        """The person asked for ``text`` in a list the core pages (``search_in_core=True``)."""

        def __init__(self, table: OfisiTable, text: str) -> None:
            super().__init__()
            self.table = table
            self.text = text

        @property
        def control(self) -> OfisiTable:
            return self.table

    class NearEnd(Message):
        """The cursor reached the last row: read the next page and :meth:`OfisiTable.append` it."""

        def __init__(self, table: OfisiTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> OfisiTable:
            return self.table

    def __init__(
        self,
        columns: Iterable[str | Column] = (),
        *,
        empty: str = "Nothing here yet.",
        noun: str = "rows",
        search_in_core: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self._columns = [c if isinstance(c, Column) else Column(c) for c in columns]
        self.empty = empty
        self.noun = noun
        self.search_in_core = search_in_core
        self.filter_text = ""
        self.sort_column: int | None = None
        self.sort_reverse = False
        self._rows: list[Row] = []
        self._by_id: dict[str, Row] = {}

    def on_mount(self) -> None:
        for index, column in enumerate(self._columns):
            self.add_column(column.label, key=column.key or f"c{index}", width=column.width)

    # ------------------------------------------------------------ the record under the cursor

    @property
    def selected_id(self) -> Hashable | None:
        """The id of the record under the cursor, or None when no row is shown."""
        row = self.selected_row
        return None if row is None else row.id

    @property
    def selected_row(self) -> Row | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key((min(self.cursor_row, self.row_count - 1), 0)).row_key.value
        return self._by_id.get(key) if key is not None else None

    @property
    def records(self) -> list[Row]:
        """Every row held (shown or filtered out), in the order loaded."""
        return list(self._rows)

    @property
    def shown_rows(self) -> list[Row]:
        """The rows on screen, in the order shown."""
        return [self._by_id[str(row.key.value)] for row in self.ordered_rows]

    def move_to(self, record_id: Hashable) -> bool:
        """Put the cursor on ``record_id`` if it is shown."""
        key = str(record_id)
        if key in self.rows:
            self.move_cursor(row=self.get_row_index(key))
            return True
        return False

    # ------------------------------------------------------------ loading

    def reload(self, rows: Iterable[Row]) -> None:
        """Replace the rows; the cursor stays on the same record, or the nearest row if it left."""
        self._rows = list(rows)
        self._by_id = {str(r.id): r for r in self._rows}
        self._show()

    def append(self, rows: Iterable[Row]) -> None:
        """Add the next page (rows already held are skipped); the cursor does not move."""
        new = [r for r in rows if str(r.id) not in self._by_id]
        self._rows.extend(new)
        self._by_id.update((str(r.id), r) for r in new)
        self._show()

    def _visible(self) -> list[Row]:
        rows = self._rows
        if self.filter_text and not self.search_in_core:
            words = self.filter_text.lower().split()
            rows = [r for r in rows if all(w in r.text() for w in words)]
        if self.sort_column is not None:
            column = self.sort_column
            rows = sorted(rows, key=lambda r: _sort_value(r.cells[column]) if column < len(r.cells) else (0, 0),
                          reverse=self.sort_reverse)
        return rows

    def _show(self) -> None:
        had = self.selected_id
        position = self.cursor_row if self.row_count else 0
        self.clear()
        for row in self._visible():
            self.add_row(*(literal(_shown(c)) for c in row.cells), key=str(row.id))
        if self.row_count:
            if had is None or not self.move_to(had):
                self.move_cursor(row=min(max(position, 0), self.row_count - 1), animate=False)
        self._show_sort()

    # ------------------------------------------------------------ sorting

    def sort_by(self, column: int | None, *, reverse: bool = False) -> None:
        self.sort_column, self.sort_reverse = column, reverse
        self._show()

    def _show_sort(self) -> None:
        for index, column in enumerate(self.ordered_columns):
            label = self._columns[index].label if index < len(self._columns) else plain(column.label)
            if index == self.sort_column:
                label += " ▼" if self.sort_reverse else " ▲"
            if column.label.plain != label:
                column.label = Text(label)
                column.content_width = max(column.content_width, len(label))
        self._require_update_dimensions = True
        self.refresh()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        if event.data_table is not self:
            return
        if self.sort_column == event.column_index:
            self.sort_by(event.column_index, reverse=not self.sort_reverse)
        else:
            self.sort_by(event.column_index)

    def _screen_claims(self, key: str) -> bool:
        """A binding of the screen's for ``key`` wins over the table's."""
        try:
            return bool(self.screen._bindings.key_to_bindings.get(key))
        except Exception:
            return False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "sort_next":
            return not self._screen_claims("s")
        if action == "sort_reverse":
            return not self._screen_claims("S")
        if action == "filter":
            return not self._screen_claims("slash")
        return super().check_action(action, parameters)

    def action_sort_next(self) -> None:
        count = len(self.ordered_columns)
        if not count:
            return
        nxt = 0 if self.sort_column is None else self.sort_column + 1
        self.sort_by(nxt if nxt < count else None)

    def action_sort_reverse(self) -> None:
        self.sort_by(self.sort_column if self.sort_column is not None else 0, reverse=not self.sort_reverse)

    # ------------------------------------------------------------ filtering

    def set_filter(self, text: str) -> None:
        """Show only the rows holding every word of ``text`` (or ask the core, when it pages)."""
        self.filter_text = text.strip()
        if self.search_in_core:
            self.post_message(self.SearchChanged(self, self.filter_text))
        else:
            self._show()

    def action_filter(self) -> None:
        def done(text: str | None) -> None:
            self.set_filter(text or "")
            self.focus()

        self.app.push_screen(_FilterPrompt(self), callback=done)

    # ------------------------------------------------------------ paging

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self and self.row_count and event.cursor_row >= self.row_count - 1:
            self.post_message(self.NearEnd(self))

    # ------------------------------------------------------------ the empty state

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        height = super().get_content_height(container, viewport, width)
        return height + 1 if not self.row_count and self.empty else height

    def render_line(self, y: int) -> Strip:
        header = self.header_height if self.show_header else 0
        if not self.row_count and self.empty and y == header:
            width = self.size.width
            text = Text(self.empty if not self.filter_text else f"No {self.noun} match “{self.filter_text}”: "
                        "press / and clear the filter.", style="italic")
            segments = list(text.render(self.app.console))
            base = self.rich_style + Style(dim=True)
            return Strip(segments).apply_style(base).adjust_cell_length(width, base).crop(0, width)
        return super().render_line(y)


def table_pane(title: str, table: OfisiTable, *, id: str, title_id: str | None = None,
               classes: str = "pane") -> Vertical:
    """A list under its title, as a home's panes are: ``yield table_pane("Recent messages",
    OfisiTable(...), id="messages-pane")``. ``title_id`` names the title for a screen that
    updates it (``"Clients — 50 of 61"``); the title is shown literally."""
    return Vertical(Label(literal(title), id=title_id, classes="pane-title"), table, id=id, classes=classes)
