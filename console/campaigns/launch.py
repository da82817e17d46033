"""What launching (or resuming) a campaign will do, said before it is done.

:func:`launch_facts` reads, in a worker thread, ``core.campaigns.check_launch``:
how many recipients the campaign reaches now and who is skipped and why, how many
SMS parts it takes in all and per message, and, where the provider priced the
org's recent SMS, the estimated cost. :func:`confirm_launch` turns them into
the :class:`~console.widgets.confirm.Confirm` that the home pushes; nothing is
queued unless the person says yes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from console.widgets.confirm import Confirm
from core.actors import Actor
from core.campaigns import CampaignView

@dataclass(frozen=True)
class LaunchFacts:
    campaign_id: int
    name: str
    channel: str
    audience: str
    recipients: int               # would get it now
    skipped: dict[str, int]       # would not, by reason (opted out, no address …)
    segments: int                 # SMS parts in all (0: not an SMS campaign)
    longest: int                  # parts of the longest text shown
    encoding: str
    estimated_cost: str | None    # from what the provider charged for the org's recent SMS
    waiting: int = 0              # for a resume: messages not yet sent


def launch_facts(session: Session, actor: Actor, org_id: int, campaign: CampaignView, *,
                 waiting: int = 0) -> LaunchFacts:
    """``core.campaigns.check_launch`` (renders for the audience, writes nothing) as the dialog needs it."""
    from core.campaigns import check_launch

    check = check_launch(session, actor, org_id, campaign.id, show=20)
    longest = max((line.segments or 0 for line in check.lines), default=0)
    encoding = next((line.encoding for line in check.lines if line.segments == longest and line.encoding), "")
    return LaunchFacts(campaign.id, campaign.name, campaign.channel, campaign.audience, check.recipients,
                       dict(check.skipped), check.segments, longest, encoding or "", check.estimated_cost, waiting)


def fact_lines(facts: LaunchFacts) -> list[str]:
    skipped = ", ".join(f"{n:,} {why.replace('_', ' ')}" for why, n in sorted(facts.skipped.items()) if n)
    lines = [f"Audience {facts.audience}: {facts.recipients:,} recipients by {facts.channel}"
             + (f"; skipped {skipped}." if skipped else ".")]
    if facts.segments:
        lines.append(f"{facts.segments:,} SMS parts in all, up to {facts.longest} a message ({facts.encoding}).")
    if facts.estimated_cost:
        lines.append(f"Estimated cost: about {facts.estimated_cost} (at what the provider charged for this "
                     "org's recent SMS).")
    else:
        lines.append("Cost: not known until the provider prices the messages.")
    return lines


def confirm_launch(facts: LaunchFacts) -> Confirm:
    return Confirm(f"Launch “{facts.name}” to {facts.recipients:,} recipients?",
                   fact_lines(facts) + ["Opted-out people are skipped. Pause (z) stops it; sent messages stay sent."],
                   confirm_label="Launch")


def confirm_resume(facts: LaunchFacts) -> Confirm:
    return Confirm(f"Resume “{facts.name}”: {facts.waiting:,} messages still to send?",
                   fact_lines(facts)[1:] + ["Nothing already sent is sent again."], confirm_label="Resume")
