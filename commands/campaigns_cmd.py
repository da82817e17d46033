"""`ofisi campaigns …`: create, launch, pause, resume, cancel and follow campaigns.

Campaigns are named by id (``ofisi campaigns list --org SLUG`` shows them). Before a
launch: ``preview``, ``count``, ``test-send``; ``schedule`` and ``edit`` a draft;
``replies`` lists what people answered; ``settings`` holds quiet hours and the DLT entity ID.
Times without an offset are the org's wall clock. Sending itself is `ofisi send
due` (cron); scheduled and recurring campaigns start from `ofisi jobs run-due`.
"""

from __future__ import annotations

from typing import Optional

import typer

from commands.common import err, org_id_for, print_json, print_table, unit_of_work

app = typer.Typer(help="Campaigns: SMS, email and WhatsApp outreach to an organisation's people.",
                  no_args_is_help=True)

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
    audience: str = typer.Option("all", "--audience", help="all, contacts, a vendor filter (sector=retail,district=Pune), "
                                  "members:event=last, clients:not_seen_days=90, members:arrears, workers…"),
    at: Optional[str] = typer.Option(None, "--at", help="Start at this time (ISO, the org's clock)."),
    every: Optional[str] = typer.Option(None, "--every", help="Repeat every week or month (from --at, or now)."),
    until: Optional[str] = typer.Option(None, "--until", help="No runs after this (recurring only; the org's clock)."),
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
                                   until=parse_moment(until, o.timezone),
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
        print_json({"id": campaign_id, "run": result.run, "queued": result.queued, "skipped": result.skipped,
                    "held_until": result.held_until})
        return
    skipped = ", ".join(f"{n} {why.replace('_', ' ')}" for why, n in sorted(result.skipped.items()))
    err(f"Run {result.run} of campaign {campaign_id}: {result.queued} messages queued"
        + (f"; skipped {skipped}." if skipped else ".")
        + (f" Quiet hours: they go from {result.held_until:%Y-%m-%d %H:%M} UTC." if result.held_until else ""))


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


@app.command("audience")
def audience(org: str = typer.Option(..., "--org", help="Organisation slug."),
             who: str = typer.Option("all", "--audience", help="The audience, as campaigns take it."),
             as_json: bool = JSON) -> None:
    """How many people an audience holds, and how many each channel reaches."""
    from core.campaigns import audience_size

    with unit_of_work() as (session, actor):
        o = org_id_for(session, actor, org)
        size = audience_size(session, actor, o.id, who)
    if as_json:
        print_json(size)
        return
    err(f"{who}: {size['people']} people; " + ", ".join(f"{n} by {c}" for c, n in size.items() if c != "people")
        + ".")


@app.command("show")
def show(campaign_id: int = CAMPAIGN, as_json: bool = JSON) -> None:
    """One campaign as saved: its channel, text or template, audience and schedule."""
    from core.campaigns import get_campaign

    with unit_of_work() as (session, actor):
        c = get_campaign(session, actor, _org_of(session, actor, campaign_id), campaign_id)
    if as_json:
        print_json(c)
        return
    fields = [("name", c.name), ("channel", c.channel), ("status", c.status), ("audience", c.audience),
              ("template", c.template_name), ("subject", c.subject), ("text", c.text),
              ("next run (UTC)", c.next_run_at and f"{c.next_run_at:%Y-%m-%d %H:%M}"), ("every", c.every),
              ("until (UTC)", c.until and f"{c.until:%Y-%m-%d %H:%M}"), ("survey", " | ".join(c.survey or [])),
              ("paused because", c.pause_reason)]
    print_table(f"Campaign {c.id}", ["field", "value"], [[k, v] for k, v in fields if v not in (None, "")])


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


