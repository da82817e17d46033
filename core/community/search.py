"""Staff search across profiles, events, posts and listings, paged.

Each kind matches its lower-cased ``search_text`` (``LIKE '%term%'``, which
the trigram indexes serve on PostgreSQL), newest first, paged by id: pass
the last hit's id of a kind as ``before_id`` for the next page of that kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import Actor
from core.community.base import community_org
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


def search(session: Session, actor: Actor, org_id: int, text: str, *, kind: str = "profile",
           before_id: int | None = None, limit: int = 25) -> list[Hit]:
    """One page of one kind's matches, newest first."""
    community_org(session, actor, org_id, "community.read")
    term = text.strip().lower()
    if len(term) < 2:
        raise InvalidInput("Type at least two letters to search.")
    if kind not in KINDS:
        raise InvalidInput(f"Search {', '.join(KINDS)}.")
    pattern = f"%{_escape(term)}%"
    if kind == "profile":
        P, A = CommunityProfile, CommunityAccount
        query = (select(P.id, P.display_name, P.type, P.username, A.phone, A.email)
                 .join(A, A.id == P.account_id))
        model = P
    elif kind == "event":
        model = CommunityEvent
        query = select(model.id, model.title, model.starts_at, model.venue)
    elif kind == "post":
        model = CommunityPost
        query = select(model.id, model.title, model.body, model.hidden)
    else:
        model = CommunityListing
        query = select(model.id, model.title, model.kind, model.status)
    query = query.where(model.org_id == org_id, model.search_text.like(pattern, escape="\\"))
    if before_id is not None:
        query = query.where(model.id < before_id)
    hits = []
    for row in session.execute(query.order_by(model.id.desc()).limit(limit)):
        if kind == "profile":
            hits.append(Hit(kind, row[0], row[1], f"{row[2]} @{row[3]} {row[4] or row[5] or ''}".strip()))
        elif kind == "event":
            hits.append(Hit(kind, row[0], row[1], f"{row[2]:%Y-%m-%d %H:%M} {row[3]}"))
        elif kind == "post":
            hits.append(Hit(kind, row[0], row[1] or row[2][:60], "hidden" if row[3] else ""))
        else:
            hits.append(Hit(kind, row[0], row[1], f"{row[2]} {row[3]}"))
    return hits


def search_all(session: Session, actor: Actor, org_id: int, text: str, *, limit: int = 10) -> dict[str, list[Hit]]:
    """The first page of every kind."""
    return {kind: search(session, actor, org_id, text, kind=kind, limit=limit) for kind in KINDS}
