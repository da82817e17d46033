"""The notifications panel: every notice shown this session, newest first.

The app records each notice (see ``OfisiApp.notify``) and publishes it on
``app.notices_signal``; every open panel subscribes and adds a line. The
panel is docked on the right of each console screen and toggled with ctrl+n.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, Static

from console.messages import Notice

SEVERITY_LABELS = {"information": "info", "warning": "warning", "error": "error"}


def notice_line(notice: Notice) -> str:
    return f"{notice.at:%H:%M:%S}  {SEVERITY_LABELS.get(notice.severity, notice.severity)}  {notice.text}"


class NoticeItem(Static):
    """One notice; styled by its severity class."""

    def __init__(self, notice: Notice) -> None:
        super().__init__(notice_line(notice), markup=False, classes=f"notice -{notice.severity}")
        self.notice = notice


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

    def _add(self, notice: Notice) -> None:
        self.query_one("#no-notices").display = False
        # Newest first, just under the title.
        self.mount(NoticeItem(notice), after=0)

    @property
    def lines(self) -> list[str]:
        return [notice_line(item.notice) for item in self.query(NoticeItem)]