@app.command("preview")
def preview(campaign_id: int = CAMPAIGN, n: int = typer.Option(5, "--n", help="How many recipients to show."),
            as_json: bool = JSON) -> None:
    """The message as the first recipients would get it, with SMS parts and encoding, the count and the cost."""
    from core.campaigns import check_launch

    with unit_of_work() as (session, actor):
        check = check_launch(session, actor, _org_of(session, actor, campaign_id), campaign_id, show=n)
    if as_json:
        print_json(check)
        return
    print_table(f"Campaign {campaign_id}: the first {len(check.lines)} of {check.recipients}",
                ["to", "who", "parts", "encoding", "message"],
                [[line.address, line.who, line.segments or "", line.encoding or "",
                  (f"{line.subject}\n" if line.subject else "") + line.text] for line in check.lines])
    _say_count(check)


def _say_count(check) -> None:
    skipped = ", ".join(f"{n} {why.replace('_', ' ')}" for why, n in sorted(check.skipped.items()))
    err(f"{check.recipients} recipients" + (f"; left out: {skipped}" if skipped else "")
        + (f"; {check.segments} SMS parts" if check.segments else "")
        + (f"; estimated cost {check.estimated_cost}" if check.estimated_cost
           else "; no cost estimate yet (the provider has priced none of this organisation's SMS)"
           if check.segments else "") + ".")


@app.command("count")
def count(campaign_id: int = CAMPAIGN, as_json: bool = JSON) -> None:
    """How many would get it if it were launched now, and who is left out and why."""
    from core.campaigns import check_launch

    with unit_of_work() as (session, actor):
        check = check_launch(session, actor, _org_of(session, actor, campaign_id), campaign_id, show=0)
    if as_json:
        print_json({"id": campaign_id, "recipients": check.recipients, "skipped": check.skipped,
                    "segments": check.segments, "estimated_cost": check.estimated_cost})
        return
    _say_count(check)


@app.command("test-send")
def test_send(campaign_id: int = CAMPAIGN,
              to: str = typer.Option(..., "--to", help="Your own phone or email: it goes there only.")) -> None:
    """Queue the message, filled for the first recipient, to yourself (`ofisi send due` sends it)."""
    from core.campaigns import test_send as send

    with unit_of_work() as (session, actor):
        message_id = send(session, actor, _org_of(session, actor, campaign_id), campaign_id, to=to)
    err(f"Test message {message_id} is queued for {to}.")


@app.command("schedule")
def schedule(campaign_id: int = CAMPAIGN,
             at: str = typer.Option(..., "--at", help="Start at this time (ISO, the org's clock)."),
             every: Optional[str] = typer.Option(None, "--every", help="Repeat every week or month."),
             until: Optional[str] = typer.Option(None, "--until", help="No runs after this (recurring only).")) -> None:
    """Schedule a draft (or move a scheduled campaign); a time that has passed is refused."""
    from datetime import datetime

    from core.campaigns import schedule_campaign

    def moment(text: str | None) -> datetime | None:  # without an offset: the org's clock (the core reads it so)
        try:
            return datetime.fromisoformat(text.strip()) if text else None
        except ValueError:
            raise typer.BadParameter(f"{text!r} is not a date and time; write it like 2027-03-05T14:00.") from None

    with unit_of_work() as (session, actor):
        campaign = schedule_campaign(session, actor, _org_of(session, actor, campaign_id), campaign_id,
                                     at=moment(at), every=every, until=moment(until))
    err(f"Campaign {campaign.id} is scheduled for {campaign.next_run_at:%Y-%m-%d %H:%M} UTC"
        + (f", every {campaign.every}" if campaign.every else "")
        + (f", until {campaign.until:%Y-%m-%d}" if campaign.until else "") + ".")


@app.command("edit")
def edit(campaign_id: int = CAMPAIGN, name: Optional[str] = typer.Option(None, "--name"),
         text: Optional[str] = typer.Option(None, "--text"), template: Optional[str] = typer.Option(None, "--template"),
         subject: Optional[str] = typer.Option(None, "--subject"),
         audience: Optional[str] = typer.Option(None, "--audience")) -> None:
    """Change a draft or scheduled campaign, checked as when it was created."""
    from core.campaigns import edit_campaign

    with unit_of_work() as (session, actor):
        campaign = edit_campaign(session, actor, _org_of(session, actor, campaign_id), campaign_id, name=name,
                                 text=text, template=template, subject=subject, audience=audience)
    err(f"Campaign {campaign.id} ({campaign.name}) is saved.")


