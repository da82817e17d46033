"""Campaign analytics: per campaign sent, delivered, failed by reason, responses and
their rate and cost, over a period; a campaign's sends over time (the console's chart,
and per day); engagement per vendor; reach and responses per district or state."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.campaigns.service import FAILED, _load
from core.errors import InvalidInput, NotFound
from core.permissions import require
from db.models import Message
from db.models_campaigns import Campaign, CampaignResponse, MessageCost


@dataclass(frozen=True)
class CampaignReportRow:
    id: int
    name: str
    channel: str
    status: str
    runs: int
    messages: int
    sent: int  # reached the provider (sent or delivered)
    delivered: int
    failed: int
    unknown: int
    responses: int
    response_rate: float  # responses per message that reached the provider
    failed_by_reason: dict[str, int] = field(default_factory=dict)
    # What the provider said the messages cost, where it says (Africa's Talking): the total and
    # the mean per priced message, in minor units of ``cost_currency`` (None when nothing was priced).
    priced: int = 0
    cost_minor: int = 0
    cost_per_message_minor: int = 0
    cost_currency: str | None = None


def _reason(error: str | None) -> str:
    return (error or "no reason given").split(";")[0][:80]


def campaign_report(session: Session, actor: Actor, org_id: int, *, start: datetime | None = None,
                    end: datetime | None = None, campaign_id: int | None = None) -> list[CampaignReportRow]:
    """Every campaign created in [start, end) (all when open), newest first; or just ``campaign_id``."""
    require(session, actor, org_id, "campaigns.read")
    query = select(Campaign).where(Campaign.org_id == org_id)
    if campaign_id is not None:
        query = query.where(Campaign.id == campaign_id)
    if start is not None:
        query = query.where(Campaign.created_at >= start)
    if end is not None:
        query = query.where(Campaign.created_at < end)
    campaigns = session.scalars(query.order_by(Campaign.id.desc())).all()
    ids = [c.id for c in campaigns]
    if not ids:
        return []
    counts: dict[int, Counter[str]] = {i: Counter() for i in ids}
    for cid, status, n in session.execute(select(Message.campaign_id, Message.status, func.count())
                                          .where(Message.campaign_id.in_(ids))
                                          .group_by(Message.campaign_id, Message.status)):
        counts[cid][status] = n
    reasons: dict[int, Counter[str]] = {i: Counter() for i in ids}
    for cid, error, n in session.execute(select(Message.campaign_id, Message.last_error, func.count())
                                         .where(Message.campaign_id.in_(ids), Message.status.in_(FAILED))
                                         .group_by(Message.campaign_id, Message.last_error)):
        reasons[cid][_reason(error)] += n
    responses = dict(session.execute(select(CampaignResponse.campaign_id, func.count())
                                     .where(CampaignResponse.campaign_id.in_(ids))
                                     .group_by(CampaignResponse.campaign_id)).all())
    costs = _costs(session, ids)
    rows = []
    for c in campaigns:
        n = counts[c.id]
        reached = n["sent"] + n["delivered"]
        answered = responses.get(c.id, 0)
        priced, total, currency = costs.get(c.id, (0, 0, None))
        rows.append(CampaignReportRow(
            c.id, c.name, c.channel, c.status, c.runs, sum(n.values()), reached, n["delivered"],
            sum(n[s] for s in FAILED), n["unknown"], answered, round(answered / reached, 4) if reached else 0.0,
            dict(reasons[c.id].most_common()), priced, total, round(total / priced) if priced else 0, currency))
    return rows


def _costs(session: Session, campaign_ids: list[int]) -> dict[int, tuple[int, int, str]]:
    """(priced messages, total minor units, currency) per campaign. One SMS account prices in
    one currency; should a campaign's prices come in several, the one most messages carry counts."""
    found: dict[int, tuple[int, int, str]] = {}
    for cid, currency, n, total in session.execute(
            select(Message.campaign_id, MessageCost.currency, func.count(), func.sum(MessageCost.amount_minor))
            .join(MessageCost, MessageCost.message_id == Message.id)
            .where(Message.campaign_id.in_(campaign_ids))
            .group_by(Message.campaign_id, MessageCost.currency)):
        if n > found.get(cid, (0,))[0]:
            found[cid] = (n, int(total), currency)
    return found


