"""Campaigns: create, launch (materialise one outbox message per recipient), pause,
resume, cancel, progress, and the failure-rate auto-pause.

A run's messages carry the idempotency key ``campaign:<id>:run:<n>:<recipient>``
and ``messages.campaign_id``; the run row (unique per campaign and number) is
written first, so a run can be materialised once only, and run N+1 never meets
run N's keys. Pausing never touches a message's content: the outbox does not
claim a paused campaign's messages, and claims already taken are handed back,
so resuming sends each remaining message once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import audit, outbox, templates
from core.actors import Actor
from core.campaigns import audience as audiences
from core.changes import mark_changed
from core.errors import Conflict, InvalidInput, NotFound
from core.numbers import whole_number
from core.permissions import require
from db.models import Message, Org
from db.models_campaigns import Campaign, CampaignResponse, CampaignRun
from db.types import utcnow

STATUSES = ("draft", "scheduled", "running", "paused", "completed", "cancelled")
SCHEDULES = ("now", "at", "every")
PERIODS = ("week", "month")
# Outbox states as a campaign's progress counts them.
PENDING = ("queued", "claimed", "sending")
FAILED = ("failed", "dead")


@dataclass(frozen=True)
class CampaignView:
    id: int
    org_id: int
    name: str
    channel: str
    template_name: str | None
    text: str
    subject: str | None
    audience: str
    schedule: str
    starts_at: datetime | None
    every: str | None
    next_run_at: datetime | None
    status: str
    runs: int
    pause_reason: str | None
    survey: list[str] | None
    created_at: datetime

    @classmethod
    def of(cls, c: Campaign) -> CampaignView:
        return cls(c.id, c.org_id, c.name, c.channel, c.template_name, c.text, c.subject, c.audience, c.schedule,
                   c.starts_at, c.every, c.next_run_at, c.status, c.runs, c.pause_reason,
                   list(c.survey) if c.survey else None, c.created_at)


@dataclass(frozen=True)
class CampaignProgress:
    id: int
    status: str
    total: int
    queued: int
    sent: int
    delivered: int
    failed: int
    unknown: int
    opted_out: int
    runs: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    pause_reason: str | None = None

    def as_status(self) -> dict[str, Any]:
        """The documented ``ofisi campaigns status --json`` object."""
        return {k: getattr(self, k) for k in ("id", "status", "total", "queued", "sent", "delivered", "failed",
                                               "unknown", "opted_out")}


@dataclass(frozen=True)
class LaunchResult:
    campaign: CampaignView
    run: int
    queued: int
    skipped: dict[str, int]


# ---------------------------------------------------------------- templates

def check_text(template_text: str, known: set[str]) -> None:
    """Refuse a text with a syntax error or a variable no recipient has, naming it."""
    problems = templates.check_template(template_text, known)
    if problems:
        raise InvalidInput("The text cannot be used: " + "; ".join(problems).rstrip(".") + ".")


def _variables(org: Org, r: audiences.Recipient) -> dict[str, Any]:
    return templates.context_for(org_name=org.name, name=r.name, phone=r.phone, email=r.email, record=r.fields)


def _known_variables(org: Org, source: str) -> set[str]:
    known = set(templates.STANDARD_VARIABLES)
    if source == "vendors":
        from core.vendors import VENDOR_VARIABLES

        known |= VENDOR_VARIABLES
    else:
        known |= {"notes"} | templates.allowed_variables(org.kind)
    return known


def _survey_text(survey: list[str] | None) -> str:
    if not survey:
        return ""
    return "\nReply " + ", ".join(f"{i} {option}" for i, option in enumerate(survey, 1))


# ---------------------------------------------------------------- create

def _load(session: Session, org_id: int, campaign_id: int, *, lock: bool = False) -> Campaign:
    query = select(Campaign).where(Campaign.id == campaign_id)
    if lock:
        query = query.with_for_update()
    campaign = session.scalar(query)
    if campaign is None or campaign.org_id != org_id:
        raise NotFound(f"There is no campaign {campaign_id} in this organisation; `ofisi campaigns list` shows them.")
    return campaign


def create_campaign(
    session: Session, actor: Actor, org_id: int, *, name: str, channel: str = "sms", text: str | None = None,
    template: str | None = None, subject: str | None = None, audience: str = "all", at: datetime | None = None,
    every: str | None = None, survey: list[str] | None = None, failure_threshold_pct: int = 20,
    failure_min_sample: int = 20,
) -> CampaignView:
    require(session, actor, org_id, "campaigns.manage")
    name = (name or "").strip()
    if not name:
        raise InvalidInput("A campaign needs a name.")
    if channel not in outbox.CHANNELS:
        raise InvalidInput(f"{channel!r} is not a channel; use one of {', '.join(outbox.CHANNELS)}.")
    if (text is None) == (template is None):
        raise InvalidInput("Give the campaign either a text (--text) or a saved template's name (--template).")
    if every is not None and every not in PERIODS:
        raise InvalidInput(f"A campaign repeats every week or every month, not every {every!r}.")
    if at is not None and at.tzinfo is None:
        raise InvalidInput("The start time needs a time zone.")
    if not 1 <= failure_threshold_pct <= 100:
        raise InvalidInput("The failure threshold is a percentage from 1 to 100.")
    audiences.check(session, actor, org_id, audience)
    source, _ = audiences.split(session, org_id, audience)
    if text is not None:
        if not text.strip():
            raise InvalidInput("The campaign's text is empty.")
        check_text(text, _known_variables(session.get(Org, org_id), source))
    else:
        found = templates.get_template(session, actor, org_id, template)
        if found.channel != channel:
            raise InvalidInput(f"The template {template!r} is for {found.channel}, not {channel}.")
    if survey is not None:
        survey = [o.strip() for o in survey if o.strip()]
        if not 2 <= len(survey) <= 9:
            raise InvalidInput("A survey has between 2 and 9 answers (replies are one digit).")
    now = utcnow()
    schedule = "every" if every else "at" if at else "now"
    campaign = Campaign(
        org_id=org_id, name=name, channel=channel, text=text or "", template_name=template, subject=subject,
        audience=(audience or "all").strip(), schedule=schedule, starts_at=at, every=every,
        next_run_at=(at or now) if schedule != "now" else None,
        status="scheduled" if schedule != "now" else "draft", survey=survey,
        failure_threshold_pct=failure_threshold_pct, failure_min_sample=failure_min_sample, created_by=actor.label,
    )
    session.add(campaign)
    session.flush()
    audit.record(session, actor, "campaign.create", "campaign", campaign.id, org_id=org_id,
                 after={"name": name, "channel": channel, "audience": campaign.audience, "schedule": schedule})
    session.commit()
    return CampaignView.of(campaign)


def campaign_org(session: Session, actor: Actor, campaign_id: int) -> int:
    """The org a campaign belongs to (front ends that name a campaign by id alone); the
    service called next checks the actor's permission in that org."""
    org_id = session.scalar(select(Campaign.org_id).where(Campaign.id == campaign_id))
    if org_id is None:
        raise NotFound(f"There is no campaign {campaign_id}; `ofisi campaigns list --org SLUG` shows them.")
    require(session, actor, org_id, "campaigns.read")
    return org_id


