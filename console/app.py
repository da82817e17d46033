"""The Ofisi console app: sign-in, org switching, live updates and notices.

``OfisiApp`` owns the screen flow (sign-in → org switcher when there are
several memberships → the org kind's home screen), the app-wide bindings,
the session's notice log, the one place worker errors become notices, and
the change watcher: a long-running thread worker that waits on
``core.changes.ChangeWatcher`` (PostgreSQL LISTEN/NOTIFY, SQLite's
``data_version``) and tells the open home screen to read again when another
process commits to its org. ``run_console`` is the entry point the CLI calls.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.signal import Signal
from textual.worker import Worker, WorkerState, get_current_worker

from config.errors import OfisiError
from console.messages import Notice, NoticeRecorded, OrgDataChanged
from console.shell.palette import ScreenActionsProvider
from console.shell.remembered import remember_theme, saved_theme
from console.shell.sign_in import SignInScreen
from console.widgets import HELP_BINDING, plain, show_help
from core.registry import load_areas
from console.shell.opening import OpeningDatabase

# The sign-in screen needs none of these: the homes, the org switcher (which read the core's
# models) and the change watcher are imported where they are first used, after it is drawn.
if TYPE_CHECKING:
    from core.users import MembershipView, SignedIn
    from db.engine import Database

log = logging.getLogger("ofisi.console")

WATCH_SECONDS = 0.5  # how long one wait for a change blocks; also the stop latency
KEPT_NOTICES = 500


def log_path() -> Path:
    return Path(platformdirs.user_log_dir("ofisi", appauthor=False)) / "console.log"


class OfisiApp(App[None]):
    """The staff console over one database."""

    CSS_PATH = "app.tcss"
    TITLE = "Ofisi"
    COMMANDS = App.COMMANDS | {ScreenActionsProvider}
    BINDINGS = [
        Binding("ctrl+o", "switch_org", "Switch org", id="switch-org",
                tooltip="Open another of your organisations."),
        Binding("ctrl+l", "sign_out", "Sign out", id="sign-out",
                tooltip="Sign out and return to the sign-in screen."),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True,
                tooltip="Close the console."),
        HELP_BINDING,
    ]

    def __init__(self, database: Database | OpeningDatabase, *, live_updates: bool = True,
                 areas_after_paint: bool = False) -> None:
        super().__init__()
        self.database = database
        self.live_updates = live_updates
        self.areas_after_paint = areas_after_paint
        self.user: SignedIn | None = None
        self.membership: MembershipView | None = None
        self.notices: deque[Notice] = deque(maxlen=KEPT_NOTICES)
        self.notices_signal: Signal[Notice] = Signal(self, "notices")
        self._stop_watching = threading.Event()
        self._watcher_started = threading.Event()
        self._watcher_stopped = threading.Event()

    # ------------------------------------------------------------ start and stop

    def on_mount(self) -> None:
        theme = saved_theme()
        if theme and theme in self.available_themes:
            self.theme = theme
        # Chosen in the palette ("Change theme"); kept in the config directory for the next run.
        self.theme_changed_signal.subscribe(self, lambda chosen: remember_theme(chosen.name))
        self.push_screen(SignInScreen(self.database))
        if isinstance(self.database, OpeningDatabase):
            self.call_after_refresh(self.open_database)
        if self.areas_after_paint:
            self.call_after_refresh(self.load_areas)
        if self.live_updates:
            self.call_after_refresh(self.watch_changes)

    @work(thread=True, exclusive=True, group="database", exit_on_error=False, name="database opener")
    def open_database(self) -> None:
        """Open the database behind the drawn sign-in screen; if it cannot be opened, close the
        console: ``run_console`` then raises why, and the CLI says it as for any other command."""
        try:
            self.database.open()
        except Exception:
            self.call_from_thread(self.exit, return_code=1)

    @work(thread=True, exclusive=True, group="areas", exit_on_error=False, name="area loader")
    def load_areas(self) -> None:
        """Import the areas' services and screens while the person types (the sign-in screen needs
        neither), so the first screen is drawn without waiting for them; opening an org imports
        whatever is still missing itself."""
        from console.home import load_console_modules

        load_areas()
        load_console_modules()

    async def on_unmount(self) -> None:
        self._stop_watching.set()
        if self._watcher_started.is_set():
            # The watcher holds its own connection; let it close before the database goes.
            await asyncio.to_thread(self._watcher_stopped.wait, WATCH_SECONDS * 4)

    # ------------------------------------------------------------ notices and errors

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Show a notice and keep it for the notifications panel (thread-safe).

        Notices often carry people's text (a name, a message), so they are never
        parsed as markup: ``markup`` is accepted and ignored.
        """
        text = plain(message)
        notice = Notice(datetime.now(timezone.utc), severity, f"{title}: {text}" if title else text)
        self.notices.append(notice)
        self.post_message(NoticeRecorded(notice))
        super().notify(text, title=plain(title), severity=severity, timeout=timeout, markup=False)

    def on_notice_recorded(self, message: NoticeRecorded) -> None:
        self.notices_signal.publish(message.notice)

    def report_failure(self, error: BaseException) -> None:
        """A domain refusal is shown as it is; anything else is logged, with a short notice."""
        if isinstance(error, OfisiError):
            self.notify(str(error), severity="error", markup=False, timeout=8)
            return
        log.error("Unexpected error in the console", exc_info=error)
        self.notify(f"Something went wrong and was not saved; the details are in {log_path()}.",
                    severity="error", markup=False, timeout=8)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.report_failure(event.worker.error)

    # ------------------------------------------------------------ signing in and orgs

    def signed_in(self, signed_in: SignedIn) -> None:
        """Route a person who has just signed in to their org, or to the switcher."""
        from console.shell.org_switcher import OrgSwitcherScreen

        memberships = signed_in.memberships
        if not memberships:
            if isinstance(self.screen, SignInScreen):
                self.screen.show_no_memberships(signed_in)
            return
        self.user = signed_in
        self.notify(f"Signed in as {signed_in.user.email}.", markup=False, timeout=3)
        if len(memberships) == 1:
            self.open_org(memberships[0])
        else:
            self.push_screen(OrgSwitcherScreen(memberships, cancellable=False), callback=self.open_org)

    def open_org(self, membership: MembershipView | None) -> None:
        from console.home import HomeScreen, home_screen_for

        if membership is None or self.user is None:
            return
        if self.membership is not None and membership.org.id == self.membership.org.id \
                and isinstance(self.screen, HomeScreen):
            return
        self.membership = membership
        screen_class = home_screen_for(membership.org.kind)
        self.switch_screen(screen_class(self.database, self.user, membership))

    def action_help(self) -> None:
        show_help(self)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Quit is already a screen action (with its key); keep one entry.
        return (command for command in super().get_system_commands(screen) if command.title != "Quit")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "switch_org":
            if self.user is None or len(self.user.memberships) < 2:
                return False  # and the sign-in screen is drawn without importing the switcher
            from console.shell.org_switcher import OrgSwitcherScreen

            return not isinstance(self.screen, (OrgSwitcherScreen, SignInScreen))
        if action == "sign_out":
            return self.user is not None
        return True

    def action_switch_org(self) -> None:
        from console.shell.org_switcher import OrgSwitcherScreen

        if self.user is None or isinstance(self.screen, OrgSwitcherScreen):
            return
        current = self.membership.org.id if self.membership else None
        self.push_screen(OrgSwitcherScreen(self.user.memberships, current_org_id=current),
                         callback=self.open_org)

    async def action_sign_out(self) -> None:
        if self.user is None:
            return
        email = self.user.user.email
        self.user = None
        self.membership = None
        while isinstance(self.screen, ModalScreen) and len(self.screen_stack) > 2:
            await self.pop_screen()
        await self.switch_screen(SignInScreen(self.database))
        self.notify(f"{email} signed out.", markup=False, timeout=3)

    # ------------------------------------------------------------ live updates

    @work(thread=True, exclusive=True, group="changes", exit_on_error=False, name="change watcher")
    def watch_changes(self) -> None:
        """Wait for other sessions' commits and post ``OrgDataChanged`` until the app stops."""
        from core.changes import ChangeWatcher

        worker = get_current_worker()
        self._watcher_started.set()
        try:
            if self._stop_watching.is_set():
                return
            try:
                watcher = ChangeWatcher(self.database.url)
            except Exception as exc:
                log.warning("Live updates are off: %s", exc)
                self.notify("Live updates are off (cannot watch the database); press r to refresh.",
                            severity="warning", markup=False)
                return
            try:
                while not (worker.is_cancelled or self._stop_watching.is_set()):
                    changed = watcher.wait(timeout=WATCH_SECONDS)
                    if changed and not self._stop_watching.is_set():
                        self.post_message(OrgDataChanged(frozenset(changed)))
            except Exception as exc:
                if not self._stop_watching.is_set():
                    log.error("The change watcher stopped", exc_info=exc)
                    self.notify("Live updates stopped (lost the database connection); press r to refresh.",
                                severity="warning", markup=False)
            finally:
                watcher.close()
        finally:
            self._watcher_stopped.set()

    def on_org_data_changed(self, message: OrgDataChanged) -> None:
        from console.home import HomeScreen
        from core.changes import ANY_ORG

        for screen in self.screen_stack:
            if isinstance(screen, HomeScreen) and (ANY_ORG in message.org_ids or screen.org.id in message.org_ids):
                screen.org_data_changed()


@contextmanager
def logging_to_file() -> Iterator[Path]:
    """While the console owns the terminal, log to a file instead of stderr."""
    path = log_path()
    root = logging.getLogger()
    handler: logging.Handler | None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    except OSError:
        handler = None
    terminal = [h for h in root.handlers
                if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)]
    for h in terminal:
        root.removeHandler(h)
    if handler is not None:
        root.addHandler(handler)
    try:
        yield path
    finally:
        if handler is not None:
            root.removeHandler(handler)
            handler.close()
        for h in terminal:
            root.addHandler(h)


def run_console(database_url: str | None = None) -> None:
    """Run the console on the database at ``database_url`` (``OFISI_DATABASE_URL`` when not given),
    opening it while the sign-in screen is drawn; raises why when it cannot be opened."""
    from config import get_settings

    database = OpeningDatabase(database_url or get_settings().database_url)
    try:
        with logging_to_file():
            OfisiApp(database, areas_after_paint=True).run()
    finally:
        database.dispose()
    if database.error is not None:
        raise database.error
