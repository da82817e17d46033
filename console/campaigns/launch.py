"""What launching (or resuming) a campaign will do, said before it is done.

:func:`launch_facts` reads, in a worker thread, how many people the campaign's
audience holds and how many of them it can reach on its channel, how many SMS
parts each text takes (``core.templates.sms_segments`` over the texts as the
first recipients would receive them) and, where the provider priced an earlier
campaign's messages, the estimated cost. :func:`confirm_launch` turns them into
the :class:`~console.widgets.confirm.Confirm` that the home pushes; nothing is
queued unless the person says yes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from console.widgets.confirm import Confirm
from core.actors import Actor
from core.campaigns import CampaignView
from core.money import format_money

SAMPLE = 20  # recipients whose texts are measured for the SMS parts


@dataclass(frozen=True)
class LaunchFacts:
    campaign_id: int
    name: str
    channel: str
    audience: str
    people: int             # in the audience
    reachable: int          # with an address on the channel
    segments: int           # SMS parts of the longest text measured (0: not an SMS campaign)
    encoding: str
    cost_minor: int | None  # estimated, when an earlier campaign's messages were priced
    cost_currency: str | None
    waiting: int = 0        # for a resume: messages not yet sent


def launch_facts(session: Session, actor: Actor, org_id: int, campaign: CampaignView, *,
                 waiting: int = 0) -> LaunchFacts:
    from core.campaigns import audience as audiences
    from core.campaigns import preview
    from core.campaigns.reports import campaign_report
    from core.templates import sms_segments

    people = reachable = 0
    for recipient in audiences.recipients(session, actor, org_id, campaign.audience):
        people += 1
        reachable += bool(recipient.address(campaign.channel))
    segments, encoding = 0, ""
    if campaign.channel == "sms":
        for _, text in preview(session, actor, org_id, campaign.id, count=SAMPLE):
            length = sms_segments(text)
            if length.segments > segments:
                segments, encoding = length.segments, length.encoding
    cost_minor = currency = None
    for row in campaign_report(session, actor, org_id):
        if row.cost_currency and row.cost_per_message_minor and row.id != campaign.id:
            count = waiting or reachable
            cost_minor = row.cost_per_message_minor * count * max(segments, 1)
            currency = row.cost_currency
            break
    return LaunchFacts(campaign.id, campaign.name, campaign.channel, campaign.audience, people, reachable, segments,
                       encoding, cost_minor, currency, waiting)


def fact_lines(facts: LaunchFacts) -> list[str]:
    lines = [f"Audience: {facts.audience} — {facts.people:,} people, {facts.reachable:,} with an address "
             f"for {facts.channel}."]
    if facts.segments:
        lines.append(f"Each SMS takes up to {facts.segments} part{'s' if facts.segments > 1 else ''} "
                     f"({facts.encoding}).")
    if facts.cost_minor is not None and facts.cost_currency:
        lines.append(f"Estimated cost: about {format_money(facts.cost_minor, facts.cost_currency)} "
                     "(at what the provider charged for an earlier campaign's messages).")
    else:
        lines.append("Cost: not known until the provider prices the messages.")
    return lines


def confirm_launch(facts: LaunchFacts) -> Confirm:
    return Confirm(f"Launch “{facts.name}” to {facts.reachable:,} recipients?",
                   fact_lines(facts) + ["Opted-out people are skipped. Pause (z) stops it; sent messages stay sent."],
                   confirm_label="Launch")


def confirm_resume(facts: LaunchFacts) -> Confirm:
    return Confirm(f"Resume “{facts.name}”: {facts.waiting:,} messages still to send?",
                   fact_lines(facts)[1:] + ["Nothing already sent is sent again."], confirm_label="Resume")