@dataclass(frozen=True)
class DaySends:
    day: date  # in the org's time zone
    sent: int  # reached the provider that day (sent or delivered)
    delivered: int
    failed: int
    unknown: int


def sends_by_day(session: Session, actor: Actor, org_id: int, campaign_id: int) -> list[DaySends]:
    """A campaign's messages per day on the org's clock, oldest first: those that reached the
    provider (and of them those delivered) on the day they went out, failed and unknown on the
    day they were settled. Days with nothing are left out; messages still queued count nowhere."""
    org = require(session, actor, org_id, "campaigns.read")
    _load(session, org_id, campaign_id)
    tz = ZoneInfo(org.timezone)
    days: dict[date, Counter[str]] = {}
    for status, sent_at, updated_at in session.execute(
            select(Message.status, Message.sent_at, Message.updated_at)
            .where(Message.campaign_id == campaign_id,
                   Message.status.in_(("sent", "delivered", "unknown") + FAILED))):
        when = sent_at if status in ("sent", "delivered") and sent_at is not None else updated_at
        n = days.setdefault(when.astimezone(tz).date(), Counter())
        if status in ("sent", "delivered"):
            n["sent"] += 1
            n["delivered"] += status == "delivered"
        else:
            n["unknown" if status == "unknown" else "failed"] += 1
    return [DaySends(d, n["sent"], n["delivered"], n["failed"], n["unknown"]) for d, n in sorted(days.items())]


@dataclass(frozen=True)
class VendorEngagement:
    vendor_id: int
    business_name: str
    district: str
    campaigns: int  # campaigns that wrote to the vendor
    received: int   # messages that reached the provider (sent or delivered)
    delivered: int
    responses: int  # replies to those campaigns from the address they wrote to
    response_rate: float  # responses per message received
    last_response_at: datetime | None


def vendor_engagement(session: Session, actor: Actor, org_id: int, *, after_id: int | None = None,
                      limit: int = 100, start: datetime | None = None,
                      end: datetime | None = None) -> list[VendorEngagement]:
    """Each vendor's engagement across the campaigns created in [start, end), a page of
    ``limit`` vendors in id order after ``after_id`` (every vendor, those never written to too)."""
    from db.models_vendors import Vendor

    require(session, actor, org_id, "campaigns.read")
    query = (select(Vendor.id, Vendor.business_name, Vendor.district, Vendor.phone, Vendor.whatsapp, Vendor.email)
             .where(Vendor.org_id == org_id))
    if after_id is not None:
        query = query.where(Vendor.id > after_id)
    vendors = session.execute(query.order_by(Vendor.id).limit(limit)).all()
    if not vendors:
        return []
    # A campaign message names its vendor at the end of its key (campaign:<c>:run:<n>:vendor:<id>);
    # the page's current addresses narrow the scan to its vendors' messages, so a message to an
    # address the vendor has since changed counts no more (nor do replies from it).
    wanted = {f"vendor:{v.id}": v.id for v in vendors}
    addresses = {a.lower() for v in vendors for a in (v.phone, v.whatsapp, v.email) if a}
    messages = (select(Message.idempotency_key, Message.campaign_id, Message.to_address, Message.status)
                .join(Campaign, Campaign.id == Message.campaign_id)
                .where(Message.org_id == org_id, Campaign.org_id == org_id, Message.to_address.in_(addresses),
                       Message.idempotency_key.like("campaign:%:vendor:%")))
    responses = (select(CampaignResponse.campaign_id, CampaignResponse.phone, func.count(),
                        func.max(CampaignResponse.received_at))
                 .join(Campaign, Campaign.id == CampaignResponse.campaign_id)
                 .where(CampaignResponse.org_id == org_id))
    for bound in ([Campaign.created_at >= start] if start is not None else []) + \
            ([Campaign.created_at < end] if end is not None else []):
        messages, responses = messages.where(bound), responses.where(bound)
    tally: dict[int, Counter[str]] = {v.id: Counter() for v in vendors}
    written: dict[int, set[tuple[int, str]]] = {v.id: set() for v in vendors}
    for key, campaign_id, address, status in session.execute(messages):
        vendor_id = wanted.get(":".join(key.rsplit(":", 2)[1:]))
        if vendor_id is None:
            continue
        written[vendor_id].add((campaign_id, address))
        tally[vendor_id]["received"] += status in ("sent", "delivered")
        tally[vendor_id]["delivered"] += status == "delivered"
    replies: dict[tuple[int, str], tuple[int, datetime]] = {}
    addresses = {address for pairs in written.values() for _, address in pairs}
    if addresses:
        for campaign_id, address, n, last in session.execute(
                responses.where(CampaignResponse.phone.in_(addresses))
                .group_by(CampaignResponse.campaign_id, CampaignResponse.phone)):
            replies[(campaign_id, address)] = (n, last)
    rows = []
    for v in vendors:
        got = [replies[pair] for pair in written[v.id] if pair in replies]
        answered = sum(n for n, _ in got)
        received = tally[v.id]["received"]
        rows.append(VendorEngagement(
            v.id, v.business_name, v.district, len({c for c, _ in written[v.id]}), received,
            tally[v.id]["delivered"], answered, round(answered / received, 4) if received else 0.0,
            max((last for _, last in got), default=None)))
    return rows


