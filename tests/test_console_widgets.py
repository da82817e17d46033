"""The console's shared widgets on their own, in a small app driven by Pilot."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from console.widgets import (
    HELP_BINDING, AskText, BarChart, Cell, Confirm, KeysHelp, OfisiTable, Presenter, Row, literal, plain,
    show_help,
)
from console.widgets.chart import draw_bars
from tests.console_support import screen_text, until

NASTY = ["[/]", "[bold]x", "[link=javascript:x]y[/link]", "\x1b[31mred"]


# ---------------------------------------------------------------- text

def test_literal_is_never_markup_and_shows_controls():
    assert literal("[/]").plain == "[/]"
    assert literal("[bold]x").plain == "[bold]x" and not literal("[bold]x").spans
    assert literal(None).plain == ""
    assert literal(12).plain == "12"
    assert literal("\x1b[31mred").plain == "␛[31mred"
    assert plain("a\tb\r\nc\x00") == "a b c␀"
    assert plain("line one\nline two", lines=True) == "line one\nline two"
    built = Text("kept", style="bold")
    assert literal(built) is built


class _Shows(App):
    def compose(self) -> ComposeResult:
        for index, value in enumerate(NASTY):
            yield Static(literal(value), id=f"s{index}")


async def test_people_text_renders_literally_without_crashing():
    app = _Shows()
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        for value in NASTY:
            assert plain(value) in shown
        app.notify(NASTY[0], markup=False)
        await pilot.pause()
        assert app.is_running


# ---------------------------------------------------------------- presenter

def _org(kind: str) -> SimpleNamespace:
    return SimpleNamespace(kind=kind, currency="KES", tz=ZoneInfo("Africa/Nairobi"))


def test_presenter_masks_phones_where_the_area_does():
    agency, salon = Presenter.for_org(_org("agency")), Presenter.for_org(_org("salon"))
    assert agency.phone("+254712345912") == "+2547•••••912"
    assert agency.phone("+254712345912", unlocked=True) == "+254 712 345912"
    assert agency.person("Peter Kiptoo", "+254712345912") == "Peter Kiptoo, +2547•••••912"
    assert salon.phone("+254712345912") == "+254 712 345912"
    assert salon.phone("+2547•••••912") == "+2547•••••912"
    assert salon.phone("a@example.com") == "a@example.com"
    assert salon.person("[/]", None) == "[/]"


def test_presenter_money_times_and_secret_messages():
    p = Presenter.for_org(_org("chama"))
    assert p.money(150000) == "KES 1,500"
    assert p.money(None) == ""
    at = datetime(2026, 1, 5, 21, 30, tzinfo=timezone.utc)
    assert p.time(at) == "06 Jan 00:30"  # Nairobi is UTC+3
    assert p.date(at) == "06 Jan 2026"
    code = SimpleNamespace(to="+254712345912", body="Your code is 123456", secret=True)
    assert p.message_text(code) == "(one-time code)"
    hello = SimpleNamespace(to="+254712345912", body="Hi [/]\n price?", secret=False)
    assert p.message_text(hello) == "Hi [/] price?"


# ---------------------------------------------------------------- table

PEOPLE = [(i, f"Person {i:02}", (i * 7) % 10) for i in range(1, 11)]


class _TableApp(App):
    BINDINGS = [HELP_BINDING]

    def __init__(self, screen_binds_s: bool = False) -> None:
        super().__init__()
        self.screen_binds_s = screen_binds_s
        self.s_pressed = 0

    def compose(self) -> ComposeResult:
        yield OfisiTable(("Name", "Score"), empty="No people yet: press a to add one.", noun="people", id="people")
        yield Footer()

    def action_help(self) -> None:
        show_help(self)

    def rows(self, people=PEOPLE) -> list[Row]:
        return [Row(pid, (name, Cell(str(score), score)), data=pid) for pid, name, score in people]

    def loaded(self, cursor: int) -> OfisiTable:
        """The table, focused, with ``PEOPLE`` in it and the cursor on row ``cursor``."""
        table = self.query_one(OfisiTable)
        table.focus()
        table.reload(self.rows())
        table.move_cursor(row=cursor)
        return table


async def test_the_cursor_stays_on_the_record_across_reloads():
    app = _TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.loaded(cursor=5)
        assert table.selected_id == 6 and table.selected_row.data == 6
        table.reload(app.rows(list(reversed(PEOPLE))))       # the record moved
        assert table.selected_id == 6 and table.cursor_row == 4
        table.reload(app.rows([p for p in reversed(PEOPLE) if p[0] != 6]))   # it left the list
        assert table.cursor_row == 4 and table.selected_id == 5
        table.reload([])
        assert table.selected_id is None and table.selected_row is None
        await pilot.pause()
        assert "No people yet: press a to add one." in screen_text(app)


async def test_sorting_by_key_and_by_header_click_keeps_the_record():
    app = _TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.loaded(cursor=2)
        await pilot.press("s")                               # by Name
        assert table.sort_column == 0 and table.selected_id == 3
        await pilot.press("s")                               # by Score, numerically
        assert [r.id for r in table.shown_rows][:3] == [10, 3, 6]
        assert table.selected_id == 3
        await pilot.press("S")
        assert table.sort_reverse and [r.id for r in table.shown_rows][0] == 7
        await pilot.click("#people", offset=(2, 0))           # the Name header
        await pilot.pause()
        assert table.sort_column == 0 and not table.sort_reverse
        assert "Name ▲" in screen_text(app)


async def test_a_screen_binding_wins_over_the_tables_sort_key():
    class Claims(Screen):
        BINDINGS = [Binding("s", "sms", "SMS")]

        def compose(self):
            yield OfisiTable(("Name",), id="t")

        def action_sms(self):
            self.app.s_pressed += 1

    app = _TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        await app.push_screen(Claims())
        table = app.screen.query_one(OfisiTable)
        table.reload([Row(1, ("b",)), Row(2, ("a",))])
        table.focus()
        await pilot.press("s")
        assert app.s_pressed == 1 and table.sort_column is None


async def test_slash_filters_the_rows_and_escape_clears():
    app = _TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.loaded(cursor=6)
        await pilot.press("slash")
        await until(pilot, lambda: isinstance(app.focused, Input), what="the filter box")
        await pilot.press("0", "7")
        assert [r.id for r in table.shown_rows] == [7] and table.selected_id == 7
        await pilot.press("enter")
        assert table.filter_text == "07" and table.row_count == 1
        await pilot.press("slash")
        await until(pilot, lambda: isinstance(app.focused, Input), what="the filter box")
        await pilot.press("escape")
        await pilot.pause()
        assert table.filter_text == "" and table.row_count == 10 and table.selected_id == 7


async def test_a_core_paged_list_asks_the_screen_to_search_and_to_page():
    seen: list[object] = []

    class Paged(App):
        def compose(self):
            yield OfisiTable(("Name",), search_in_core=True, id="t")

        def on_ofisi_table_search_changed(self, event):
            seen.append(("search", event.text))

        def on_ofisi_table_near_end(self, event):
            seen.append("page")
            event.table.append([Row(3, ("c",)), Row(2, ("b again",))])

    app = Paged()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(OfisiTable)
        table.reload([Row(1, ("a",)), Row(2, ("b",))])
        table.focus()
        table.set_filter("kip")
        await pilot.press("down")
        await pilot.pause()
        assert ("search", "kip") in seen and "page" in seen
        assert [r.id for r in table.shown_rows] == [1, 2, 3]  # filtered by the core, not here
        assert table.selected_id == 2


# ---------------------------------------------------------------- dialogs

async def test_confirm_says_what_happens_and_n_or_escape_cancel():
    results: list[bool | None] = []
    app = _TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        for key, expected in (("n", False), ("escape", False), ("y", True), ("enter", True)):
            app.push_screen(Confirm("Send to 12 members?", ["12 SMS, about KES 12."], confirm_label="Send"),
                            callback=results.append)
            await pilot.pause()
            shown = screen_text(app)
            assert "Send to 12 members?" in shown and "12 SMS, about KES 12." in shown
            assert "Send (y)" in shown and "No (n)" in shown
            await pilot.press(key)
            await pilot.pause()
            assert results[-1] is expected, key
        assert isinstance(app.screen, Screen) and not isinstance(app.screen, Confirm)


async def test_ask_text_names_the_record_and_refuses_an_empty_answer():
    results: list[str | None] = []
    app = _TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(AskText("SMS to Peter [/] Kiptoo, +2547•••••912", placeholder="Message"),
                        callback=results.append)
        await pilot.pause()
        assert "SMS to Peter [/] Kiptoo, +2547•••••912" in screen_text(app)
        await pilot.press("enter")
        assert not results and isinstance(app.screen, AskText)
        app.screen.query_one(Input).value = "Karibu"
        await pilot.press("enter")
        await pilot.pause()
        assert results == ["Karibu"]
        app.push_screen(AskText("Why?"), callback=results.append)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert results[-1] is None


# ---------------------------------------------------------------- help

async def test_question_mark_lists_the_screens_keys():
    app = _TableApp()
    async with app.run_test(size=(100, 30)) as pilot:
        app.query_one(OfisiTable).focus()
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, KeysHelp), what="the keys")
        help_table = app.screen.query_one(OfisiTable)
        does = {row.data.does: row.data for row in help_table.records}
        assert {"Sort", "Reverse sort", "Filter", "Keys"} <= set(does)
        assert does["Filter"].key == "/"
        listed = [row.data for row in help_table.records]
        moving = [k.moves for k in listed]
        assert moving == sorted(moving) and any(moving)  # what the keys do first, cursor moves last
        assert not does["Sort"].moves and does["Cursor down"].moves
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, KeysHelp)


# ---------------------------------------------------------------- chart

def test_bars_have_axes_labels_and_values():
    text = draw_bars("Contributions", [("Jan [/]", 1500), ("Feb", 750)], 50, axis="Month", unit="KES").plain
    lines = text.splitlines()
    assert lines[0] == "Contributions (KES)"
    assert "Month │" in lines[1]
    jan, feb = lines[2], lines[3]
    assert jan.startswith("Jan [/] │") and jan.rstrip().endswith("1,500")
    assert feb.rstrip().endswith("750") and feb.count("█") * 2 in range(jan.count("█") - 1, jan.count("█") + 2)
    assert "└" in lines[4] and lines[5].strip().startswith("0") and lines[5].rstrip().endswith("1,500")
    assert "Nothing to chart yet." in draw_bars("Empty", [], 40).plain


async def test_a_bar_chart_draws_to_its_width():
    class Charts(App):
        def compose(self):
            yield BarChart("Bookings", axis="Day", id="chart")

    app = Charts()
    async with app.run_test(size=(70, 12)) as pilot:
        app.query_one(BarChart).plot([("Mon", 3), ("Tue", 5)], shown=lambda v: f"{v:.0f} booked")
        await pilot.pause()
        shown = screen_text(app)
        assert "Bookings" in shown and "Tue │" in shown and "5 booked" in shown
