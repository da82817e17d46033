"""What people answered one campaign (``core.campaigns.campaign_replies``): the free-text
replies newest first, with who sent them and the survey option each chose, the answers
counted above them, and apart from them who asked for no more messages once the campaign
reached them (a STOP is never a response).

``/`` filters the replies (any words, in any column), the list reads the next page as the
cursor reaches its end, the reply under the cursor is shown whole below the list (a long one
does not fit a column at 80 columns), and every reply is shown as it was written: a text like
``[b]`` is text, never markup.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Label, Static

from console.base import ConsoleScreen
from console.widgets.present import Presenter
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal, short
from core.actors import Actor
from core.campaigns import CampaignView, campaign_replies, replies_overview
from core.campaigns.service import ReplyView, RepliesOverview
from core.orgs import OrgView
from db.engine import Database

PAGE = 100
HOW = {"sms": "STOP by SMS", "whatsapp": "STOP by WhatsApp", "unsubscribe link": "unsubscribe link"}


class RepliesLoaded(Message):
    def __init__(self, replies: list[ReplyView], overview: RepliesOverview | None, more: bool) -> None:
        super().__init__()
        self.replies, self.overview, self.more = replies, overview, more


def summary(campaign: CampaignView, overview: RepliesOverview) -> str:
    """``12 responses; answers: Yes 8, No 3; 2 opted out`` for the screen's head."""
    parts = [f"{overview.responses:,} response{'s' if overview.responses != 1 else ''}"]
    if overview.tally:
        parts.append("answers: " + ", ".join(f"{option} {n:,}" for option, n in overview.tally.items()))
    parts.append(f"{len(overview.opt_outs):,} opted out")
    return f"{campaign.name}: " + "; ".join(parts)


class RepliesScreen(ConsoleScreen):
    """One campaign's replies and, apart, its opt-outs."""

    BINDINGS = [
        Binding("r,f5", "refresh", "Refresh", id="replies-refresh"),
        Binding("escape", "back", "Back", id="replies-back"),
    ]
    DEFAULT_CSS = """
    #replies { height: 1fr; }
    #reply-detail { height: 3; }
    #reply-opt-outs { height: 7; }
    """

    def __init__(self, database: Database, actor: Actor, org: OrgView, campaign: CampaignView) -> None:
        super().__init__(database)
        self.actor, self.org, self.campaign = actor, org, campaign
        self.present = Presenter.for_org(org)
        self.more = False
        self._paging = False

    def compose_body(self) -> ComposeResult:
        yield Static(literal(self.campaign.name), id="replies-summary")
        yield OfisiTable(("Received", "From", "Answer", "Reply"), noun="replies", id="replies",
                         empty="No replies yet: what people answer this campaign shows here.")
        yield Static("", id="reply-detail")
        yield Label("Opted out after it reached them (not responses)", classes="pane-title")
        yield OfisiTable(("When", "Who", "How"), noun="opt-outs", id="reply-opt-outs",
                         empty="Nobody opted out after this campaign.")

    @property
    def table(self) -> OfisiTable:
        return self.query_one("#replies", OfisiTable)

    def on_mount(self) -> None:
        self.title, self.sub_title = self.org.name, f"Replies to campaign {self.campaign.id}"
        self.table.focus()
        self.action_refresh()

    def org_data_changed(self) -> None:
        self.action_refresh()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_refresh(self) -> None:
        self.load(None)

    @work(thread=True, exclusive=True, group="replies", exit_on_error=False)
    def load(self, before_id: int | None) -> None:
        with self.database.session() as session:
            replies = campaign_replies(session, self.actor, self.org.id, self.campaign.id, before_id=before_id,
                                       limit=PAGE + 1)
            overview = (replies_overview(session, self.actor, self.org.id, self.campaign.id)
                        if before_id is None else None)
        self.post_from_worker(RepliesLoaded(replies[:PAGE], overview, len(replies) > PAGE))

    def _who(self, who: str, address: str) -> str:
        """``Priya Shah, +91 98765 43210``; the address alone when nobody in the org has it."""
        return self.present.phone(address) if who == address else self.present.person(short(who, 22), address)

    def _row(self, r: ReplyView) -> Row:
        return Row(r.id, (Cell(self.present.time(r.received_at), r.received_at), self._who(r.who, r.phone),
                          r.answer or "", r.text), data=r)

    def on_replies_loaded(self, message: RepliesLoaded) -> None:
        self.more, self._paging = message.more, False
        rows = [self._row(r) for r in message.replies]
        if message.overview is None:
            self.table.append(rows)
            return
        self.table.reload(rows)
        overview = message.overview
        self.query_one("#replies-summary", Static).update(literal(summary(self.campaign, overview)))
        self.query_one("#reply-opt-outs", OfisiTable).reload(
            Row(f"{o.channel}:{o.address}", (Cell(self.present.time(o.at), o.at), self._who(o.who, o.address),
                                             HOW.get(o.how, o.how)), data=o)
            for o in overview.opt_outs)

    @on(DataTable.RowHighlighted, "#replies")
    def _show_whole(self) -> None:
        row = self.table.selected_row
        shown = "" if row is None else f"{self._who(row.data.who, row.data.phone)}: {row.data.text}"
        self.query_one("#reply-detail", Static).update(literal(shown, lines=True))

    @on(OfisiTable.NearEnd, "#replies")
    def _next_page(self) -> None:
        rows = self.table.records
        if self.more and not self._paging and rows:
            self._paging = True
            self.load(min(int(r.id) for r in rows))


__all__ = ["RepliesScreen"]