def get_campaign(session: Session, actor: Actor, org_id: int, campaign_id: int) -> CampaignView:
    require(session, actor, org_id, "campaigns.read")
    return CampaignView.of(_load(session, org_id, campaign_id))


def list_campaigns(session: Session, actor: Actor, org_id: int, *, before_id: int | None = None,
                   limit: int = 50) -> list[CampaignView]:
    """Newest first, keyset-paged by id."""
    require(session, actor, org_id, "campaigns.read")
    query = select(Campaign).where(Campaign.org_id == org_id)
    if before_id is not None:
        query = query.where(Campaign.id < before_id)
    return [CampaignView.of(c) for c in session.scalars(query.order_by(Campaign.id.desc()).limit(limit))]


# ---------------------------------------------------------------- launch

def _content(session: Session, actor: Actor, campaign: Campaign) -> tuple[str, str | None]:
    """(text template, subject) of the campaign: its own text, or its saved template's. A
    WhatsApp subject names the approved template that may go outside the 24-hour window."""
    text, subject, approved = campaign.text, campaign.subject, None
    if not text:
        found = templates.get_template(session, actor, campaign.org_id, campaign.template_name)
        text, subject, approved = found.body, found.subject, found.whatsapp_template_name
    if campaign.channel == "whatsapp" and (approved or subject):
        subject = f"template:{approved or subject}".replace("template:template:", "template:")
    return text + _survey_text(campaign.survey), subject


def _renderer(text: str):
    def fill(context: dict[str, Any]) -> str:
        return templates.render(text, context).strip()
    return fill