def sends_over_time(session: Session, actor: Actor, org_id: int, campaign_id: int, *,
                    buckets: int = 30) -> list[int]:
    """How many of the campaign's messages went out in each of ``buckets`` equal slices
    of its sending time (oldest first): the console's sparkline."""
    require(session, actor, org_id, "campaigns.read")
    _load(session, org_id, campaign_id)
    times = session.scalars(select(Message.sent_at).where(Message.campaign_id == campaign_id,
                                                          Message.sent_at.is_not(None))).all()
    if not times:
        return [0] * buckets
    first, last = min(times), max(times)
    width = max((last - first) / buckets, timedelta(microseconds=1))
    series = [0] * buckets
    for t in times:
        series[min(buckets - 1, int((t - first) / width))] += 1
    return series


@dataclass(frozen=True)
class PlaceReach:
    place: str
    recipients: int  # messages written to vendors of this place
    reached: int     # … that reached the provider (sent or delivered)
    responses: int


def reach_by_place(session: Session, actor: Actor, org_id: int, *, by: str = "district",
                   start: datetime | None = None, end: datetime | None = None) -> list[PlaceReach]:
    """Vendor campaigns' reach and responses per district (or state), most reached first.

    A message names its vendor in its key (``…:vendor:<id>``); messages to contacts count nowhere here.
    """
    from core.vendors import get_vendor

    if by not in ("district", "state"):
        raise InvalidInput("Reach is counted by district or by state.")
    require(session, actor, org_id, "campaigns.read")
    query = (select(Message.idempotency_key, Message.status, Message.to_address, Message.campaign_id)
             .join(Campaign, Campaign.id == Message.campaign_id)
             .where(Campaign.org_id == org_id, Message.idempotency_key.like("campaign:%:vendor:%")))
    if start is not None:
        query = query.where(Campaign.created_at >= start)
    if end is not None:
        query = query.where(Campaign.created_at < end)
    # Each response counts once, for the place of the vendor its campaign wrote to at that phone.
    responses = Counter((c, p) for c, p in session.execute(
        select(CampaignResponse.campaign_id, CampaignResponse.phone).where(CampaignResponse.org_id == org_id)))
    places: dict[int, str] = {}
    totals: dict[str, list[int]] = {}
    for key, status, address, campaign_id in session.execute(query):
        vendor_id = int(key.rsplit(":", 1)[1])
        if vendor_id not in places:
            try:
                places[vendor_id] = getattr(get_vendor(session, actor, org_id, vendor_id), by) or "(none)"
            except NotFound:
                places[vendor_id] = "(removed)"
        row = totals.setdefault(places[vendor_id], [0, 0, 0])
        row[0] += 1
        row[1] += status in ("sent", "delivered")
        row[2] += responses.pop((campaign_id, address), 0)
    return sorted((PlaceReach(p, *v) for p, v in totals.items()), key=lambda r: (-r.reached, r.place))
