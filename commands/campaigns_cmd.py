"""`ofisi campaigns …`: create, launch, pause, resume, cancel and follow campaigns.

Campaigns are named by id (``ofisi campaigns list --org SLUG`` shows them).
Times without an offset are the org's wall clock. Sending itself is `ofisi send
due` (cron); scheduled and recurring campaigns start from `ofisi jobs run-due`.
"""

from __future__ import annotations

from typing import Optional

import typer

from commands.common import err, org_id_for, print_json, print_table, unit_of_work

app = typer.Typer(help="Campaigns: SMS, email and WhatsApp outreach to contacts or vendors.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print the data as JSON on stdout.")
CAMPAIGN = typer.Argument(..., help="The campaign's id.")


@app.command("create")
def create(
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    name: str = typer.Option(..., "--name", help="What the campaign is called."),
    channel: str = typer.Option("sms", "--channel", help="sms, email or whatsapp."),
    template: Optional[str] = typer.Option(None, "--template", help="A saved template's name."),
    text: Optional[str] = typer.Option(None, "--text", help="The message; {{ first_name }} and the like are filled in."),
    subject: Optional[str] = typer.Option(None, "--subject", help="Email subject."),
    audience: str = typer.Option("all", "--audience", help="all, contacts, or a vendor filter: sector=retail,district=Pune."),
    at: Optional[str] = typer.Option(None, "--at", help="Start at this time (ISO, the org's clock)."),
    every: Optional[str] = typer.Option(None, "--every", help="Repeat every week or month (from --at, or now)."),
    survey: Optional[str] = typer.Option(None, "--survey", help="Numbered answers, separated by '|': 'Yes|No'."),
    as_json: bool = JSON,
) -> None:
    """Save a campaign: a draft to launch, or a scheduled one that `ofisi jobs run-due` starts."""
    from commands.chama_cmd import parse_moment  # times without an offset are the org's wall clock
    from core.campaigns import create_campaign

    if text is not None and template is not None:
        raise typer.BadParameter("give --text or --template, not both.")
    with unit_of_work() as (session, actor):
        o = org_id_for(session, actor, org)
        moment = parse_moment(at, o.timezone)
        if every and moment is None:
            from db.types import utcnow

            moment = utcnow()
        campaign = create_campaign(session, actor, o.id, name=name, channel=channel, text=text, template=template,
                                   subject=subject, audience=audience, at=moment, every=every,
                                   survey=survey.split("|") if survey else None)
    if as_json:
        print_json(campaign)
    else:
        err(f"Campaign {campaign.id} ({campaign.name}) is {campaign.status}."
            + (f" Launch it with `ofisi campaigns launch {campaign.id}`." if campaign.status == "draft" else ""))


def _org_of(session, actor, campaign_id: int) -> int:
    from core.campaigns import campaign_org

    return campaign_org(session, actor, campaign_id)


@app.command("launch")
def launch(campaign_id: int = CAMPAIGN, as_json: bool = JSON) -> None:
    """Queue one message per recipient now (`ofisi send due` sends them)."""
    from core.campaigns import launch_campaign

    with unit_of_work() as (session, actor):
        result = launch_campaign(session, actor, _org_of(session, actor, campaign_id), campaign_id)
    if as_json:
        print_json({"id": campaign_id, "run": result.run, "queued": result.queued, "skipped": result.skipped})
        return
    skipped = ", ".join(f"{n} {why.replace('_', ' ')}" for why, n in sorted(result.skipped.items()))
    err(f"Run {result.run} of campaign {campaign_id}: {result.queued} messages queued"
        + (f"; skipped {skipped}." if skipped else "."))


def _change(verb: str, campaign_id: int) -> None:
    import core.campaigns as campaigns

    with unit_of_work() as (session, actor):
        fn = getattr(campaigns, f"{verb}_campaign")
        campaign = fn(session, actor, _org_of(session, actor, campaign_id), campaign_id)
    err(f"Campaign {campaign.id} is {campaign.status}.")


@app.command("pause")
def pause(campaign_id: int = CAMPAIGN) -> None:
    """Stop sending; nothing already sent is sent again on resume."""
    _change("pause", campaign_id)


@app.command("resume")
def resume(campaign_id: int = CAMPAIGN) -> None:
    """Carry on sending a paused campaign."""
    _change("resume", campaign_id)


@app.command("cancel")
def cancel(campaign_id: int = CAMPAIGN) -> None:
    """Stop for good: what was not sent is never sent."""
    _change("cancel", campaign_id)


@app.command("status")
def status(campaign_id: int = CAMPAIGN, as_json: bool = JSON) -> None:
    """How far a campaign has gone."""
    from core.campaigns import campaign_progress

    with unit_of_work() as (session, actor):
        progress = campaign_progress(session, actor, _org_of(session, actor, campaign_id), campaign_id)
    if as_json:
        print_json(progress.as_status())
        return
    data = progress.as_status()
    print_table(f"Campaign {campaign_id}", list(data), [list(data.values())])
    if progress.pause_reason:
        err(f"Paused: {progress.pause_reason}")
    skipped = {k: v for k, v in progress.skipped.items() if k != "opted_out"}
    if skipped:
        err("Also skipped: " + ", ".join(f"{n} {why.replace('_', ' ')}" for why, n in sorted(skipped.items())))


@app.command("list")
def list_(org: str = typer.Option(..., "--org", help="Organisation slug."), as_json: bool = JSON) -> None:
    """The org's campaigns, newest first."""
    from core.campaigns import list_campaigns

    with unit_of_work() as (session, actor):
        o = org_id_for(session, actor, org)
        rows = list_campaigns(session, actor, o.id, limit=200)
    if as_json:
        print_json(rows)
        return
    print_table(f"Campaigns of {o.name}", ["id", "name", "channel", "status", "runs", "audience"],
                [[c.id, c.name, c.channel, c.status, c.runs, c.audience] for c in rows])
