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

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import audit, outbox, templates
from core.actors import Actor
from core.campaigns import audience as audiences
from core.changes import mark_changed
from core.errors import Conflict, InvalidInput, NotFound
from core.numbers import whole_number
from core.permissions import require
from core.providers.india import india_route
from db.models import Message, OptOut, Org
from db.models_campaigns import (Campaign, CampaignResponse, CampaignRun, CampaignSettings, DltReplyTemplate,
                                 TemplateRegistration)
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
    until: datetime | None = None

    @classmethod
    def of(cls, c: Campaign) -> CampaignView:
        return cls(c.id, c.org_id, c.name, c.channel, c.template_name, c.text, c.subject, c.audience, c.schedule,
                   c.starts_at, c.every, c.next_run_at, c.status, c.runs, c.pause_reason,
                   list(c.survey) if c.survey else None, c.created_at, c.until)


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
    held_until: datetime | None = None  # quiet hours: nothing goes before this


# ---------------------------------------------------------------- templates

def check_text(template_text: str, known: set[str], part: str = "text") -> None:
    """Refuse a text with a syntax error, a variable no recipient has or an unsafe attribute, naming it."""
    problems = templates.check_template(template_text, known)
    if problems:
        raise InvalidInput(f"The {part} cannot be used: " + "; ".join(problems).rstrip(".") + ".")


def _variables(org: Org, r: audiences.Recipient) -> dict[str, Any]:
    return templates.context_for(org_name=org.name, name=r.name, phone=r.phone, email=r.email, record=r.fields)


def _known_variables(session: Session, org: Org, source: str) -> set[str]:
    return set(templates.STANDARD_VARIABLES) | set(audiences.variables(session, org, source))


def _survey_text(survey: list[str] | None) -> str:
    if not survey:
        return ""
    return "\nReply " + ", ".join(f"{i} {option}" for i, option in enumerate(survey, 1))


@dataclass(frozen=True)
class _Content:
    """What a campaign sends, before it is filled in for each recipient."""

    body: str
    subject: str | None
    whatsapp_name: str | None = None
    whatsapp_language: str = "en"
    whatsapp_params: tuple[str, ...] = ()
    dlt_template_id: str | None = None

    def parts(self) -> list[tuple[str, str]]:
        """(what it is, template text) of every part a recipient's values fill."""
        found = [("text", self.body)] if self.body else []
        if self.subject and not self.whatsapp_name:
            found.append(("subject", self.subject))
        found += [(f"WhatsApp parameter {{{{{i}}}}}", p) for i, p in enumerate(self.whatsapp_params, 1)]
        return found


def _check_content(session: Session, org: Org, source: str, channel: str, content: _Content) -> None:
    """Refused before the campaign is saved: what no recipient of this audience could fill."""
    known = _known_variables(session, org, source)
    for part, text in content.parts():
        check_text(text, known, part)
    if channel == "email" and not (content.subject or "").strip():
        raise InvalidInput("An email campaign needs a subject (--subject, or the template's own).")
    if channel == "whatsapp" and not content.body.strip() and not content.whatsapp_name:
        raise InvalidInput("A WhatsApp campaign needs a text or an approved template name.")


# ---------------------------------------------------------------- create

def _load(session: Session, org_id: int, campaign_id: int, *, lock: bool = False) -> Campaign:
    query = select(Campaign).where(Campaign.id == campaign_id)
    if lock:
        query = query.with_for_update()
    campaign = session.scalar(query)
    if campaign is None or campaign.org_id != org_id:
        raise NotFound(f"There is no campaign {campaign_id} in this organisation; `ofisi campaigns list` shows them.")
    return campaign


def _check_times(at: datetime | None, until: datetime | None, every: str | None, now: datetime) -> None:
    if at is not None and at.tzinfo is None:
        raise InvalidInput("The start time needs a time zone.")
    # A minute's grace for the time it takes to type the command.
    if at is not None and at < now - timedelta(minutes=1):
        raise InvalidInput(f"The start time {at:%Y-%m-%d %H:%M} UTC has passed; give a time to come.")
    if until is not None:
        if every is None:
            raise InvalidInput("Only a recurring campaign (--every) has an end date (--until).")
        if until.tzinfo is None:
            raise InvalidInput("The end date needs a time zone.")
        if until <= (at or now):
            raise InvalidInput("The end date must come after the start.")


