"""The campaigns panel of the campaign office's home: create, preview, launch, pause,
resume, and progress bars and the chart that follow the sending."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, Sparkline, Static, TextArea

from console.app import OfisiApp
from console.campaigns import CampaignsHome, NewCampaignScreen
from console.campaigns.templates import TemplateForm, TemplatesScreen
from console.widgets.confirm import Confirm
from console.widgets.table import OfisiTable
from tests.console_support import screen_text
from core import outbox
from core.providers.log import LogProvider
from core.users import add_user
from tests.test_console import PASSWORD, SIZE, home, sign_in, until


@pytest.fixture
def committed(backend, request):
    """SQLite only: the screens call core services tested on both backends; a console run costs seconds."""
    if backend != "sqlite":
        pytest.skip("console tests run on SQLite")
    return request.getfixturevalue("committed_db")


@pytest.fixture
def programme(committed, make_org, cli_actor):
    from core.vendors import VendorRows, import_vendors

    rows = [(i + 2, {"business_name": f"Enterprise {i:02d}", "owner_name": f"Owner {i}", "phone": f"98765{i:05d}",
                     "sector": "Textiles" if i % 2 == 0 else "Printing", "district": "Pune"}) for i in range(12)]
    with committed.session() as session:
        org = make_org(session, "campaigns", slug="biashara", name="Biashara Boost", country="IN")
        add_user(session, cli_actor, "officer@example.in", org_id=org.id, role="officer", name="Irene",
                 password=PASSWORD)
        import_vendors(session, cli_actor, org.id, VendorRows("seed", (), rows))
    return org


def cells(screen, row: int = 0) -> list[str]:
    return [str(c) for c in screen.query_one("#campaigns", DataTable).get_row_at(row)]


async def test_create_preview_launch_pause_resume_and_watch_it_send(committed, programme):
    async with OfisiApp(committed, live_updates=False).run_test(size=SIZE) as pilot:
        await sign_in(pilot, "officer@example.in")
        screen = await home(pilot)
        assert isinstance(screen, CampaignsHome)
        await until(pilot, lambda: screen.campaigns_loaded, what="the campaigns list")
        # The registry's vendors are counted, not the (empty) contacts under their name.
        await until(pilot, lambda: "registry" in str(screen.query_one("#contact-count", Static).content),
                    what="the vendor count")
        assert str(screen.query_one("#contact-count", Static).content) == (
            "Vendors in the registry: 12 (v) · Contacts: 0")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(pilot.app.screen, NewCampaignScreen), what="the form")
        form = pilot.app.screen
        form.query_one("#campaign-name", Input).value = "Textile scheme"
        form.query_one("#campaign-audience", Input).value = "sector=Textiles"
        form.query_one("#campaign-text", TextArea).text = "Namaste {{ first_name }} of {{ business_name }}"
        await pilot.click("#save-campaign")
        await until(pilot, lambda: pilot.app.screen is screen and screen.query_one("#campaigns", DataTable).row_count,
                    what="the new campaign in the list")
        assert cells(screen)[1:4] == ["Textile scheme", "sms", "draft"]

        await pilot.press("p")
        await until(pilot, lambda: any("Namaste Owner of Enterprise 00" in str(n.message)
                                       for n in pilot.app._notifications), what="the preview")
        await pilot.press("l")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the launch confirmation")
        await pilot.press("y")
        await until(pilot, lambda: cells(screen)[3] == "running", what="the launch")
        assert cells(screen)[5] == "0/6" and cells(screen)[4].endswith("0%")

        await pilot.press("z")
        await until(pilot, lambda: cells(screen)[3] == "paused", what="the pause")
        assert outbox.send_due(committed, {"sms": LogProvider()}).sent == 0
        await pilot.press("s")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the resume confirmation")
        assert "6 messages still to send" in pilot.app.screen.dialog_title
        await pilot.press("y")
        await until(pilot, lambda: cells(screen)[3] == "running", what="the resume")
        assert outbox.send_due(committed, {"sms": LogProvider()}).sent == 6
        screen.org_data_changed()  # what the dispatcher's announcement does in a live console
        await until(pilot, lambda: cells(screen)[3] == "completed", what="the finished campaign")
        assert cells(screen)[4].endswith("100%") and cells(screen)[5] == "6/6"
        await until(pilot, lambda: sum(screen.query_one("#campaign-sparkline", Sparkline).data or []) == 6,
                    what="the chart")
        detail = str(screen.query_one("#campaign-detail", Static).content)
        assert "6 sent" in detail and "0 responses" in detail
        assert "By day: " in detail and "6 sent/0 failed" in detail


def queued(db, campaign_id: int) -> int:
    from sqlalchemy import func, select

    from db.models import Message

    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Message).where(Message.campaign_id == campaign_id)) or 0


async def test_launching_asks_first_with_recipients_parts_and_cost_and_no_queues_nothing(committed, programme,
                                                                                        cli_actor):
    from core.campaigns import create_campaign

    long_text = "Namaste {{ first_name }}, " + "the textile scheme closes on Friday; apply at the office. " * 3
    with committed.session() as s:
        campaign = create_campaign(s, cli_actor, programme.id, name="Scheme", text=long_text,
                                   audience="sector=Textiles")
    async with OfisiApp(committed, live_updates=False).run_test(size=SIZE) as pilot:
        await sign_in(pilot, "officer@example.in")
        screen = await home(pilot)
        await until(pilot, lambda: screen.campaigns_loaded and screen.selected() is not None, what="the campaign")
        screen.query_one("#campaigns", OfisiTable).focus()
        await pilot.press("l")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the launch confirmation")
        dialog = pilot.app.screen
        assert dialog.dialog_title == "Launch “Scheme” to 6 recipients?"
        assert dialog.details[0] == "Audience sector=Textiles: 6 recipients by sms."
        assert dialog.details[1] == "12 SMS parts in all, up to 2 a message (GSM-7)."
        assert "Cost: not known" in dialog.details[2]
        await until(pilot, lambda: "to 6 recipients?" in screen_text(pilot.app), what="the dialog shown")
        await pilot.press("n")
        await until(pilot, lambda: pilot.app.screen is screen, what="back home")
        await pilot.pause(0.3)
        assert queued(committed, campaign.id) == 0 and cells(screen)[3] == "draft"

        await pilot.press("l")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the launch confirmation")
        await pilot.press("y")
        await until(pilot, lambda: queued(committed, campaign.id) == 6, what="six messages queued")
        await until(pilot, lambda: cells(screen)[3] == "running", what="the launch")


async def test_templates_are_listed_added_edited_previewed_and_deleted(committed, programme, cli_actor):
    from sqlalchemy import select

    from core.campaigns import cancel_campaign, create_campaign
    from db.models_vendors import Template

    async with OfisiApp(committed, live_updates=False).run_test(size=SIZE) as pilot:
        await sign_in(pilot, "officer@example.in")
        screen = await home(pilot)
        await until(pilot, lambda: screen.campaigns_loaded, what="the campaigns list")
        await pilot.press("t")
        await until(pilot, lambda: isinstance(pilot.app.screen, TemplatesScreen), what="the templates")
        templates = pilot.app.screen
        assert "No templates yet" in screen_text(pilot.app)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(pilot.app.screen, TemplateForm), what="the form")
        pilot.app.screen.query_one("#template-name", Input).value = "Reminder"
        pilot.app.screen.query_one("#template-body", TextArea).text = "Hi {{ first_name }} of {{ business_name }}"
        await pilot.press("ctrl+s")
        table = templates.query_one("#templates", OfisiTable)
        await until(pilot, lambda: table.row_count == 1, what="the template listed")
        assert [str(c) for c in table.get_row_at(0)][:3] == ["Reminder", "sms", "1"]

        await pilot.press("e")
        await until(pilot, lambda: isinstance(pilot.app.screen, TemplateForm), what="the edit form")
        assert pilot.app.screen.query_one("#template-name", Input).value == "Reminder"
        pilot.app.screen.query_one("#template-body", TextArea).text = "Hello {{ first_name }} {{ unknown }}"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any("cannot be saved" in str(n.message) for n in pilot.app._notifications),
                    what="the refusal")
        pilot.app.screen.query_one("#template-body", TextArea).text = "Hello {{ first_name }}"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: pilot.app.screen is templates and
                    str(table.get_row_at(0)[4]) == "Hello {{ first_name }}", what="the edited template")

        await pilot.press("p")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the preview")
        details = pilot.app.screen.details
        assert details[0].startswith("To Enterprise 00") and details[1] == "Hello Owner"
        assert details[2].endswith("1 SMS part (GSM-7).")
        await pilot.press("y")
        await until(pilot, lambda: pilot.app.screen is templates, what="the preview closed")
        with committed.session() as s:
            assert s.scalar(select(Template.body)) == "Hello {{ first_name }}"
            draft = create_campaign(s, cli_actor, programme.id, name="Uses it", template="Reminder")

        # A template an unfinished campaign uses stays, and the notice says which; then it goes.
        await pilot.press("d")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the delete question")
        assert pilot.app.screen.dialog_title == "Delete the template “Reminder”?"
        await pilot.press("y")
        await until(pilot, lambda: any(f"used by campaign(s) {draft.id}" in str(n.message)
                                       for n in pilot.app._notifications), what="the refusal")
        assert table.row_count == 1
        with committed.session() as s:
            cancel_campaign(s, cli_actor, programme.id, draft.id)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the delete question again")
        await pilot.press("y")
        await until(pilot, lambda: table.row_count == 0, what="the template gone")
    with committed.session() as s:
        assert s.scalar(select(Template.id)) is None


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_the_campaigns_home_shows_five_campaigns_and_its_keys_at_each_size(committed, programme, cli_actor,
                                                                                size):
    from textual.widgets import Footer

    from console.widgets.help import KeysHelp
    from core.campaigns import create_campaign

    with committed.session() as s:
        for i in range(8):
            create_campaign(s, cli_actor, programme.id, name=f"Campaign {i}", text="Hello {{ first_name }}")
    app = OfisiApp(committed, live_updates=False)
    async with app.run_test(size=size) as pilot:
        await sign_in(pilot, "officer@example.in")
        screen = await home(pilot)
        await until(pilot, lambda: screen.campaigns_loaded, what="the campaigns")
        table = screen.query_one("#campaigns", OfisiTable)
        table.focus()  # the campaigns pane is the second list: focusing it brings it into view

        def seen() -> int:
            region = table.region.intersection(screen.region)
            return min(table.row_count, max(region.height - 1, 0))
        await until(pilot, lambda: seen() >= 5, what=f"five campaigns at {size}")
        assert screen.query_one(Footer).region.bottom == size[1]
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, KeysHelp), what="the keys")
        assert {"Launch", "Templates", "New campaign", "Vendors", "Settings"} <= {k.does for k in app.screen.keys}


async def test_the_launch_question_says_the_estimated_cost_once_sms_were_priced(committed, programme, cli_actor):
    from core import outbox as box
    from core.campaigns import create_campaign
    from db.models_campaigns import MessageCost

    with committed.session() as s:
        campaign = create_campaign(s, cli_actor, programme.id, name="Priced", text="Hello {{ first_name }}",
                                   audience="sector=Textiles")
        sent = box.enqueue(s, programme.id, to="+919876500001", body="An earlier one-part SMS",
                           purpose="transactional")
        s.flush()
        s.add(MessageCost(message_id=sent, amount_minor=80, currency="INR"))  # INR 0.80 a part
        s.commit()
    async with OfisiApp(committed, live_updates=False).run_test(size=SIZE) as pilot:
        await sign_in(pilot, "officer@example.in")
        screen = await home(pilot)
        await until(pilot, lambda: screen.campaigns_loaded and screen.selected() is not None, what="the campaign")
        screen.query_one("#campaigns", OfisiTable).focus()
        await pilot.press("l")
        await until(pilot, lambda: isinstance(pilot.app.screen, Confirm), what="the launch confirmation")
        # Six one-part messages at INR 0.80 a part.
        assert pilot.app.screen.details[2].startswith("Estimated cost: about INR 4.80")
        await pilot.press("n")
    assert queued(committed, campaign.id) == 0


async def test_a_surveys_replies_are_listed_literally_with_answers_counted_and_opt_outs_apart(committed, programme,
                                                                                              cli_actor):
    from console.campaigns.replies import RepliesScreen
    from core.campaigns import create_campaign, launch_campaign
    from tests.campaigns_support import mark_sent, reply

    with committed.session() as s:
        survey = create_campaign(s, cli_actor, programme.id, name="Scheme survey", text="Did the scheme help?",
                                 audience="sector=Textiles", survey=["Yes", "No"])
        launch_campaign(s, cli_actor, programme.id, survey.id)
        mark_sent(s, survey.id, 30)
        reply(s, "r1", "+919876500000", "1")
        reply(s, "r2", "+919876500002", "Where do I apply? [b]soon[/b]")
        reply(s, "r3", "+919876500004", "STOP")
    async with OfisiApp(committed, live_updates=False).run_test(size=SIZE) as pilot:
        await sign_in(pilot, "officer@example.in")
        screen = await home(pilot)
        await until(pilot, lambda: screen.campaigns_loaded and screen.selected() is not None, what="the campaign")
        screen.query_one("#campaigns", OfisiTable).focus()
        await pilot.press("y")
        await until(pilot, lambda: isinstance(pilot.app.screen, RepliesScreen), what="the replies")
        replies = pilot.app.screen
        table = replies.query_one("#replies", OfisiTable)
        await until(pilot, lambda: table.row_count == 2, what="the two replies")
        summary = str(replies.query_one("#replies-summary", Static).content)
        assert summary == "Scheme survey: 2 responses; answers: Yes 1, No 0; 1 opted out"
        newest = [str(c) for c in table.get_row_at(0)]
        assert newest[1:] == ["Enterprise 02, +91 98765 00002", "", "Where do I apply? [b]soon[/b]"]
        assert [str(c) for c in table.get_row_at(1)][2:] == ["Yes", "1"]
        await until(pilot, lambda: "apply?" in str(replies.query_one("#reply-detail", Static).content),
                    what="the highlighted reply shown whole")
        assert str(replies.query_one("#reply-detail", Static).content) == (
            "Enterprise 02, +91 98765 00002: Where do I apply? [b]soon[/b]")
        opt_outs = replies.query_one("#reply-opt-outs", OfisiTable)
        assert [str(c) for c in opt_outs.get_row_at(0)][1:] == ["Enterprise 04, +91 98765 00004", "STOP by SMS"]
        await until(pilot, lambda: all(seen in screen_text(pilot.app) for seen in (
            "Where do I apply? [b]soon[/b]", "Opted out after it reached them", "STOP by SMS")), what="the screen drawn")

        await pilot.press("slash")
        await pilot.press(*"apply", "enter")
        await until(pilot, lambda: len(table.shown_rows) == 1, what="the filtered replies")
        assert table.shown_rows[0].data.text.startswith("Where do I apply?")
        await pilot.press("escape")
        await until(pilot, lambda: pilot.app.screen is screen, what="back to the campaigns")


async def test_campaign_settings_are_changed_refused_whole_and_read_only_without_manage(committed, programme,
                                                                                      cli_actor):
    from sqlalchemy import func, select

    from console.campaigns.settings import CampaignSettingsScreen, SettingsForm
    from core.campaigns import campaign_settings
    from db.models import AuditEntry, Message

    with committed.session() as s:
        add_user(s, cli_actor, "viewer@example.in", org_id=programme.id, role="viewer", name="Vikram",
                 password=PASSWORD)
        campaign_settings(s, cli_actor, programme.id, quiet_from="21:00", quiet_until="08:00")
        # An answer to STOP held back this morning for want of the opt-out template's ID.
        s.add(Message(org_id=programme.id, channel="sms", to_address="+919876543210", body="You will get no more SMS.",
                      status="failed", purpose="transactional", dlt_kind="opt-out",
                      last_error="not sent: no DLT template registered for opt-out confirmations"))
        s.commit()

    def audits() -> int:
        with committed.session() as s:
            return s.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.org_id == programme.id, AuditEntry.action.like("campaign.%")))

    app = OfisiApp(committed, live_updates=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "officer@example.in")
        screen = await home(pilot)
        assert screen.active_bindings["g"].binding.description == "Settings"
        await pilot.press("g")
        await until(pilot, lambda: isinstance(app.screen, CampaignSettingsScreen) and app.screen.view is not None,
                    what="the settings")
        settings = app.screen
        table = settings.query_one("#campaign-settings", OfisiTable)
        rows = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert rows["Quiet hours"] == "21:00–08:00 (Asia/Kolkata)"
        assert rows["DLT entity ID"] == "not set" and rows["DLT template: opt-out"] == "not registered"
        assert "(read only)" not in screen_text(app)
        await pilot.press("down", "down")  # the opt-out line says what an unregistered kind means
        await until(pilot, lambda: "SMS of this kind to India fail" in screen_text(app), what="the meaning")

        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, SettingsForm), what="the form")
        form = app.screen
        await pilot.pause(0.1)
        # Every line and the Save button fit inside the box at 80x24.
        assert form.query_one("#dialog").max_scroll_y == 0
        form.query_one("#setting-quiet_from", Input).value = "22:30"
        form.query_one("#setting-dlt-opt-out", Input).value = "1107160000000000001"
        form.query_one("#setting-dlt_entity_id", Input).value = "1101234567890123456"
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is settings and settings.view.quiet_from == "22:30", what="the save")
        rows = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert rows["Quiet hours"] == "22:30–08:00 (Asia/Kolkata)"
        assert rows["DLT template: opt-out"] == "1107160000000000001"
        # The answer held back for that ID goes now, and the notice says so.
        assert any("1 SMS to India held back for want of a DLT ID is queued again." in str(n.message)
                   for n in app._notifications)
        with committed.session() as s:
            assert s.scalar(select(Message.status).where(Message.org_id == programme.id,
                                                         Message.to_address == "+919876543210")) == "queued"
        saved = audits()
        # The setup's, then the quiet hours with the entity ID, the DLT templates, and the release.
        assert saved == 4

        # A wrong hour and markup in the entity ID: refused whole, said in a notice, the typing kept.
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, SettingsForm), what="the form again")
        form = app.screen
        form.query_one("#setting-quiet_until", Input).value = "25:00"
        form.query_one("#setting-dlt_entity_id", Input).value = "[/]"
        form.query_one("#setting-dlt-reply", Input).value = "1107160000000000003"
        await pilot.press("enter")
        await until(pilot, lambda: any("The end of the quiet hours '25:00' is not a time of day" in str(n.message)
                                       and "'[/]' is not a number" in str(n.message)
                                       for n in app._notifications), what="the refusal")
        assert app.screen is form and form.query_one("#setting-dlt_entity_id", Input).value == "[/]"
        assert form.query_one("#setting-quiet_until", Input).value == "25:00"
        with committed.session() as s:
            now = campaign_settings(s, cli_actor, programme.id)
        assert (now.quiet_until, now.dlt_entity_id, now.dlt_templates) == \
            ("08:00", "1101234567890123456", {"opt-out": "1107160000000000001"})
        assert audits() == saved
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is settings, what="the form closed")

    async with OfisiApp(committed, live_updates=False).run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "viewer@example.in")
        screen = await home(pilot)
        assert screen.active_bindings["g"].binding.description == "Settings (read only)"
        await pilot.press("g")
        await until(pilot, lambda: isinstance(pilot.app.screen, CampaignSettingsScreen)
                    and pilot.app.screen.view is not None, what="the read-only settings")
        assert pilot.app.screen.view.quiet_from == "22:30"
        assert "Read only: changing these needs a role that manages campaigns" in screen_text(pilot.app)
        await pilot.press("e", "enter")
        await pilot.pause(0.2)
        assert isinstance(pilot.app.screen, CampaignSettingsScreen)
    assert audits() == saved
