"""The new-campaign form: name, channel, audience and text; saved as a draft, launched from the list."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from console.base import ConsoleModal
from console.widgets.text import literal
from core.actors import Actor
from core.campaigns import create_campaign
from core.orgs import OrgView
from db.engine import Database


class NewCampaignScreen(ConsoleModal):
    """Name, channel, audience and text; saved as a draft, then launched from the list."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel-new-campaign")]
    DEFAULT_CSS = """
    NewCampaignScreen { align: center middle; }
    #new-campaign { width: 80; height: auto; border: round $accent; padding: 1 2; background: $surface; }
    #campaign-text { height: 6; }
    """

    def __init__(self, database: Database, actor: Actor, org: OrgView) -> None:
        super().__init__(database)
        self.actor, self.org = actor, org

    def compose(self) -> ComposeResult:
        with Vertical(id="new-campaign"):
            yield Label(literal(f"New campaign for {self.org.name}"), classes="form-title")
            yield Input(id="campaign-name", placeholder="Name, e.g. Scheme reminder")
            yield Select([("SMS", "sms"), ("Email", "email"), ("WhatsApp", "whatsapp")], value="sms",
                         id="campaign-channel", allow_blank=False)
            yield Input(id="campaign-audience", value="all",
                        placeholder="all, or a filter: sector=Textiles,district=Pune")
            yield Input(id="campaign-subject", placeholder="Email subject / WhatsApp template name (optional)")
            yield TextArea(id="campaign-text")
            yield Static("{{ first_name }}, {{ business_name }} … are filled in for each recipient.",
                         id="campaign-hint", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save draft", id="save-campaign", variant="primary")
                yield Button("Cancel", id="cancel-campaign-form")

    def on_mount(self) -> None:
        self.query_one("#campaign-name", Input).focus()

    @on(Button.Pressed, "#save-campaign")
    def _save(self) -> None:
        self.save(self.query_one("#campaign-name", Input).value, str(self.query_one("#campaign-channel", Select).value),
                  self.query_one("#campaign-audience", Input).value, self.query_one("#campaign-subject", Input).value,
                  self.query_one("#campaign-text", TextArea).text)

    @work(thread=True, exclusive=True, group="new-campaign", exit_on_error=False)
    def save(self, name: str, channel: str, audience: str, subject: str, text: str) -> None:
        with self.database.session() as session:
            campaign = create_campaign(session, self.actor, self.org.id, name=name, channel=channel, text=text,
                                       audience=audience or "all", subject=subject.strip() or None)
        self.app.call_from_thread(self.dismiss, campaign)

    @on(Button.Pressed, "#cancel-campaign-form")
    def action_cancel(self) -> None:
        self.dismiss(None)