def preview(session: Session, actor: Actor, org_id: int, campaign_id: int, *, count: int = 3) -> list[tuple[str, str]]:
    """The first recipients' (address, text) as launching would write them."""
    require(session, actor, org_id, "campaigns.read")
    campaign = _load(session, org_id, campaign_id)
    org = session.get(Org, org_id)
    fill = _renderer(_content(session, actor, campaign)[0])
    shown = []
    for recipient in audiences.recipients(session, actor, org_id, campaign.audience):
        address = recipient.address(campaign.channel)
        if address:
            shown.append((address, fill(_variables(org, recipient))))
        if len(shown) >= count:
            break
    return shown


def _materialise(session: Session, actor: Actor, campaign: Campaign, now: datetime) -> tuple[int, int, dict[str, int]]:
    """Write run ``runs + 1``: its row, then one outbox message per reachable recipient."""
    from sqlalchemy.exc import IntegrityError

    org = session.get(Org, campaign.org_id)
    number = campaign.runs + 1
    try:
        with session.begin_nested():
            run = CampaignRun(org_id=org.id, campaign_id=campaign.id, number=number, started_at=now)
            session.add(run)
    except IntegrityError:
        raise Conflict(f"Run {number} of campaign {campaign.id} was launched already.") from None
    text, subject = _content(session, actor, campaign)
    fill = _renderer(text)
    # The core opt-outs (STOP, the registry's and the officials' switches), read once for the run.
    opt_outs = outbox.OptOuts(session, org.id, "marketing")
    skipped: Counter[str] = Counter()
    seen: set[str] = set()
    rows: list[dict] = []
    queued = 0
    for recipient in audiences.recipients(session, actor, org.id, campaign.audience):
        raw = recipient.address(campaign.channel)
        if not raw:
            skipped["no_address"] += 1
            continue
        try:
            address = outbox.address_for(campaign.channel, raw, org.country)
        except InvalidInput:
            skipped["invalid"] += 1
            continue
        if opt_outs.hold(campaign.channel, address):
            skipped["opted_out"] += 1
            continue
        if address in seen:
            skipped["duplicate"] += 1
            continue
        seen.add(address)
        try:
            body = fill(_variables(org, recipient))
        except InvalidInput:  # a field this recipient lacks, or a sandbox refusal
            skipped["template"] += 1
            continue
        if not body.strip():
            skipped["empty"] += 1
            continue
        rows.append({"channel": campaign.channel, "to_address": address, "body": body, "subject": subject,
                     "idempotency_key": f"campaign:{campaign.id}:run:{number}:{recipient.key}",
                     "contact_id": recipient.contact_id, "campaign_id": campaign.id, "next_attempt_at": now})
        if len(rows) >= 1000:
            queued += outbox.enqueue_many(session, org.id, rows, purpose="marketing", opt_outs=opt_outs)
            rows = []
    queued += outbox.enqueue_many(session, org.id, rows, purpose="marketing", opt_outs=opt_outs)
    run.queued, run.skipped = queued, dict(skipped)
    campaign.runs = number
    return number, queued, dict(skipped)


def _advance(campaign: Campaign) -> None:
    """After a run of a recurring campaign: when the next one is due."""
    if campaign.every is None or campaign.next_run_at is None:
        campaign.next_run_at = None
        return
    if campaign.every == "week":
        campaign.next_run_at = campaign.next_run_at + timedelta(days=7)
    else:
        from calendar import monthrange

        n = campaign.next_run_at
        year, month = (n.year + 1, 1) if n.month == 12 else (n.year, n.month + 1)
        campaign.next_run_at = n.replace(year=year, month=month, day=min(n.day, monthrange(year, month)[1]))


def start_run(session: Session, actor: Actor, campaign: Campaign, now: datetime) -> LaunchResult:
    """Materialise the next run and set the campaign running (uncommitted)."""
    number, queued, skipped = _materialise(session, actor, campaign, now)
    if campaign.schedule != "now":
        _advance(campaign)
    campaign.status = "running" if queued else ("scheduled" if campaign.next_run_at else "completed")
    campaign.pause_reason = None
    audit.record(session, actor, "campaign.launch", "campaign", campaign.id, org_id=campaign.org_id,
                 after={"run": number, "queued": queued, "skipped": skipped})
    mark_changed(session, campaign.org_id)
    return LaunchResult(CampaignView.of(campaign), number, queued, skipped)


def launch_campaign(session: Session, actor: Actor, org_id: int, campaign_id: int) -> LaunchResult:
    """Send it now: one outbox message per recipient, skipping (and counting) those it cannot reach."""
    require(session, actor, org_id, "campaigns.send")
    campaign = _load(session, org_id, campaign_id, lock=True)
    if campaign.status not in ("draft", "scheduled"):
        hint = {"paused": " Resume it instead.", "running": " It is sending now."}.get(campaign.status, "")
        raise Conflict(f"Campaign {campaign_id} is {campaign.status}; only a draft or scheduled one can be "
                       f"launched.{hint}")
    result = start_run(session, actor, campaign, utcnow())
    session.commit()
    return result


