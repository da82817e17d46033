"""Community reports: member growth, attendance and no-shows per event, most active members.

Each report is a :class:`Report` (a title, columns and rows of plain values)
so one writer serves the table, CSV, XLSX and JSON, and the console charts
the same numbers. Months and days are the community's (its time zone).

* growth: members who joined each month (migrated members count in the
  month the old platform says they joined) and the total at its end;
* attendance: per event that has ended (cancelled ones left out), the places
  taken, who came, the no-shows (registered and never checked in) and the
  no-show rate, with the waitlist left at the end;
* active: members ranked by what they did in the period: registrations,
  attendances, posts and comments (one point each, attendance two).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.community.base import clock, community_org
from core.errors import InvalidInput
from db.models_community import (
    CommunityAccount,
    CommunityComment,
    CommunityEvent,
    CommunityPost,
    CommunityProfile,
    CommunityRegistration,
)

NAMES = ("growth", "attendance", "active")


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]


def _month_start(moment: datetime, tz: ZoneInfo) -> datetime:
    local = moment.astimezone(tz)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def member_growth(session: Session, actor: Actor, org_id: int, *, months: int = 12,
                  now: datetime | None = None) -> Report:
    org = community_org(session, actor, org_id, "community.read")
    if not 1 <= months <= 120:
        raise InvalidInput("Show 1 to 120 months.")
    tz = ZoneInfo(org.timezone)
    starts = [_month_start(clock(now), tz)]
    for _ in range(months - 1):
        starts.insert(0, _month_start(starts[0] - timedelta(days=1), tz))
    A = CommunityAccount
    joined = list(session.scalars(select(A.created_at).where(A.org_id == org_id, A.status != "placeholder")))
    before = sum(1 for moment in joined if moment < starts[0])
    rows, total = [], before
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else None
        count = sum(1 for moment in joined if moment >= start and (end is None or moment < end))
        total += count
        rows.append([start.strftime("%Y-%m"), count, total])
    return Report("growth", f"Member growth, {org.name}", ["month", "joined", "members"], rows)


def event_attendance(session: Session, actor: Actor, org_id: int, *, since: datetime | None = None,
                     until: datetime | None = None, now: datetime | None = None) -> Report:
    org = community_org(session, actor, org_id, "community.read")
    tz = ZoneInfo(org.timezone)
    E, R = CommunityEvent, CommunityRegistration
    query = (select(E.id, E.title, E.starts_at, E.capacity,
                    func.sum(case((R.status.in_(("registered", "attended")), 1), else_=0)),
                    func.sum(case((R.status == "attended", 1), else_=0)),
                    func.sum(case((R.status == "waitlisted", 1), else_=0)))
             .outerjoin(R, R.event_id == E.id)
             .where(E.org_id == org_id, E.status == "scheduled", E.ends_at <= clock(now))
             .group_by(E.id, E.title, E.starts_at, E.capacity).order_by(E.starts_at))
    if since is not None:
        query = query.where(E.starts_at >= since)
    if until is not None:
        query = query.where(E.starts_at < until)
    rows = []
    for event_id, title, starts_at, capacity, places, came, waiting in session.execute(query):
        places, came, waiting = int(places or 0), int(came or 0), int(waiting or 0)
        no_shows = places - came
        rows.append([event_id, title, starts_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), capacity, places, came,
                     no_shows, round(no_shows / places, 3) if places else 0.0, waiting])
    return Report("attendance", f"Event attendance, {org.name}",
                  ["event", "title", "starts", "capacity", "registered", "attended", "no_shows", "no_show_rate",
                   "waitlisted"], rows)


def most_active(session: Session, actor: Actor, org_id: int, *, since: datetime | None = None,
                until: datetime | None = None, limit: int = 20) -> Report:
    org = community_org(session, actor, org_id, "community.read")
    A, P, R = CommunityAccount, CommunityProfile, CommunityRegistration
    scores: dict[int, list[int]] = {}  # account -> [registrations, attended, posts, comments]

    def within(column):
        conditions = []
        if since is not None:
            conditions.append(column >= since)
        if until is not None:
            conditions.append(column < until)
        return conditions

    for account_id, made, came in session.execute(
            select(R.account_id, func.count(), func.sum(case((R.status == "attended", 1), else_=0)))
            .where(R.org_id == org_id, R.account_id.is_not(None), *within(R.created_at)).group_by(R.account_id)):
        scores.setdefault(account_id, [0, 0, 0, 0])[:2] = [int(made), int(came or 0)]
    for slot, model in ((2, CommunityPost), (3, CommunityComment)):
        for account_id, n in session.execute(
                select(P.account_id, func.count()).join(model, model.author_profile_id == P.id)
                .where(model.org_id == org_id, *within(model.created_at)).group_by(P.account_id)):
            scores.setdefault(account_id, [0, 0, 0, 0])[slot] = int(n)
    names = dict(session.execute(select(A.id, P.display_name).join(P, (P.account_id == A.id) & P.is_primary)
                                 .where(A.org_id == org_id, A.status != "placeholder")).all())
    ranked = sorted(((sum(v) + v[1], account_id, v) for account_id, v in scores.items() if account_id in names),
                    key=lambda item: (-item[0], item[1]))[:limit]
    rows = [[account_id, names[account_id], *v, score] for score, account_id, v in ranked]
    return Report("active", f"Most active members, {org.name}",
                  ["member", "name", "registrations", "attended", "posts", "comments", "score"], rows)


def community_report(session: Session, actor: Actor, org_id: int, name: str, *, since: datetime | None = None,
                     until: datetime | None = None, months: int = 12, limit: int = 20,
                     now: datetime | None = None) -> Report:
    """One report by name: ``growth``, ``attendance`` or ``active``."""
    if name == "growth":
        return member_growth(session, actor, org_id, months=months, now=now)
    if name == "attendance":
        return event_attendance(session, actor, org_id, since=since, until=until, now=now)
    if name == "active":
        return most_active(session, actor, org_id, since=since, until=until, limit=limit)
    raise InvalidInput(f"Reports are {', '.join(NAMES)}.")
