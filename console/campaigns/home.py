"""The campaign office's campaigns: a list with live progress bars, a new-campaign
form with a preview, launch / pause / resume / cancel, analytics with a chart, ``y``
for the replies of the campaign under the cursor (``console.campaigns.replies``), ``t``
for the stored message templates and ``g`` for the quiet hours and DLT registration
(``console.campaigns.settings``; read only, and the key says so, without ``campaigns.manage``).

Launching and resuming send to many people, so each asks first and says how many
recipients, how many SMS parts and, where the provider priced earlier messages, the
estimated cost (``console.campaigns.launch``). The list is an ``OfisiTable``: an
action works on the campaign under the cursor and the cursor stays on it.

``CampaignsHome`` subclasses the vendor registry's home of the campaigns kind
(``console.vendors``) and registers again, so ``v`` still opens the registry.
Every database call runs in a thread worker that posts a message; the list is
read again whenever the dispatcher announces a change to the org (a few times a
second at most while a campaign sends), which is what moves the bars.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Label, Sparkline, Static
from textual.worker import get_current_worker

from console import home, vendors
from console.campaigns.launch import LaunchFacts, confirm_launch, confirm_resume, launch_facts
from console.campaigns.new_campaign import NewCampaignScreen
from console.campaigns.replies import RepliesScreen
from console.campaigns.settings import CampaignSettingsScreen
from console.campaigns.templates import TemplatesScreen
from console.widgets.table import Cell, OfisiTable, Row
from console.widgets.text import literal
from core.campaigns import (
    CampaignProgress,
    CampaignView,
    cancel_campaign,
    launch_campaign,
    list_campaigns,
    pause_campaign,
    preview,
    progress_of,
    resume_campaign,
    survey_tally,
)
from core.campaigns.reports import CampaignReportRow, DaySends, campaign_report, sends_by_day, sends_over_time
from core.money import format_money

PAGE = 50
DAYS_SHOWN = 7  # the analytics line's last days of sending
BAR = 20


def progress_bar(p: CampaignProgress) -> str:
    """``██████░░░░ 60%``: the share of messages that have an outcome."""
    if not p.total:
        return "░" * BAR + "   –"
    done = p.total - p.queued
    filled = round(BAR * done / p.total)
    return "█" * filled + "░" * (BAR - filled) + f" {100 * done // p.total:3d}%"


def campaign_cells(c: CampaignView, p: CampaignProgress | None) -> tuple[object, ...]:
    if p is None:
        return (Cell(str(c.id), c.id), c.name, c.channel, c.status, "", "", "")
    done = p.total - p.queued
    return (Cell(str(c.id), c.id), c.name, c.channel, c.status, Cell(progress_bar(p), done / p.total if p.total else 0),
            Cell(f"{p.sent + p.delivered:,}/{p.total:,}", p.sent + p.delivered),
            Cell(f"{p.failed:,}" + (f" +{p.unknown} ?" if p.unknown else ""), p.failed))


class CampaignsLoaded(Message):
    def __init__(self, campaigns: list[CampaignView], progress: dict[int, CampaignProgress]) -> None:
        super().__init__()
        self.campaigns, self.progress = campaigns, progress


class AnalyticsLoaded(Message):
    def __init__(self, campaign_id: int, series: list[int], tally: dict[str, int],
                 report: CampaignReportRow | None = None, days: list[DaySends] | None = None) -> None:
        super().__init__()
        self.campaign_id, self.series, self.tally = campaign_id, series, tally
        self.report, self.days = report, days or []


class FactsRead(Message):
    def __init__(self, verb: str, facts: LaunchFacts) -> None:
        super().__init__()
        self.verb, self.facts = verb, facts


class CampaignChanged(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


@home.register_home
class CampaignsHome(vendors.CampaignsHome):
    """Contacts, messages and vendors (``v``), and the org's campaigns with their progress."""

    BINDINGS = [
        Binding("n", "new_campaign", "New campaign", id="new-campaign",
                tooltip="Write a campaign: name, channel, audience and text, with a preview."),
        Binding("l", "launch", "Launch", id="launch-campaign",
                tooltip="Queue the draft under the cursor for sending (asks first: recipients, SMS parts, cost)."),
        Binding("z", "pause", "Pause", id="pause-campaign", tooltip="Stop sending; nothing is sent twice on resume."),
        Binding("s", "resume", "Resume", id="resume-campaign", tooltip="Carry on sending a paused campaign."),
        Binding("x", "cancel_campaign", "Cancel campaign", id="cancel-campaign",
                tooltip="Stop for good: what was not sent is never sent."),
        Binding("p", "preview", "Preview", id="preview-campaign",
                tooltip="The first recipients' texts as they will be sent."),
        Binding("y", "replies", "Replies", id="campaign-replies",
                tooltip="What people answered the campaign under the cursor, and who opted out."),
        Binding("t", "templates", "Templates", id="campaign-templates",
                tooltip="The stored message templates: list, add, edit, preview."),
        Binding("g", "settings", "Settings", id="campaign-settings",
                tooltip="Quiet hours and the DLT registration of SMS to India: see and change them."),
        Binding("g", "settings_read_only", "Settings (read only)", id="campaign-settings-read-only",
                tooltip="Quiet hours and the DLT registration of SMS to India; changing them needs a role "
                        "that manages campaigns."),
    ]
    DEFAULT_CSS = """
    #campaigns-pane { height: 1fr; min-height: 10; }
    #campaigns { height: 1fr; }
    #campaign-analytics { height: 5; }
    #campaign-detail { width: 1fr; }
    #campaign-sparkline { width: 1fr; height: 4; }
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.campaigns: dict[int, CampaignView] = {}
        self.progress: dict[int, CampaignProgress] = {}
        self.campaigns_loaded = False

    def compose_panels(self) -> ComposeResult:
        yield from super().compose_panels()
        with Vertical(id="campaigns-pane", classes="pane"):
            yield Label("Campaigns", id="campaigns-title", classes="pane-title")
            yield OfisiTable(("Id", "Campaign", "Channel", "Status", "Progress", "Sent", "Failed"), noun="campaigns",
                             empty="No campaigns yet: press n to write one.", id="campaigns")
            with Horizontal(id="campaign-analytics"):
                yield Static("", id="campaign-detail", markup=False)
                yield Sparkline([], id="campaign-sparkline")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("new_campaign", "settings"):
            return self.may("campaigns.manage")
        if action == "settings_read_only":
            return not self.may("campaigns.manage")
        if action in ("launch", "pause", "resume", "cancel_campaign"):
            return self.may("campaigns.send")
        return super().check_action(action, parameters)

    # ------------------------------------------------------------ reading

    def action_refresh(self) -> None:
        super().action_refresh()
        self.load_campaigns()

    @work(thread=True, exclusive=True, group="campaigns", exit_on_error=False)
    def load_campaigns(self) -> None:
        worker = get_current_worker()
        with self.database.session() as session:
            rows = list_campaigns(session, self.actor, self.org.id, limit=PAGE)
            progress = progress_of(session, self.actor, self.org.id, [c.id for c in rows]) if rows else {}
        if not worker.is_cancelled:
            self.post_from_worker(CampaignsLoaded(rows, progress))

    def on_campaigns_loaded(self, message: CampaignsLoaded) -> None:
        self.campaigns = {c.id: c for c in message.campaigns}
        self.progress = message.progress
        self.query_one("#campaigns", OfisiTable).reload(
            Row(c.id, campaign_cells(c, message.progress.get(c.id)), data=c) for c in message.campaigns)
        sending = sum(1 for c in message.campaigns if c.status == "running")
        self.query_one("#campaigns-title", Label).update(
            f"Campaigns — {len(message.campaigns)}" + (f", {sending} sending" if sending else ""))
        self.campaigns_loaded = True
        self._show_selected()

    def selected(self) -> CampaignView | None:
        row = self.query_one("#campaigns", OfisiTable).selected_row
        return None if row is None else self.campaigns.get(int(row.id))

    @on(DataTable.RowHighlighted, "#campaigns")
    def _show_selected(self) -> None:
        campaign = self.selected()
        if campaign is not None:
            self.load_analytics(campaign.id, bool(campaign.survey))

    @work(thread=True, exclusive=True, group="campaign-analytics", exit_on_error=False)
    def load_analytics(self, campaign_id: int, survey: bool) -> None:
        with self.database.session() as session:
            series = sends_over_time(session, self.actor, self.org.id, campaign_id)
            tally = survey_tally(session, self.actor, self.org.id, campaign_id) if survey else {}
            report = campaign_report(session, self.actor, self.org.id, campaign_id=campaign_id)
            days = sends_by_day(session, self.actor, self.org.id, campaign_id)[-DAYS_SHOWN:]
        self.post_from_worker(AnalyticsLoaded(campaign_id, series, tally, report[0] if report else None, days))

    def on_analytics_loaded(self, message: AnalyticsLoaded) -> None:
        campaign, p = self.campaigns.get(message.campaign_id), self.progress.get(message.campaign_id)
        if campaign is None:
            return
        lines = [f"{campaign.name}: {campaign.status}, run {campaign.runs}, audience {campaign.audience}"]
        if p is not None:
            lines.append(f"{p.total:,} messages: {p.sent:,} sent, {p.delivered:,} delivered, {p.failed:,} failed, "
                         f"{p.unknown:,} unknown, {p.queued:,} waiting; {p.opted_out:,} opted out")
        if campaign.pause_reason:
            lines.append(f"Paused: {campaign.pause_reason}")
        if message.tally:
            lines.append("Answers: " + ", ".join(f"{k} {v}" for k, v in message.tally.items()))
        r = message.report
        if r is not None:
            line = f"{r.responses:,} responses ({r.response_rate:.0%} of those reached)"
            if r.cost_currency:
                line += (f"; cost {format_money(r.cost_minor, r.cost_currency)}, "
                         f"{format_money(r.cost_per_message_minor, r.cost_currency)} a message")
            lines.append(line)
        if message.days:
            lines.append("By day: " + ", ".join(f"{d.day:%d %b} {d.sent:,} sent/{d.failed:,} failed"
                                                for d in message.days))
        self.query_one("#campaign-detail", Static).update(literal("\n".join(lines), lines=True))
        self.query_one("#campaign-sparkline", Sparkline).data = message.series

    # ------------------------------------------------------------ writing

    def _change(self, verb: str) -> None:
        campaign = self.selected()
        if campaign is None:
            self.notify("Highlight a campaign first.", markup=False)
            return
        self.change_campaign(verb, campaign.id)

    def action_launch(self) -> None:
        self._ask_first("launch")

    def action_pause(self) -> None:
        self._change("pause")

    def action_resume(self) -> None:
        self._ask_first("resume")

    def _ask_first(self, verb: str) -> None:
        """Launching or resuming sends to many people: read what it will do, then ask."""
        campaign = self.selected()
        if campaign is None:
            self.notify("Highlight a campaign first.", markup=False)
            return
        self.read_facts(verb, campaign)

    @work(thread=True, exclusive=True, group="campaign-facts", exit_on_error=False)
    def read_facts(self, verb: str, campaign: CampaignView) -> None:
        waiting = self.progress[campaign.id].queued if verb == "resume" and campaign.id in self.progress else 0
        with self.database.session() as session:
            facts = launch_facts(session, self.actor, self.org.id, campaign, waiting=waiting)
        self.post_from_worker(FactsRead(verb, facts))

    def on_facts_read(self, message: FactsRead) -> None:
        facts = message.facts
        dialog = confirm_launch(facts) if message.verb == "launch" else confirm_resume(facts)
        self.app.push_screen(dialog, callback=lambda yes: yes and self.change_campaign(message.verb, facts.campaign_id))

    def action_cancel_campaign(self) -> None:
        self._change("cancel")

    @work(thread=True, exclusive=False, group="campaign-change", exit_on_error=False)
    def change_campaign(self, verb: str, campaign_id: int) -> None:
        with self.database.session() as session:
            if verb == "launch":
                result = launch_campaign(session, self.actor, self.org.id, campaign_id)
                skipped = ", ".join(f"{n} {why.replace('_', ' ')}" for why, n in sorted(result.skipped.items()))
                text = f"{result.queued:,} messages queued" + (f"; skipped {skipped}" if skipped else "")
            else:
                fn = {"pause": pause_campaign, "resume": resume_campaign, "cancel": cancel_campaign}[verb]
                text = f"Campaign {campaign_id} is {fn(session, self.actor, self.org.id, campaign_id).status}"
        self.post_from_worker(CampaignChanged(text))

    def on_campaign_changed(self, message: CampaignChanged) -> None:
        self.notify(message.text, markup=False)
        self.load_campaigns()

    def action_preview(self) -> None:
        campaign = self.selected()
        if campaign is not None:
            self.load_preview(campaign.id)

    @work(thread=True, exclusive=True, group="campaign-preview", exit_on_error=False)
    def load_preview(self, campaign_id: int) -> None:
        with self.database.session() as session:
            shown = preview(session, self.actor, self.org.id, campaign_id)
        text = "\n".join(f"{self.present.phone(to)}: {body}" for to, body in shown) or "Nobody in the audience."
        self.post_from_worker(CampaignChanged(text))

    def action_new_campaign(self) -> None:
        self.app.push_screen(NewCampaignScreen(self.database, self.actor, self.org), callback=self._created)

    def _created(self, campaign: CampaignView | None) -> None:
        if campaign is not None:
            self.load_campaigns()

    def action_replies(self) -> None:
        campaign = self.selected()
        if campaign is None:
            self.notify("Highlight a campaign first.", markup=False)
            return
        self.app.push_screen(RepliesScreen(self.database, self.actor, self.org, campaign))

    def action_templates(self) -> None:
        self.app.push_screen(TemplatesScreen(self.database, self.actor, self.org, self.membership.role))

    def action_settings(self) -> None:
        self.app.push_screen(CampaignSettingsScreen(self.database, self.actor, self.org, writable=True))

    def action_settings_read_only(self) -> None:
        self.app.push_screen(CampaignSettingsScreen(self.database, self.actor, self.org, writable=False))