def create_campaign(
    session: Session, actor: Actor, org_id: int, *, name: str, channel: str = "sms", text: str | None = None,
    template: str | None = None, subject: str | None = None, audience: str = "all", at: datetime | None = None,
    every: str | None = None, survey: list[str] | None = None, failure_threshold_pct: int = 20,
    failure_min_sample: int = 20, until: datetime | None = None,
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
    now = utcnow()
    _check_times(at, until, every, now)
    if not 1 <= failure_threshold_pct <= 100:
        raise InvalidInput("The failure threshold is a percentage from 1 to 100.")
    audiences.check(session, actor, org_id, audience)
    source, _ = audiences.split(session, org_id, audience)
    if text is not None:
        if not text.strip():
            raise InvalidInput("The campaign's text is empty.")
    else:
        found = templates.get_template(session, actor, org_id, template)
        if found.channel != channel:
            raise InvalidInput(f"The template {template!r} is for {found.channel}, not {channel}.")
    probe = Campaign(org_id=org_id, channel=channel, text=text or "", template_name=template, subject=subject)
    _check_content(session, session.get(Org, org_id), source, channel, _content(session, actor, probe))
    if survey is not None:
        survey = [o.strip() for o in survey if o.strip()]
        if not 2 <= len(survey) <= 9:
            raise InvalidInput("A survey has between 2 and 9 answers (replies are one digit).")
    schedule = "every" if every else "at" if at else "now"
    campaign = Campaign(
        org_id=org_id, name=name, channel=channel, text=text or "", template_name=template, subject=subject,
        audience=(audience or "all").strip(), schedule=schedule, starts_at=at, every=every, until=until,
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

def _content(session: Session, actor: Actor, campaign: Campaign) -> _Content:
    """The campaign's own text, or its saved template's parts. A WhatsApp subject on a campaign's
    own text names the approved template (``NAME`` or ``NAME/LANG``) that carries it as its one parameter."""
    if campaign.text:
        body = campaign.text + _survey_text(campaign.survey)
        if campaign.channel == "whatsapp" and campaign.subject:
            name, _, language = campaign.subject.removeprefix("template:").partition("/")
            return _Content("", None, name, language or "en", (body,))
        return _Content(body, campaign.subject)
    found = templates.get_template(session, actor, campaign.org_id, campaign.template_name)
    registration = session.get(TemplateRegistration, found.id)
    dlt = registration.dlt_template_id if registration else None
    language = (registration.whatsapp_language if registration else None) or "en"
    body = found.body + (_survey_text(campaign.survey) if found.body else "")
    if campaign.channel == "whatsapp" and found.whatsapp_template_name:
        params = tuple(found.whatsapp_params) or ((body,) if body else ())
        return _Content("", None, found.whatsapp_template_name, language, params)
    return _Content(body, found.subject, dlt_template_id=dlt)


_HTML_TAG = re.compile(r"</?(p|br|div|span|h[1-6]|a|b|i|u|em|strong|ul|ol|li|table|tr|td|img|hr|html|body)\b[^>]*>",
                       re.IGNORECASE)
_JINJA = re.compile(r"({{.*?}}|{%.*?%}|{#.*?#})", re.DOTALL)


def _plain_as_html(text: str) -> str:
    """An email typed as plain text, as HTML: its words escaped, its paragraphs and line breaks kept."""
    import html

    escaped = "".join(part if i % 2 else html.escape(part, quote=False) for i, part in enumerate(_JINJA.split(text)))
    return "".join(f"<p>{p.strip().replace(chr(10), '<br>')}</p>" for p in escaped.split("\n\n") if p.strip())


@dataclass(frozen=True)
class Filled:
    """One recipient's message as the outbox row holds it, and what it is for people to read."""

    body: str
    subject: str | None
    shown: str  # the text, the email's plain text, or the WhatsApp template and its parameters


def _fill(org: Org, channel: str, content: _Content, context: dict[str, Any], *, address: str,
          dlt_entity_id: str | None = None) -> Filled:
    """One recipient's message through :func:`core.templates.render_message`, in the form the
    channel's provider reads (see :mod:`core.providers`)."""
    from core.providers import smtp, whatsapp
    from core.campaigns.unsubscribe import unsubscribe_url

    if channel == "email":
        body = content.body if _HTML_TAG.search(content.body) else _plain_as_html(content.body)
        rendered = templates.render_message("email", body, context, subject=content.subject)
        link = unsubscribe_url(org.id, "email", address)
        return Filled(smtp.html_document(rendered.html or "", unsubscribe=link, org_name=org.name),
                      rendered.subject, rendered.text)
    if channel == "whatsapp" and content.whatsapp_name:
        rendered = templates.render_message("whatsapp", "", context, whatsapp_template_name=content.whatsapp_name,
                                            whatsapp_params=content.whatsapp_params)
        if any(not p for p in rendered.whatsapp_params):
            raise InvalidInput("a WhatsApp parameter came out empty")  # WhatsApp refuses an empty parameter
        return Filled(whatsapp.template_body(rendered.whatsapp_params),
                      whatsapp.template_subject(content.whatsapp_name, content.whatsapp_language),
                      f"[{content.whatsapp_name}/{content.whatsapp_language}] " + " | ".join(rendered.whatsapp_params))
    rendered = templates.render_message(channel, content.body, context)
    subject = None
    if channel == "sms" and content.dlt_template_id:
        from core.providers.india import dlt_subject

        subject = dlt_subject(dlt_entity_id, content.dlt_template_id)
    return Filled(rendered.text, subject, rendered.text)


# ---------------------------------------------------------------- the org's settings

def _default_quiet() -> tuple[str, str]:
    """The installation's quiet hours for orgs without their own (``campaign_quiet_hours``)."""
    from config import get_settings

    text = get_settings().campaign_quiet_hours.strip().lower()
    if text in ("off", "none", ""):
        return "00:00", "00:00"
    start, _, end = text.partition("-")
    return start.strip(), end.strip()


def _settings(session: Session, org_id: int) -> CampaignSettings:
    found = session.get(CampaignSettings, org_id)
    if found is None:
        start, end = _default_quiet()
        found = CampaignSettings(org_id=org_id, quiet_from=start, quiet_until=end)
    return found


def _clock(text: str, what: str) -> time:
    try:
        hours, minutes = (int(p) for p in text.strip().split(":"))
        return time(hours, minutes)
    except (ValueError, AttributeError):
        raise InvalidInput(f"The {what} {text!r} is not a time of day; write it as 21:00.") from None


def _after_quiet_hours(org: Org, settings: CampaignSettings, now: datetime) -> datetime:
    """``now``, or the end of the org's quiet hours when ``now`` falls inside them."""
    start, end = _clock(settings.quiet_from, "start"), _clock(settings.quiet_until, "end")
    if start == end:
        return now
    zone = ZoneInfo(org.timezone)
    local = now.astimezone(zone)
    at = local.time().replace(tzinfo=None)
    quiet = (start <= at < end) if start < end else (at >= start or at < end)
    if not quiet:
        return now
    day = local.date() if at < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone).astimezone(timezone.utc)


@dataclass(frozen=True)
class SettingsView:
    quiet_from: str
    quiet_until: str
    dlt_entity_id: str | None
    dlt_templates: dict[str, str] = field(default_factory=dict)  # kind (india.REPLY_KINDS) -> DLT template ID
    released: int = 0  # SMS held back for want of a DLT ID that this change let go

    def released_note(self) -> str:
        """What the change let go, in a sentence (empty when nothing)."""
        if not self.released:
            return ""
        return (f"{self.released} SMS to India held back for want of a DLT ID "
                f"{'is' if self.released == 1 else 'are'} queued again.")


def campaign_settings(session: Session, actor: Actor, org_id: int, *, quiet_from: str | None = None,
                      quiet_until: str | None = None, dlt_entity_id: str | None = None,
                      dlt_templates: dict[str, str] | None = None) -> SettingsView:
    """The org's quiet hours, DLT entity ID and the DLT template IDs of its own SMS by kind
    (``dlt_templates``, an empty ID removes one); changed when given (``campaigns.manage``).

    Every value is checked before anything is written, so a refusal (an hour that is not a time,
    an ID that is not a number) changes nothing, and the rest is saved in one transaction."""
    require(session, actor, org_id, "campaigns.read")
    found = _settings(session, org_id)
    changes = {k: v.strip() for k, v in (("quiet_from", quiet_from), ("quiet_until", quiet_until),
                                          ("dlt_entity_id", dlt_entity_id)) if v is not None}
    if changes or dlt_templates:
        require(session, actor, org_id, "campaigns.manage")
        problems = []
        for key, what in (("quiet_from", "start of the quiet hours"), ("quiet_until", "end of the quiet hours")):
            if key in changes:
                try:
                    changes[key] = _clock(changes[key], what).strftime("%H:%M")
                except InvalidInput as refused:
                    problems.append(str(refused)[:1].lower() + str(refused)[1:].rstrip("."))
        problems += _dlt_problems(changes.get("dlt_entity_id"), dlt_templates or {})
        if problems:
            said = "; ".join(problems)
            raise InvalidInput(said[:1].upper() + said[1:] + ".")
    if dlt_templates:
        _register_dlt_templates(session, actor, org_id, dlt_templates)
    if changes:
        before = {k: getattr(found, k) for k in changes}
        for key, value in changes.items():
            setattr(found, key, value or None if key == "dlt_entity_id" else value)
        session.merge(found)
        audit.record(session, actor, "campaign.settings", "org", org_id, org_id=org_id, before=before, after=changes)
    released = 0
    if dlt_templates or changes.get("dlt_entity_id"):
        session.flush()
        released = outbox.release_dlt_held(session, org_id)
        if released:
            audit.record(session, actor, "campaign.dlt_released", "org", org_id, org_id=org_id,
                         after={"messages": released})
    if changes or dlt_templates:
        session.commit()
    registered = dict(session.execute(select(DltReplyTemplate.kind, DltReplyTemplate.dlt_template_id)
                                      .where(DltReplyTemplate.org_id == org_id)).all())
    return SettingsView(found.quiet_from, found.quiet_until, found.dlt_entity_id, registered, released)


_DLT_ID = re.compile(r"[0-9]+")


def _dlt_problems(entity_id: str | None, templates: dict[str, str]) -> list[str]:
    """What is wrong with a DLT entity ID and template IDs by kind: each ID is a number (19 digits
    as DLT issues them), each kind one of ``india.REPLY_KINDS``."""
    from core.providers.india import REPLY_KINDS

    problems = []
    if entity_id and not _DLT_ID.fullmatch(entity_id):
        problems.append(f"the DLT entity ID {entity_id!r} is not a number (DLT IDs are 19 digits)")
    problems += [f"{kind!r} is not a kind of SMS; use one of {', '.join(REPLY_KINDS)}"
                 for kind in templates if kind not in REPLY_KINDS]
    problems += [f"the DLT template ID {value!r} for {kind} is not a number (DLT IDs are 19 digits)"
                 for kind, value in templates.items() if value.strip() and not _DLT_ID.fullmatch(value.strip())]
    return problems


def _register_dlt_templates(session: Session, actor: Actor, org_id: int, given: dict[str, str]) -> None:
    """Write checked DLT template IDs by kind (the caller commits)."""
    before, after = {}, {}
    for kind, value in given.items():
        row = session.get(DltReplyTemplate, (org_id, kind))
        before[kind] = row.dlt_template_id if row else None
        after[kind] = value.strip() or None
        if row is not None and not after[kind]:
            session.delete(row)
        elif row is not None:
            row.dlt_template_id = after[kind]
        elif after[kind]:
            session.add(DltReplyTemplate(org_id=org_id, kind=kind, dlt_template_id=after[kind]))
    audit.record(session, actor, "campaign.dlt_templates", "org", org_id, org_id=org_id, before=before, after=after)


# ---------------------------------------------------------------- before launch: preview, count, test

@dataclass(frozen=True)
class PreviewLine:
    address: str
    who: str
    subject: str | None
    text: str
    segments: int | None = None  # SMS only
    encoding: str | None = None


@dataclass(frozen=True)
class LaunchCheck:
    """What launching now would do: who gets it, who does not and why, and what it would cost."""

    recipients: int
    skipped: dict[str, int]
    segments: int  # SMS parts in all
    estimated_cost: str | None  # from the prices the provider reported for this org's recent SMS
    lines: list[PreviewLine]


def _price_per_segment(session: Session, org_id: int) -> tuple[float, str] | None:
    """The mean price per SMS part the provider reported for the org's last 200 priced messages."""
    from db.models_campaigns import MessageCost

    rows = session.execute(
        select(MessageCost.amount_minor, MessageCost.currency, Message.body)
        .join(Message, Message.id == MessageCost.message_id)
        .where(Message.org_id == org_id, Message.channel == "sms").order_by(Message.id.desc()).limit(200)).all()
    rows = [r for r in rows if r.currency == rows[0].currency] if rows else []
    parts = sum(max(1, templates.sms_segments(r.body).segments) for r in rows)
    return (sum(r.amount_minor for r in rows) / parts, rows[0].currency) if parts else None


def check_launch(session: Session, actor: Actor, org_id: int, campaign_id: int, *, show: int = 5,
                 only_shown: bool = False) -> LaunchCheck:
    """Render the campaign for its audience as launching would, without writing anything
    (``only_shown``: stop after the first ``show`` recipients)."""
    from core.money import format_money

    require(session, actor, org_id, "campaigns.read")
    campaign = _load(session, org_id, campaign_id)
    org = session.get(Org, org_id)
    content = _content(session, actor, campaign)
    skipped: Counter[str] = Counter()
    lines: list[PreviewLine] = []
    count = segments = 0
    opt_outs = outbox.OptOuts(session, org_id, "marketing")
    for recipient, address, filled in _addressed(session, actor, campaign, org, content, _settings(session, org_id),
                                                 skipped, opt_outs):
        count += 1
        length = templates.sms_segments(filled.shown) if campaign.channel == "sms" else None
        segments += length.segments if length else 0
        if len(lines) < show:
            lines.append(PreviewLine(address, recipient.who, filled.subject if campaign.channel == "email" else None,
                                     filled.shown, length.segments if length else None,
                                     length.encoding if length else None))
        elif only_shown:
            break
    price = _price_per_segment(session, org_id) if campaign.channel == "sms" else None
    cost = format_money(round(price[0] * segments), price[1]) if price else None
    return LaunchCheck(count, dict(skipped), segments, cost, lines)


def audience_size(session: Session, actor: Actor, org_id: int, audience: str = "all") -> dict[str, int]:
    """How many people an audience holds, and how many of them each channel can reach (the
    campaigns home's figure: the registry's people, not the contacts)."""
    require(session, actor, org_id, "campaigns.read")
    audiences.check(session, actor, org_id, audience)
    found: Counter[str] = Counter()
    for recipient in audiences.recipients(session, actor, org_id, audience):
        found["people"] += 1
        for channel in outbox.CHANNELS:
            found[channel] += bool(recipient.address(channel))
    return {"people": found["people"], **{channel: found[channel] for channel in outbox.CHANNELS}}


def preview(session: Session, actor: Actor, org_id: int, campaign_id: int, *, count: int = 3) -> list[tuple[str, str]]:
    """The first recipients' (address, text) as launching would write them (the console's preview)."""
    return [(line.address, line.text) for line in check_launch(session, actor, org_id, campaign_id, show=count,
                                                                   only_shown=True).lines]


def test_send(session: Session, actor: Actor, org_id: int, campaign_id: int, *, to: str) -> int:
    """Send the campaign's message, filled for its first recipient, to ``to`` (the sender's own
    phone or address) now; quiet hours do not hold it. Returns the outbox id."""
    require(session, actor, org_id, "campaigns.send")
    campaign = _load(session, org_id, campaign_id)
    org = session.get(Org, org_id)
    address = outbox.address_for(campaign.channel, to, org.country)
    content = _content(session, actor, campaign)
    sample = next(_addressed(session, actor, campaign, org, content, _settings(session, org_id), Counter(), None),
                  None)
    context = _variables(org, sample[0]) if sample else templates.context_for(org_name=org.name, name="")
    if campaign.channel == "sms" and address.startswith("+91") and india_route():
        _require_dlt(campaign, content, _settings(session, org_id))
    filled = _fill(org, campaign.channel, content, context, address=address,
                   dlt_entity_id=_settings(session, org_id).dlt_entity_id)
    message_id = outbox.enqueue(session, org_id, to=address, body=filled.body, subject=filled.subject,
                                channel=campaign.channel, purpose="service",
                                idempotency_key=f"campaign:{campaign.id}:test:{utcnow().timestamp():.0f}:{address}")
    audit.record(session, actor, "campaign.test_send", "campaign", campaign.id, org_id=org_id, after={"to": address})
    session.commit()
    return message_id


def schedule_campaign(session: Session, actor: Actor, org_id: int, campaign_id: int, *, at: datetime,
                      every: str | None = None, until: datetime | None = None) -> CampaignView:
    """Schedule a draft (or move a scheduled campaign) to start at ``at`` (without an offset: the
    org's clock); a past time is refused."""
    org = require(session, actor, org_id, "campaigns.manage")
    zone = ZoneInfo(org.timezone)
    at = at.replace(tzinfo=zone) if at.tzinfo is None else at
    until = until.replace(tzinfo=zone) if until is not None and until.tzinfo is None else until
    campaign = _load(session, org_id, campaign_id, lock=True)
    if campaign.status not in ("draft", "scheduled"):
        raise Conflict(f"Campaign {campaign_id} is {campaign.status}; only a draft or scheduled one can be scheduled.")
    every = every or campaign.every
    if every is not None and every not in PERIODS:
        raise InvalidInput(f"A campaign repeats every week or every month, not every {every!r}.")
    until = until or campaign.until
    _check_times(at, until, every, utcnow())
    before = {"status": campaign.status, "next_run_at": campaign.next_run_at}
    campaign.schedule, campaign.every, campaign.until = ("every" if every else "at"), every, until
    campaign.starts_at = campaign.next_run_at = at
    campaign.status = "scheduled"
    audit.record(session, actor, "campaign.schedule", "campaign", campaign.id, org_id=org_id,
                 before={k: v.isoformat() if isinstance(v, datetime) else v for k, v in before.items()},
                 after={"status": "scheduled", "next_run_at": at.isoformat(), "every": every,
                        "until": until.isoformat() if until else None})
    mark_changed(session, org_id)
    session.commit()
    return CampaignView.of(campaign)


def edit_campaign(session: Session, actor: Actor, org_id: int, campaign_id: int, *, name: str | None = None,
                  text: str | None = None, subject: str | None = None, audience: str | None = None,
                  template: str | None = None) -> CampaignView:
    """Change a campaign that has not started sending (draft or scheduled), checked as on creation."""
    require(session, actor, org_id, "campaigns.manage")
    campaign = _load(session, org_id, campaign_id, lock=True)
    if campaign.status not in ("draft", "scheduled"):
        raise Conflict(f"Campaign {campaign_id} is {campaign.status}; only a draft or scheduled one can be edited.")
    changes = {k: v for k, v in (("name", name), ("text", text), ("subject", subject), ("audience", audience),
                                 ("template_name", template)) if v is not None}
    if "text" in changes:
        changes["template_name"] = None
    elif "template_name" in changes:
        changes["text"] = ""
    before = {k: getattr(campaign, k) for k in changes}
    for key, value in changes.items():
        setattr(campaign, key, value)
    if not campaign.name.strip():
        raise InvalidInput("A campaign needs a name.")
    audiences.check(session, actor, org_id, campaign.audience)
    source, _ = audiences.split(session, org_id, campaign.audience)
    _check_content(session, session.get(Org, org_id), source, campaign.channel, _content(session, actor, campaign))
    audit.record(session, actor, "campaign.edit", "campaign", campaign.id, org_id=org_id, before=before, after=changes)
    session.commit()
    return CampaignView.of(campaign)


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
    content = _content(session, actor, campaign)
    settings = _settings(session, org.id)
    # The core opt-outs (STOP, the registry's and the officials' switches), read once for the run.
    opt_outs = outbox.OptOuts(session, org.id, "marketing")
    skipped: Counter[str] = Counter()
    # Quiet hours: a run that starts in the night is held until the morning, the org's clock.
    due = _after_quiet_hours(org, settings, now)
    rows: list[dict] = []
    queued = 0
    for recipient, address, filled in _addressed(session, actor, campaign, org, content, settings, skipped, opt_outs):
        rows.append({"channel": campaign.channel, "to_address": address, "body": filled.body,
                     "subject": filled.subject, "idempotency_key": f"campaign:{campaign.id}:run:{number}:{recipient.key}",
                     "contact_id": recipient.contact_id, "campaign_id": campaign.id, "next_attempt_at": due})
        if len(rows) >= 1000:
            queued += outbox.enqueue_many(session, org.id, rows, purpose="marketing", opt_outs=opt_outs)
            rows = []
    queued += outbox.enqueue_many(session, org.id, rows, purpose="marketing", opt_outs=opt_outs)
    run.queued, run.skipped = queued, dict(skipped)
    campaign.runs = number
    return number, queued, dict(skipped)


def _addressed(session: Session, actor: Actor, campaign: Campaign, org: Org, content: _Content,
               settings: CampaignSettings, skipped: Counter[str], opt_outs: outbox.OptOuts | None,
               ) -> Iterator[tuple[audiences.Recipient, str, Filled]]:
    """Each recipient the campaign reaches, with its address and message; the others counted in ``skipped``."""
    seen: set[str] = set()
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
        if opt_outs is not None and opt_outs.hold(campaign.channel, address):
            skipped["opted_out"] += 1
            continue
        if address in seen:
            skipped["duplicate"] += 1
            continue
        seen.add(address)
        if campaign.channel == "sms" and address.startswith("+91") and india_route():
            _require_dlt(campaign, content, settings)
        try:
            filled = _fill(org, campaign.channel, content, _variables(org, recipient), address=address,
                           dlt_entity_id=settings.dlt_entity_id)
        except InvalidInput:  # a sandbox refusal, or a WhatsApp parameter left empty
            skipped["template"] += 1
            continue
        if not filled.body.strip():
            skipped["empty"] += 1
            continue
        yield recipient, address, filled


def _require_dlt(campaign: Campaign, content: _Content, settings: CampaignSettings) -> None:
    """India's DLT rules: an SMS to an Indian number names the sender's registered entity and
    the registered template, or the operators drop it."""
    if not content.dlt_template_id:
        what = f"its template {campaign.template_name!r} has" if campaign.template_name else "its own text has"
        raise InvalidInput(
            f"Campaign {campaign.id} cannot go to Indian numbers: {what} no DLT template ID, and Indian operators "
            "drop SMS whose template is not registered on DLT. Register it, then save its ID with "
            "`ofisi templates edit NAME --org SLUG --dlt-template-id ID`.")
    if not settings.dlt_entity_id:
        raise InvalidInput(
            f"Campaign {campaign.id} cannot go to Indian numbers: the organisation has no DLT entity ID; set it with "
            "`ofisi campaigns settings --org SLUG --dlt-entity-id ID`.")


def _advance(session: Session, campaign: Campaign) -> None:
    """After a run of a recurring campaign: when the next one is due, at the same wall-clock time
    in the org's zone. A monthly one keeps the day it started on (the 31st is each month's last
    day, and back to the 31st after February); none after ``until``."""
    if campaign.every is None or campaign.next_run_at is None:
        campaign.next_run_at = None
        return
    zone = ZoneInfo(session.get(Org, campaign.org_id).timezone)
    anchor = (campaign.starts_at or campaign.next_run_at).astimezone(zone)
    last = campaign.next_run_at.astimezone(zone)
    if campaign.every == "week":
        day = last.date() + timedelta(days=7)
    else:
        from calendar import monthrange

        year, month = (last.year + 1, 1) if last.month == 12 else (last.year, last.month + 1)
        day = last.date().replace(year=year, month=month, day=min(anchor.day, monthrange(year, month)[1]))
    following = datetime.combine(day, anchor.timetz().replace(tzinfo=None), tzinfo=zone).astimezone(timezone.utc)
    campaign.next_run_at = None if campaign.until is not None and following > campaign.until else following


def start_run(session: Session, actor: Actor, campaign: Campaign, now: datetime) -> LaunchResult:
    """Materialise the next run and set the campaign running (uncommitted)."""
    number, queued, skipped = _materialise(session, actor, campaign, now)
    if campaign.schedule != "now":
        _advance(session, campaign)
    campaign.status = "running" if queued else ("scheduled" if campaign.next_run_at else "completed")
    campaign.pause_reason = None
    audit.record(session, actor, "campaign.launch", "campaign", campaign.id, org_id=campaign.org_id,
                 after={"run": number, "queued": queued, "skipped": skipped})
    mark_changed(session, campaign.org_id)
    release = _after_quiet_hours(session.get(Org, campaign.org_id), _settings(session, campaign.org_id), now)
    return LaunchResult(CampaignView.of(campaign), number, queued, skipped, release if release > now else None)


def launch_campaign(session: Session, actor: Actor, org_id: int, campaign_id: int) -> LaunchResult:
    """Send it now: one outbox message per recipient, skipping (and counting) those it cannot reach."""
    require(session, actor, org_id, "campaigns.send")
    campaign = _load(session, org_id, campaign_id, lock=True)
    if campaign.status not in ("draft", "scheduled"):
        hint = {"paused": " Resume it instead.", "running": " It is sending now."}.get(campaign.status, "")
        raise Conflict(f"Campaign {campaign_id} is {campaign.status}; only a draft or scheduled one can be "
                       f"launched.{hint}")
    result = start_run(session, actor, campaign, utcnow())
    if not result.queued:
        session.rollback()
        reasons = ", ".join(f"{n} {why.replace('_', ' ')}" for why, n in sorted(result.skipped.items()))
        raise InvalidInput(f"Nobody would get campaign {campaign_id}: its audience {campaign.audience!r} gives no one "
                           f"to write to{' (' + reasons + ')' if reasons else ''}. `ofisi campaigns count "
                           f"{campaign_id}` shows who is left out and why.")
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
    # The auto-pause counts afresh: the failures that paused it do not pause it again.
    campaign.status, campaign.pause_reason, campaign.resumed_at = "running", None, utcnow()
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


def _since_resume(session: Session, campaign: Campaign) -> Counter[str]:
    """A resumed campaign's message states, counting only what moved since the resume."""
    return Counter(dict(session.execute(
        select(Message.status, func.count()).where(Message.campaign_id == campaign.id,
                                                   Message.updated_at >= campaign.resumed_at)
        .group_by(Message.status)).all()))


# An SMTP refusal that will not change (5xx): the address is suppressed for the next campaigns.
HARD_BOUNCE = "SMTP 5%"


def _suppress_bounced(session: Session, campaign_ids: set[int]) -> None:
    from core.optouts import opt_out

    for org_id, address in session.execute(
            select(Message.org_id, Message.to_address).where(
                Message.campaign_id.in_(campaign_ids), Message.channel == "email", Message.status == "failed",
                Message.last_error.like(HARD_BOUNCE)).distinct()):
        if opt_out(session, org_id, "email", address, source="bounce"):
            mark_changed(session, org_id)


def _hold_for_quiet_hours(session: Session, campaigns: list[Campaign], now: datetime) -> None:
    """A run still sending when the org's quiet hours begin (a long one, or retries) waits for the
    morning: what is queued moves to the end of the quiet hours."""
    for campaign in campaigns:
        org = session.get(Org, campaign.org_id)
        release = _after_quiet_hours(org, _settings(session, org.id), now)
        if release > now:
            session.execute(update(Message).where(
                Message.campaign_id == campaign.id, Message.status == "queued", Message.next_attempt_at < release)
                .values(next_attempt_at=release).execution_options(synchronize_session=False))


@outbox.after_batch
def watch_campaigns(session: Session, campaign_ids: set[int], now: datetime | None = None) -> None:
    """After each dispatcher batch: suppress addresses that bounced hard, hold what is left for the
    morning once quiet hours begin, pause a campaign failing too often (counting since its last
    resume), and finish one with nothing left."""
    _suppress_bounced(session, campaign_ids)
    _hold_for_quiet_hours(session, list(session.scalars(select(Campaign).where(
        Campaign.id.in_(campaign_ids), Campaign.status == "running"))), now or utcnow())
    counts = _counts(session, sorted(campaign_ids))
    for campaign in session.scalars(select(Campaign).where(Campaign.id.in_(campaign_ids),
                                                           Campaign.status == "running").with_for_update()):
        c = counts[campaign.id]
        recent = _since_resume(session, campaign) if campaign.resumed_at else c
        failed = sum(recent[s] for s in FAILED)
        done = failed + recent["sent"] + recent["delivered"] + recent["unknown"]
        if done >= campaign.failure_min_sample and failed * 100 > campaign.failure_threshold_pct * done:
            query = select(Message.last_error).where(Message.campaign_id == campaign.id, Message.status.in_(FAILED))
            if campaign.resumed_at:
                query = query.where(Message.updated_at >= campaign.resumed_at)
            reasons = Counter(session.scalars(query))
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


# Words that are instructions to us, not answers: consent (core.optouts) and asking for help.
NOT_RESPONSES = ("HELP", "INFO")


def is_response(text: str) -> bool:
    """Whether an inbound message can be a campaign response (STOP, START, HELP are not)."""
    from core.optouts import consent_word

    words = (text or "").strip().upper().split()
    return bool(words) and consent_word(text) is None and words[0].strip(".!?") not in NOT_RESPONSES


def record_response(session: Session, org_id: int, *, phone: str, text: str, received_at: datetime,
                    inbound_id: int | None = None, contact_id: int | None = None) -> ResponseView | None:
    """Record an inbound message as a response to the campaign that asked ``phone`` most recently
    within its response window: a survey that asked first, then any other campaign. STOP, START
    and HELP are not responses. None when no campaign was waiting for it. Idempotent on
    ``inbound_id``. Does not commit (the inbound transaction does)."""
    from sqlalchemy.exc import IntegrityError

    if not is_response(text):
        return None
    window_start = received_at - timedelta(days=31)
    candidates = session.execute(
        select(Campaign, Message.sent_at)
        .join(Message, Message.campaign_id == Campaign.id)
        .where(Campaign.org_id == org_id, Message.org_id == org_id, Message.to_address == phone,
               Message.status.in_(("sent", "delivered")), Message.sent_at >= window_start,
               Message.sent_at <= received_at)
        .order_by(Message.sent_at.desc(), Message.id.desc()).limit(50)
    ).all()
    waiting = [c for c, sent_at in candidates if received_at - sent_at <= timedelta(hours=c.response_window_hours)]
    if not waiting:
        return None
    campaign = next((c for c in waiting if c.survey), waiting[0])
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


@dataclass(frozen=True)
class ReplyView:
    received_at: datetime
    phone: str
    who: str
    text: str
    answer: str | None  # the survey option it chose
    id: int = 0  # for the next page: ``before_id``


def _who_by_address(session: Session, actor: Actor, org_id: int, campaign_id: int,
                    addresses: set[str]) -> dict[str, str]:
    """Who each address is (a vendor's or a contact's name), read from the messages the campaign
    sent them; an address it cannot name stands for itself."""
    keys = dict(session.execute(select(Message.to_address, Message.idempotency_key).where(
        Message.campaign_id == campaign_id, Message.to_address.in_(addresses))).all()) if addresses else {}
    return {a: audiences.who(session, actor, org_id, (keys.get(a) or "").split(":", 4)[-1]) or a for a in addresses}


def campaign_replies(session: Session, actor: Actor, org_id: int, campaign_id: int, *,
                     before_id: int | None = None, limit: int = 100) -> list[ReplyView]:
    """What people answered a campaign, newest first, with who sent it (keyset-paged by id)."""
    require(session, actor, org_id, "campaigns.read")
    campaign = _load(session, org_id, campaign_id)
    query = select(CampaignResponse).where(CampaignResponse.campaign_id == campaign_id)
    if before_id is not None:
        query = query.where(CampaignResponse.id < before_id)
    rows = session.scalars(query.order_by(CampaignResponse.id.desc()).limit(limit)).all()
    who = _who_by_address(session, actor, org_id, campaign_id, {r.phone for r in rows})
    found = []
    for r in rows:
        option = campaign.survey[r.answer - 1] if r.answer and campaign.survey else None
        found.append(ReplyView(r.received_at, r.phone, who[r.phone], r.text, option, r.id))
    return found


# The opt-outs a person asked for themselves: STOP by SMS or WhatsApp, an email's unsubscribe link.
ASKED_OPT_OUTS = ("sms", "whatsapp", "unsubscribe link")


@dataclass(frozen=True)
class CampaignOptOut:
    at: datetime
    address: str
    who: str
    channel: str
    how: str  # "sms", "whatsapp" (a STOP) or "unsubscribe link"


@dataclass(frozen=True)
class RepliesOverview:
    """A campaign's replies at a glance: how many responses, the survey's answers counted, and
    apart from them who asked for no more messages once it had reached them."""

    responses: int
    tally: dict[str, int]
    opt_outs: list[CampaignOptOut]


def replies_overview(session: Session, actor: Actor, org_id: int, campaign_id: int, *,
                     limit: int = 200) -> RepliesOverview:
    """The responses counted, the survey's tally, and the opt-outs (newest first, at most
    ``limit``) of people this campaign reached within its response window before they asked:
    STOPs are never responses, so they are shown here instead."""
    require(session, actor, org_id, "campaigns.read")
    campaign = _load(session, org_id, campaign_id)
    responses = session.scalar(select(func.count()).select_from(CampaignResponse)
                               .where(CampaignResponse.campaign_id == campaign_id)) or 0
    window = timedelta(hours=campaign.response_window_hours)
    rows = session.execute(
        select(OptOut, Message.sent_at)
        .join(Message, (Message.org_id == OptOut.org_id) & (Message.to_address == OptOut.address)
              & (Message.channel == OptOut.channel))
        .where(OptOut.org_id == org_id, Message.campaign_id == campaign_id, OptOut.source.in_(ASKED_OPT_OUTS),
               Message.sent_at.is_not(None), OptOut.created_at >= Message.sent_at)
        .order_by(OptOut.created_at.desc(), OptOut.id.desc()).limit(limit * 4)).all()
    seen: dict[int, OptOut] = {}
    for opt_out, sent_at in rows:
        if opt_out.created_at - sent_at <= window and len(seen) < limit:
            seen.setdefault(opt_out.id, opt_out)
    who = _who_by_address(session, actor, org_id, campaign_id, {o.address for o in seen.values()})
    return RepliesOverview(
        responses, survey_tally(session, actor, org_id, campaign_id),
        [CampaignOptOut(o.created_at, o.address, who[o.address], o.channel, o.source) for o in seen.values()])


def survey_tally(session: Session, actor: Actor, org_id: int, campaign_id: int) -> dict[str, int]:
    """Answers per survey option, in the survey's order."""
    require(session, actor, org_id, "campaigns.read")
    campaign = _load(session, org_id, campaign_id)
    counts = dict(session.execute(
        select(CampaignResponse.answer, func.count()).where(CampaignResponse.campaign_id == campaign_id,
                                                            CampaignResponse.answer.is_not(None))
        .group_by(CampaignResponse.answer)).all())
    return {option: counts.get(i, 0) for i, option in enumerate(campaign.survey or [], 1)}