# ---------------------------------------------------------------- pause, resume, cancel

def _hold(session: Session, campaign: Campaign, status: str, reason: str | None) -> None:
    """Stop a campaign's messages where they are: claims not yet on the wire go back
    (the dispatcher finds them no longer its own and skips them)."""
    campaign.status, campaign.pause_reason = status, reason
    target = {"status": "queued", "claimed_by": None} if status == "paused" else {"status": "cancelled"}
    held = ("claimed",) if status == "paused" else ("queued", "claimed")
    session.execute(
        update(Message).where(Message.campaign_id == campaign.id, Message.status.in_(held))
        .values(updated_at=utcnow(), **target).execution_options(synchronize_session=False)
    )
    mark_changed(session, campaign.org_id)


def pause_campaign(session: Session, actor: Actor, org_id: int, campaign_id: int,
                   reason: str | None = None) -> CampaignView:
    require(session, actor, org_id, "campaigns.send")
    campaign = _load(session, org_id, campaign_id, lock=True)
    if campaign.status != "running":
        raise Conflict(f"Campaign {campaign_id} is {campaign.status}; only a running campaign can be paused.")
    _hold(session, campaign, "paused", reason or f"paused by {actor.label}")
    audit.record(session, actor, "campaign.pause", "campaign", campaign.id, org_id=org_id,
                 before={"status": "running"}, after={"status": "paused", "reason": campaign.pause_reason})
    session.commit()
    return CampaignView.of(campaign)


def resume_campaign(session: Session, actor: Actor, org_id: int, campaign_id: int) -> CampaignView:
    require(session, actor, org_id, "campaigns.send")
    campaign = _load(session, org_id, campaign_id, lock=True)
    if campaign.status != "paused":
        raise Conflict(f"Campaign {campaign_id} is {campaign.status}; only a paused campaign can be resumed.")
    before = {"status": "paused", "reason": campaign.pause_reason}
    campaign.status, campaign.pause_reason = "running", None
    mark_changed(session, org_id)
    audit.record(session, actor, "campaign.resume", "campaign", campaign.id, org_id=org_id,
                 before=before, after={"status": "running"})
    session.commit()
    return CampaignView.of(campaign)


def cancel_campaign(session: Session, actor: Actor, org_id: int, campaign_id: int) -> CampaignView:
    require(session, actor, org_id, "campaigns.send")
    campaign = _load(session, org_id, campaign_id, lock=True)
    if campaign.status in ("completed", "cancelled"):
        raise Conflict(f"Campaign {campaign_id} is {campaign.status} already.")
    before = {"status": campaign.status}
    _hold(session, campaign, "cancelled", None)
    campaign.next_run_at = None
    audit.record(session, actor, "campaign.cancel", "campaign", campaign.id, org_id=org_id,
                 before=before, after={"status": "cancelled"})
    session.commit()
    return CampaignView.of(campaign)


# ---------------------------------------------------------------- progress

def _counts(session: Session, campaign_ids: list[int]) -> dict[int, Counter[str]]:
    found: dict[int, Counter[str]] = {i: Counter() for i in campaign_ids}
    for campaign_id, status, count in session.execute(
            select(Message.campaign_id, Message.status, func.count())
            .where(Message.campaign_id.in_(campaign_ids)).group_by(Message.campaign_id, Message.status)):
        found[campaign_id][status] = count
    return found


def _skipped(session: Session, campaign_id: int) -> Counter[str]:
    total: Counter[str] = Counter()
    for skipped in session.scalars(select(CampaignRun.skipped).where(CampaignRun.campaign_id == campaign_id)):
        total.update(skipped or {})
    return total


def _progress(session: Session, campaign: Campaign, counts: Counter[str]) -> CampaignProgress:
    skipped = _skipped(session, campaign.id)
    return CampaignProgress(
        id=campaign.id, status=campaign.status, total=sum(counts.values()),
        queued=sum(counts[s] for s in PENDING), sent=counts["sent"], delivered=counts["delivered"],
        failed=sum(counts[s] for s in FAILED), unknown=counts["unknown"],
        opted_out=skipped["opted_out"] + counts["opted_out"],  # at launch, or withdrawn from the queue
        runs=campaign.runs, skipped=dict(skipped), pause_reason=campaign.pause_reason,
    )


