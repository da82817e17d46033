"""Staff search across profiles, events, posts and listings, paged.

Times are shown on the community's clock, as everywhere else. Each kind
matches its lower-cased ``search_text`` (``LIKE '%term%'``, which
the trigram indexes serve on PostgreSQL), newest first, paged by id: pass
the last hit's id of a kind as ``before_id`` for the next page of that kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.community.base import community_org, when
from core.errors import InvalidInput
from db.models_community import CommunityAccount, CommunityEvent, CommunityListing, CommunityPost, CommunityProfile

KINDS = ("profile", "event", "post", "listing")


@dataclass(frozen=True)
class Hit:
    kind: str
    id: int
    title: str
    detail: str


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _page(query, model, org_id: int, pattern: str, before_id: int | None, limit: int):
    query = query.where(model.org_id == org_id, model.search_text.like(pattern, escape="\\"))
    if before_id is not None:
        query = query.where(model.id < before_id)
    return query.order_by(model.id.desc()).limit(limit)


def search(session: Session, actor: Actor, org_id: int, text: str, *, kind: str = "profile",
           before_id: int | None = None, limit: int = 25) -> list[Hit]:
    """One page of one kind's matches, newest first."""
    org = community_org(session, actor, org_id, "community.read")
    term = text.strip().lower()
    if len(term) < 2:
        raise InvalidInput("Type at least two letters to search.")
    if kind not in KINDS:
        raise InvalidInput(f"Search {', '.join(KINDS)}.")
    pattern = f"%{_escape(term)}%"
    if kind == "profile":
        # The page of profiles first, then their accounts: joining before the LIMIT
        # would fetch an account for every match of a common name.
        P, A = CommunityProfile, CommunityAccount
        page = _page(select(P.id, P.display_name, P.type, P.username, P.account_id), P, org_id, pattern,
                     before_id, limit).subquery()
        query = (select(page.c.id, page.c.display_name, page.c.type, page.c.username, A.phone, A.email)
                 .join(A, A.id == page.c.account_id).order_by(page.c.id.desc()))
    elif kind == "event":
        E = CommunityEvent
        query = _page(select(E.id, E.title, E.starts_at, E.venue), E, org_id, pattern, before_id, limit)
    elif kind == "post":
        T = CommunityPost
        query = _page(select(T.id, T.title, T.body, T.hidden), T, org_id, pattern, before_id, limit)
    else:
        L = CommunityListing
        query = _page(select(L.id, L.title, L.kind, L.status), L, org_id, pattern, before_id, limit)
    hits = []
    for row in session.execute(query):
        if kind == "profile":
            hits.append(Hit(kind, row[0], row[1], f"{row[2]} @{row[3]} {row[4] or row[5] or ''}".strip()))
        elif kind == "event":
            hits.append(Hit(kind, row[0], row[1], f"{when(org, row[2], '%Y-%m-%d %H:%M')} {row[3]}"))
        elif kind == "post":
            hits.append(Hit(kind, row[0], row[1] or row[2][:60], "hidden" if row[3] else ""))
        else:
            hits.append(Hit(kind, row[0], row[1], f"{row[2]} {row[3]}"))
    return hits


def search_all(session: Session, actor: Actor, org_id: int, text: str, *, limit: int = 10) -> dict[str, list[Hit]]:
    """The first page of every kind."""
    return {kind: search(session, actor, org_id, text, kind=kind, limit=limit) for kind in KINDS}