@app.command("replies")
def replies(campaign_id: int = CAMPAIGN, limit: int = typer.Option(100, "--limit"), as_json: bool = JSON) -> None:
    """What people answered, newest first, with who sent it."""
    from core.campaigns import campaign_replies

    with unit_of_work() as (session, actor):
        rows = campaign_replies(session, actor, _org_of(session, actor, campaign_id), campaign_id, limit=limit)
    if as_json:
        print_json(rows)
        return
    print_table(f"Replies to campaign {campaign_id}", ["received (UTC)", "from", "who", "answer", "text"],
                [[f"{r.received_at:%Y-%m-%d %H:%M}", r.phone, r.who, r.answer or "", r.text] for r in rows])


@app.command("settings")
def settings(org: str = typer.Option(..., "--org", help="Organisation slug."),
             quiet_from: Optional[str] = typer.Option(None, "--quiet-from", help="Quiet hours start (21:00)."),
             quiet_until: Optional[str] = typer.Option(None, "--quiet-until", help="Quiet hours end (08:00)."),
             dlt_entity_id: Optional[str] = typer.Option(None, "--dlt-entity-id",
                                                         help="The DLT entity ID (SMS to India)."),
             dlt_template: Optional[list[str]] = typer.Option(
                 None, "--dlt-template", metavar="KIND=ID",
                 help="The DLT template ID of the org's own SMS of a kind (opt-out, opt-in, reply, transactional, "
                      "service) to India; KIND= removes it. Repeat for each kind."),
             as_json: bool = JSON) -> None:
    """The org's quiet hours (its own clock), DLT entity ID and DLT templates; changed when given."""
    from core.campaigns import campaign_settings
    from core.providers.india import REPLY_KINDS

    templates = {}
    for given in dlt_template or []:
        kind, equals, value = given.partition("=")
        if not equals:
            raise typer.BadParameter(f"write --dlt-template as KIND=ID, like opt-out=1107160000000000001, not {given!r}.")
        templates[kind.strip()] = value
    with unit_of_work() as (session, actor):
        o = org_id_for(session, actor, org)
        view = campaign_settings(session, actor, o.id, quiet_from=quiet_from, quiet_until=quiet_until,
                                 dlt_entity_id=dlt_entity_id, dlt_templates=templates)
    if as_json:
        print_json(view)
        return
    quiet = "none" if view.quiet_from == view.quiet_until else f"{view.quiet_from}-{view.quiet_until}"
    err(f"{o.name}: quiet hours {quiet}; DLT entity ID {view.dlt_entity_id or 'not set'}.")
    err("DLT templates of its own SMS to India: " + "; ".join(
        f"{kind} {view.dlt_templates.get(kind, 'not set')}" for kind in REPLY_KINDS) + ".")
    if view.released:
        err(view.released_note())


@app.command("bounces")
def bounces(maildir: Optional[str] = typer.Option(None, "--maildir", help="The maildir (default OFISI_BOUNCE_MAILDIR)."),
            as_json: bool = JSON) -> None:
    """Read new bounce reports (DSNs): each permanent failure fails its email and suppresses the address."""
    from config import get_settings
    from core.campaigns.bounces import read_bounces

    where = maildir or get_settings().bounce_maildir
    if not where:
        raise typer.BadParameter("give --maildir, or set OFISI_BOUNCE_MAILDIR.")
    with unit_of_work() as (session, _actor):
        summary = read_bounces(session, where)
    if as_json:
        print_json(summary)
        return
    err(f"{summary.read} new mails: {summary.bounced} bounced, {summary.suppressed} addresses suppressed"
        + (f", {summary.unknown} about emails we have no record of." if summary.unknown else "."))