def campaign_progress(session: Session, actor: Actor, org_id: int, campaign_id: int) -> CampaignProgress:
    require(session, actor, org_id, "campaigns.read")
    campaign = _load(session, org_id, campaign_id)
    return _progress(session, campaign, _counts(session, [campaign_id])[campaign_id])


def progress_of(session: Session, actor: Actor, org_id: int, campaign_ids: list[int]) -> dict[int, CampaignProgress]:
    """Several campaigns' progress at once (the console's list)."""
    require(session, actor, org_id, "campaigns.read")
    campaigns = session.scalars(select(Campaign).where(Campaign.org_id == org_id, Campaign.id.in_(campaign_ids)))
    counts = _counts(session, list(campaign_ids))
    return {c.id: _progress(session, c, counts[c.id]) for c in campaigns}


@outbox.after_batch
def watch_campaigns(session: Session, campaign_ids: set[int]) -> None:
    """After each dispatcher batch: pause a campaign failing too often, and finish one with nothing left."""
    counts = _counts(session, sorted(campaign_ids))
    for campaign in session.scalars(select(Campaign).where(Campaign.id.in_(campaign_ids),
                                                           Campaign.status == "running").with_for_update()):
        c = counts[campaign.id]
        failed = sum(c[s] for s in FAILED)
        done = failed + c["sent"] + c["delivered"] + c["unknown"]
        if done >= campaign.failure_min_sample and failed * 100 > campaign.failure_threshold_pct * done:
            reasons = Counter(session.scalars(select(Message.last_error).where(
                Message.campaign_id == campaign.id, Message.status.in_(FAILED))))
            commonest = reasons.most_common(1)[0][0] if reasons else "no reason given"
            _hold(session, campaign, "paused",
                  f"paused automatically: {failed} of {done} messages failed ({failed * 100 // done}%, above "
                  f"{campaign.failure_threshold_pct}%); most often: {commonest}. Fix the cause, then resume.")
        elif not any(c[s] for s in PENDING):
            campaign.status = "scheduled" if campaign.next_run_at else "completed"
            mark_changed(session, campaign.org_id)


# ---------------------------------------------------------------- responses

@dataclass(frozen=True)
class ResponseView:
    campaign_id: int
    phone: str
    text: str
    answer: int | None
    received_at: datetime


def record_response(session: Session, org_id: int, *, phone: str, text: str, received_at: datetime,
                    inbound_id: int | None = None, contact_id: int | None = None) -> ResponseView | None:
    """Record an inbound message as a response to the latest campaign that reached ``phone``
    within its response window; a survey's numbered answer is kept. None when no campaign
    was waiting for it. Idempotent on ``inbound_id``. Does not commit (the inbound
    transaction does)."""
    from sqlalchemy.exc import IntegrityError

    window_start = received_at - timedelta(days=31)
    found = session.execute(
        select(Campaign, Message.sent_at)
        .join(Message, Message.campaign_id == Campaign.id)
        .where(Campaign.org_id == org_id, Message.org_id == org_id, Message.to_address == phone,
               Message.status.in_(("sent", "delivered")), Message.sent_at >= window_start,
               Message.sent_at <= received_at)
        .order_by(Message.sent_at.desc()).limit(1)
    ).first()
    if found is None:
        return None
    campaign, sent_at = found
    if received_at - sent_at > timedelta(hours=campaign.response_window_hours):
        return None
    answer = None
    word = (text or "").strip().split(maxsplit=1)
    choice = whole_number(word[0].rstrip(".)")) if campaign.survey and word else None
    if choice is not None:
        answer = choice if 1 <= choice <= len(campaign.survey) else None
    response = CampaignResponse(org_id=org_id, campaign_id=campaign.id, inbound_id=inbound_id, phone=phone,
                                contact_id=contact_id, text=text, answer=answer, received_at=received_at)
    try:
        with session.begin_nested():
            session.add(response)
    except IntegrityError:
        return None  # this inbound message was recorded already
    mark_changed(session, org_id)
    return ResponseView(campaign.id, phone, text, answer, received_at)


def survey_tally(session: Session, actor: Actor, org_id: int, campaign_id: int) -> dict[str, int]:
    """Answers per survey option, in the survey's order."""
    require(session, actor, org_id, "campaigns.read")
    campaign = _load(session, org_id, campaign_id)
    counts = dict(session.execute(
        select(CampaignResponse.answer, func.count()).where(CampaignResponse.campaign_id == campaign_id,
                                                            CampaignResponse.answer.is_not(None))
        .group_by(CampaignResponse.answer)).all())
    return {option: counts.get(i, 0) for i, option in enumerate(campaign.survey or [], 1)}
