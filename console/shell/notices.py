"""The notifications panel: every notice shown this session, newest first.

The app records each notice (see ``OfisiApp.notify``) and publishes it on
``app.notices_signal``; every open panel subscribes and adds a line. The
panel is docked on the right of each console screen and toggled with ctrl+n.
Times are shown in the open org's zone, as the tables show them.
"""

from __future__ import annotations

from datetime import tzinfo

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, Static

from console.messages import Notice
from console.widgets.text import literal, plain

SEVERITY_LABELS = {"information": "info", "warning": "warning", "error": "error"}


def notice_line(notice: Notice, tz: tzinfo | None = None) -> str:
    """``14:05:09  warning  text``, the time in ``tz`` (the open org's zone; the machine's without one)."""
    return f"{notice.at.astimezone(tz):%H:%M:%S}  {SEVERITY_LABELS.get(notice.severity, notice.severity)}  " \
           f"{plain(notice.text)}"


class NoticeItem(Static):
    """One notice; styled by its severity class."""

    def __init__(self, notice: Notice, tz: tzinfo | None = None) -> None:
        super().__init__(literal(notice_line(notice, tz)), classes=f"notice -{notice.severity}")
        self.notice = notice
        self.tz = tz


class NoticesPanel(VerticalScroll):
    """A side panel listing this session's notices."""

    can_focus = False

    def compose(self) -> ComposeResult:
        yield Label("Notices this session", classes="panel-title")
        yield Label("Nothing to report.", id="no-notices")

    def on_mount(self) -> None:
        for notice in list(self.app.notices):
            self._add(notice)
        self.app.notices_signal.subscribe(self, self._add)

    @property
    def tz(self) -> tzinfo | None:
        """The zone of the org the screen shows (tables use it too), if there is one."""
        org = getattr(self.screen, "org", None)
        return getattr(org, "tz", None)

    def _add(self, notice: Notice) -> None:
        self.query_one("#no-notices").display = False
        # Newest first, just under the title.
        self.mount(NoticeItem(notice, self.tz), after=0)

    @property
    def lines(self) -> list[str]:
        return [notice_line(item.notice, item.tz) for item in self.query(NoticeItem)]
