"""The migration from the old platform's export (``users``, ``posts``, ``connections``).

Each run is a batch. For every legacy user the batch keeps a record: the old
id, the new account, a status (``created``, ``existing`` when an earlier
batch already brought that user over, ``skipped`` with the reason) and the
ids of every row it created for them, so :func:`rollback_batch` removes
exactly what that batch created and nothing else. Re-running the same file
creates nothing: users, posts (``legacy_id``) and connections (the pair) that
exist are counted, not copied. A dry run does all the work and rolls it back.

Old profile labels map onto profile types case-insensitively (``Student`` →
``academic_student``, ``Institution`` → ``academic_institution``,
``Organisation`` → ``organization`` …); a label not in :data:`LABELS` is
reported and mapped to :data:`DEFAULT_TYPE` (``professional``). Reported, not
fatal: duplicate old ids (the first wins), missing emails (the user comes over
by phone; with neither, skipped), unusable phones (dropped), self-connections,
repeated connections and connections or posts of unknown users.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.community.accounts import REMOVED_MEMBER
from core.community.base import clock, community_org, owned, searchable, slug_of
from core.errors import Conflict, InvalidInput
from core.phones import normalize_phone
from db.models_community import (
    CommunityAccount,
    CommunityBookmark,
    CommunityComment,
    CommunityConnection,
    CommunityEvent,
    CommunityImportBatch,
    CommunityListing,
    CommunityMigrationRecord,
    CommunityNotification,
    CommunityOtp,
    CommunityPost,
    CommunityProfile,
    CommunityRegistration,
    CommunityReport,
)

LABELS = {
    "innovator": "innovator", "mentor": "mentor", "investor": "investor",
    "student": "academic_student", "academic_student": "academic_student",
    "institution": "academic_institution", "academic_institution": "academic_institution",
    "organisation": "organization", "organization": "organization", "professional": "professional",
}
DEFAULT_TYPE = "professional"
CONNECTION_STATUSES = {"pending", "accepted", "rejected", "blocked"}
CHUNK = 500


@dataclass
class MigrationReport:
    batch_id: int | None
    dry_run: bool
    users_read: int = 0
    accounts_created: int = 0
    users_already_migrated: int = 0
    users_skipped: int = 0
    duplicate_ids: int = 0
    missing_emails: int = 0
    invalid_phones: int = 0
    unknown_labels: dict[str, int] = field(default_factory=dict)
    posts_read: int = 0
    posts_created: int = 0
    posts_existing: int = 0
    posts_skipped: int = 0
    connections_read: int = 0
    connections_created: int = 0
    connections_existing: int = 0
    self_connections: int = 0
    duplicate_connections: int = 0
    connections_skipped: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def adds_up(self) -> bool:
        return (self.users_read == self.accounts_created + self.users_already_migrated + self.users_skipped
                + self.duplicate_ids
                and self.posts_read == self.posts_created + self.posts_existing + self.posts_skipped
                and self.connections_read == self.connections_created + self.connections_existing
                + self.self_connections + self.duplicate_connections + self.connections_skipped)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "adds_up": self.adds_up}

    @property
    def created_anything(self) -> bool:
        return bool(self.accounts_created or self.posts_created or self.connections_created)

    def line(self) -> str:
        if self.dry_run:
            head = "Dry run: would create"
        elif self.batch_id is None:
            head = "Nothing new, so no batch was recorded: created"
        else:
            head = f"Batch {self.batch_id}: created"
        labels = ", ".join(f"{label} ×{n}" for label, n in sorted(self.unknown_labels.items()))
        return (f"{head} {self.accounts_created} accounts, {self.posts_created} posts, "
                f"{self.connections_created} connections; {self.users_already_migrated} users already migrated, "
                f"{self.users_skipped} skipped, {self.duplicate_ids} duplicate ids, "
                f"{self.self_connections} self-connections"
                + (f"; unknown profile labels {labels} became {DEFAULT_TYPE}" if labels else "")
                + f"; {len(self.problems)} problems reported.")


@dataclass(frozen=True)
class BatchView:
    id: int
    file: str
    status: str
    actor: str
    created_at: datetime
    rolled_back_at: datetime | None
    report: dict[str, Any]


def read_export(path: Path) -> dict[str, list[dict[str, Any]]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path} could not be read as the old platform's JSON export: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("users"), list):
        raise InvalidInput(f"{path} has no \"users\" list; is it the old platform's export?")
    return {key: [r for r in data.get(key) or [] if isinstance(r, dict)] for key in ("users", "posts", "connections")}


def _when(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class _Run:
    def __init__(self, session: Session, org, batch: CommunityImportBatch | None, report: MigrationReport,
                 now: datetime) -> None:
        self.session, self.org, self.batch, self.report, self.now = session, org, batch, report, now
        self.records: dict[str, dict[str, Any]] = {}
        self.profiles: dict[str, int] = {}  # legacy id -> primary profile id
        live = session.execute(
            select(CommunityMigrationRecord.legacy_id, CommunityMigrationRecord.account_id,
                   CommunityMigrationRecord.created)
            .join(CommunityImportBatch, CommunityImportBatch.id == CommunityMigrationRecord.batch_id)
            .where(CommunityMigrationRecord.org_id == org.id, CommunityMigrationRecord.status == "created",
                   CommunityImportBatch.status == "applied"))
        self.earlier = {legacy: (account_id, (created or {}).get("profiles", [None])[0])
                        for legacy, account_id, created in live}
        A = CommunityAccount
        taken = session.execute(select(A.email, A.phone).where(A.org_id == org.id)).all()
        self.emails = {e for e, _p in taken if e}
        self.phones = {p for _e, p in taken if p}
        self.usernames = set(session.scalars(select(CommunityProfile.username)
                                             .where(CommunityProfile.org_id == org.id)))

    def note(self, text: str) -> None:
        self.report.problems.append(text)

    def record(self, legacy_id: str, status: str, account_id: int | None = None,
               notes: list[str] | None = None) -> dict[str, Any]:
        rec = {"org_id": self.org.id, "batch_id": self.batch.id if self.batch else 0, "legacy_id": legacy_id,
               "account_id": account_id, "status": status,
               "created": {"accounts": [], "profiles": [], "posts": [], "connections": []}, "notes": notes or []}
        self.records[legacy_id] = rec
        return rec

    def username(self, name: str) -> str:
        base, n = slug_of(name), 2
        candidate = base
        while candidate in self.usernames:
            candidate, n = f"{base}-{n}", n + 1
        self.usernames.add(candidate)
        return candidate


def _prepare_user(run: _Run, user: dict[str, Any], seen: set[str]) -> dict[str, Any] | None:
    """The account and profile fields of a legacy user, or None (counted and reported)."""
    report = run.report
    legacy_id = str(user.get("id") or "").strip()
    if not legacy_id:
        report.users_skipped += 1
        run.note(f"a user with no id ({user.get('name') or 'no name'}) was skipped")
        return None
    if legacy_id in seen:
        report.duplicate_ids += 1
        run.note(f"user {legacy_id} appears more than once; the first was kept")
        return None
    seen.add(legacy_id)
    if legacy_id in run.earlier:
        report.users_already_migrated += 1
        account_id, profile_id = run.earlier[legacy_id]
        run.profiles[legacy_id] = profile_id
        run.record(legacy_id, "existing", account_id)
        return None
    notes: list[str] = []
    email = str(user.get("email") or "").strip().lower() or None
    if email is None:
        report.missing_emails += 1
        notes.append("no email address")
    elif "@" not in email:
        notes.append(f"unusable email {email!r}")
        email = None
    phone = None
    raw_phone = str(user.get("phone") or "").strip()
    if raw_phone:
        try:
            phone = normalize_phone(raw_phone, run.org.country)
        except InvalidInput:
            report.invalid_phones += 1
            notes.append(f"unusable phone {raw_phone!r} dropped")
    if email in run.emails:
        notes.append(f"email {email} already has an account here")
        email = None
    if phone in run.phones:
        notes.append(f"phone {phone} already has an account here")
        phone = None
    for text in notes:
        run.note(f"user {legacy_id}: {text}")
    if email is None and phone is None:
        report.users_skipped += 1
        run.note(f"user {legacy_id} was skipped: no email or phone to sign in with")
        run.record(legacy_id, "skipped", notes=notes + ["skipped: no email or phone"])
        return None
    label = str(user.get("type") or "").strip()
    profile_type = LABELS.get(label.lower())
    if profile_type is None:
        profile_type = DEFAULT_TYPE
        report.unknown_labels[label or "(none)"] = report.unknown_labels.get(label or "(none)", 0) + 1
        notes.append(f"unknown label {label!r} mapped to {DEFAULT_TYPE}")
    if email:
        run.emails.add(email)
    if phone:
        run.phones.add(phone)
    name = str(user.get("name") or "").strip() or (email or phone).split("@")[0]
    return {"legacy_id": legacy_id, "email": email, "phone": phone, "name": name, "type": profile_type,
            "bio": str(user.get("bio") or ""), "avatar": str(user.get("avatar") or ""),
            "created_at": _when(user.get("created_at")) or run.now, "notes": notes}


def _insert(session: Session, model, rows: list[dict[str, Any]]) -> list[int]:
    """Multi-row INSERTs; the new ids in the order of ``rows``."""
    if not rows:
        return []
    return list(session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), rows))


def _create_users(run: _Run, prepared: list[dict[str, Any]]) -> None:
    session, org = run.session, run.org
    for i in range(0, len(prepared), CHUNK):
        chunk = prepared[i:i + CHUNK]
        account_ids = _insert(session, CommunityAccount, [
            {"org_id": org.id, "email": u["email"], "phone": u["phone"], "migrated": True, "email_verified": False,
             "phone_verified": False, "created_at": u["created_at"]} for u in chunk])
        profiles = []
        for u, account_id in zip(chunk, account_ids):
            username = run.username(u["name"])
            profiles.append({"org_id": org.id, "account_id": account_id, "type": u["type"],
                             "display_name": u["name"], "username": username, "bio": u["bio"], "location": "",
                             "website": "", "avatar_file": u["avatar"], "verified": False, "is_primary": True,
                             "created_at": u["created_at"], "search_text": searchable(u["name"], username, u["bio"])})
        profile_ids = _insert(session, CommunityProfile, profiles)
        for u, account_id, profile_id in zip(chunk, account_ids, profile_ids):
            rec = run.record(u["legacy_id"], "created", account_id, u["notes"])
            rec["created"]["accounts"].append(account_id)
            rec["created"]["profiles"].append(profile_id)
            run.profiles[u["legacy_id"]] = profile_id
        run.report.accounts_created += len(chunk)


def _create_posts(run: _Run, posts: list[dict[str, Any]]) -> None:
    report, session = run.report, run.session
    existing = set(session.scalars(select(CommunityPost.legacy_id).where(
        CommunityPost.org_id == run.org.id, CommunityPost.legacy_id.is_not(None))))
    made: list[tuple[str, dict[str, Any]]] = []
    for post in posts:
        report.posts_read += 1
        legacy_id, author = str(post.get("id") or "").strip(), str(post.get("user_id") or "").strip()
        if legacy_id and legacy_id in existing:
            report.posts_existing += 1
            continue
        if not legacy_id or author not in run.profiles or not str(post.get("content") or "").strip():
            report.posts_skipped += 1
            run.note(f"post {legacy_id or '(no id)'} skipped: " + (
                "no id" if not legacy_id else "its author was not migrated" if author not in run.profiles
                else "no content"))
            continue
        existing.add(legacy_id)
        made.append((author, {
            "org_id": run.org.id, "author_profile_id": run.profiles[author], "legacy_id": legacy_id,
            "type": str(post.get("type") or "general")[:20], "title": str(post.get("title") or "")[:200],
            "body": str(post["content"]), "hidden": False, "created_at": _when(post.get("created_at")) or run.now,
            "search_text": searchable(post.get("title"), post.get("content"))}))
    for author, post_id in zip([a for a, _r in made], _insert(session, CommunityPost, [r for _a, r in made])):
        run.records[author]["created"]["posts"].append(post_id)
    report.posts_created += len(made)


def _create_connections(run: _Run, connections: list[dict[str, Any]]) -> None:
    report, session = run.report, run.session
    profile_ids = list(run.profiles.values())
    existing = set()
    for i in range(0, len(profile_ids), CHUNK):
        ids = profile_ids[i:i + CHUNK]
        existing |= set(session.execute(select(CommunityConnection.profile_low_id, CommunityConnection.profile_high_id)
                                        .where(CommunityConnection.profile_low_id.in_(ids))).all())
    seen: set[tuple[int, int]] = set()
    made: list[tuple[str, dict[str, Any]]] = []
    for connection in connections:
        report.connections_read += 1
        a, b = str(connection.get("from") or "").strip(), str(connection.get("to") or "").strip()
        if a and a == b:
            report.self_connections += 1
            run.note(f"connection {a} → {b} skipped: a user cannot connect to themselves")
            continue
        if a not in run.profiles or b not in run.profiles:
            report.connections_skipped += 1
            unknown = a if a not in run.profiles else b
            run.note(f"connection {a} → {b} skipped: user {unknown or '(none)'} was not migrated")
            continue
        low, high = sorted((run.profiles[a], run.profiles[b]))
        if (low, high) in seen:
            report.duplicate_connections += 1
            run.note(f"connection {a} → {b} appears more than once; the first was kept")
            continue
        seen.add((low, high))
        if (low, high) in existing:
            report.connections_existing += 1
            continue
        status = str(connection.get("status") or "pending").strip().lower()
        if status not in CONNECTION_STATUSES:
            run.note(f"connection {a} → {b}: unknown status {status!r} taken as pending")
            status = "pending"
        made.append((a, {"org_id": run.org.id, "requester_profile_id": run.profiles[a], "profile_low_id": low,
                         "profile_high_id": high, "status": status, "created_at": run.now}))
    for a, connection_id in zip([a for a, _r in made], _insert(session, CommunityConnection, [r for _a, r in made])):
        run.records[a]["created"]["connections"].append(connection_id)
    report.connections_created += len(made)


def import_export(session: Session, actor: Actor, org_id: int, data: dict[str, list[dict[str, Any]]], *,
                  file: str, dry_run: bool = False, now: datetime | None = None) -> MigrationReport:
    """Bring the old platform's users, posts and connections over as one batch."""
    org = community_org(session, actor, org_id, "community.import")
    now = clock(now)
    batch = None
    if not dry_run:
        batch = CommunityImportBatch(org_id=org_id, file=file[:300], actor=actor.label[:254], created_at=now)
        session.add(batch)
        session.flush()
    report = MigrationReport(batch.id if batch else None, dry_run)
    run = _Run(session, org, batch, report, now)
    seen: set[str] = set()
    prepared = []
    for user in data["users"]:
        report.users_read += 1
        fields = _prepare_user(run, user, seen)
        if fields is not None:
            prepared.append(fields)
    _create_users(run, prepared)
    _create_posts(run, data["posts"])
    _create_connections(run, data["connections"])
    if dry_run:
        session.rollback()
        return report
    if not report.created_anything:
        # A re-run that brought nothing over records no batch: an empty one would stand in front of the
        # batch that did the work and keep it from being rolled back.
        session.rollback()
        report.batch_id = None
        audit.record(session, actor, "community.import", "community_import_batch", None, org_id=org_id,
                     after={"file": file, "batch": None, **{k: v for k, v in report.as_dict().items()
                                                           if k not in ("problems", "batch_id")}})
        session.commit()
        return report
    records = list(run.records.values())
    for i in range(0, len(records), CHUNK):
        session.execute(insert(CommunityMigrationRecord), records[i:i + CHUNK])
    batch.report = report.as_dict()
    audit.record(session, actor, "community.import", "community_import_batch", batch.id, org_id=org_id,
                 after={"file": file, **{k: v for k, v in report.as_dict().items() if k != "problems"}})
    session.commit()
    return report


def list_batches(session: Session, actor: Actor, org_id: int, *, before_id: int | None = None,
                 limit: int = 50) -> list[BatchView]:
    community_org(session, actor, org_id, "community.read")
    B = CommunityImportBatch
    query = select(B).where(B.org_id == org_id)
    if before_id is not None:
        query = query.where(B.id < before_id)
    return [BatchView(b.id, b.file, b.status, b.actor, b.created_at, b.rolled_back_at, dict(b.report or {}))
            for b in session.scalars(query.order_by(B.id.desc()).limit(limit))]


@dataclass(frozen=True)
class Dependent:
    """A row someone built on a batch's rows after the batch: a rollback must not take it silently."""

    kind: str  # registration, post, comment, connection, listing, event, profile
    id: int
    person: str
    detail: str

    def line(self) -> str:
        return f"{self.kind} {self.id} ({self.person}): {self.detail}"


class RollbackRefused(Conflict):
    """The batch has rows others built on; ``dependents`` names them."""

    def __init__(self, message: str, dependents: list[Dependent]) -> None:
        super().__init__(message)
        self.dependents = dependents


@dataclass(frozen=True)
class RollbackResult:
    """Rows removed (the first group) and others' rows kept (re-homed to the "Removed member" or unlinked)."""

    batch_id: int
    accounts: int
    profiles: int
    posts: int
    connections: int
    notifications: int = 0
    bookmarks: int = 0
    reports: int = 0
    sign_in_codes: int = 0
    registrations_released: int = 0
    waitlist_promoted: int = 0
    registrations_unlinked: int = 0
    posts_rehomed: int = 0
    comments_rehomed: int = 0
    comments_unlinked: int = 0
    connections_rehomed: int = 0
    connections_removed_with_both_ends: int = 0
    listings_rehomed: int = 0
    events_unlinked: int = 0

    @property
    def kept(self) -> int:
        return (self.registrations_unlinked + self.posts_rehomed + self.comments_rehomed + self.comments_unlinked
                + self.connections_rehomed + self.listings_rehomed + self.events_unlinked)

    def line(self) -> str:
        removed = (f"removed {self.accounts} accounts, {self.profiles} profiles, {self.posts} posts, "
                   f"{self.connections} connections, {self.notifications} notifications, {self.bookmarks} "
                   f"bookmarks, {self.reports} reports, {self.sign_in_codes} sign-in codes")
        if not self.kept and not self.registrations_released:
            return f"Batch {self.batch_id} rolled back: {removed}."
        return (f"Batch {self.batch_id} rolled back: {removed}; kept what others built: "
                f"{self.registrations_released} upcoming registrations released ({self.waitlist_promoted} "
                f"promoted from waitlists), {self.registrations_unlinked} registrations kept without their "
                f"account, {self.posts_rehomed} posts and {self.comments_rehomed} comments now by "
                f"\u201c{REMOVED_MEMBER}\u201d, {self.comments_unlinked} comments kept without their post, "
                f"{self.connections_rehomed} connections now with \u201c{REMOVED_MEMBER}\u201d, "
                f"{self.listings_rehomed} listings now by \u201c{REMOVED_MEMBER}\u201d, "
                f"{self.events_unlinked} events without their organiser.")


def _chunks(ids) -> list[list[int]]:
    ids = sorted(set(ids))
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]


class _Batch:
    """What a batch made that still exists, and the names to tell people by."""

    def __init__(self, session: Session, org_id: int, batch_id: int) -> None:
        self.session, self.org_id = session, org_id
        made: dict[str, set[int]] = {"accounts": set(), "profiles": set(), "posts": set(), "connections": set()}
        for rec in session.scalars(select(CommunityMigrationRecord)
                                   .where(CommunityMigrationRecord.batch_id == batch_id)):
            for kind, values in (rec.created or {}).items():
                made.setdefault(kind, set()).update(values)
        self.accounts = set(self._existing(CommunityAccount, made["accounts"]))
        self.posts = set(self._existing(CommunityPost, made["posts"]))
        self.connections = set(self._existing(CommunityConnection, made["connections"]))
        P = CommunityProfile
        # Every face of a batch account goes with it, made by the batch or added since.
        self.profiles: dict[int, str] = {}
        for chunk in _chunks(self.accounts):
            self.profiles.update(session.execute(select(P.id, P.display_name).where(P.account_id.in_(chunk))).all())
        # A batch profile now on another account (the two were merged) is that account's.
        self.moved = [(pid, name) for chunk in _chunks(made["profiles"]) for pid, name in session.execute(
            select(P.id, P.display_name).where(P.id.in_(chunk), P.account_id.not_in(self.accounts or {0})))]

    def _existing(self, model, ids) -> list[int]:
        return [i for chunk in _chunks(ids) for i in self.session.scalars(
            select(model.id).where(model.org_id == self.org_id, model.id.in_(chunk)))]

    def each(self, ids, query):
        """Rows of ``query(chunk)`` over chunks of ``ids``."""
        return [row for chunk in _chunks(ids) for row in self.session.execute(query(chunk)).all()]


def _name_of_profile(session: Session, profile_id: int) -> str:
    return session.scalar(select(CommunityProfile.display_name).where(CommunityProfile.id == profile_id)) or "?"


def _dependents(session: Session, b: _Batch) -> list[Dependent]:
    R, T, C, K, L, E, P = (CommunityRegistration, CommunityPost, CommunityComment, CommunityConnection,
                           CommunityListing, CommunityEvent, CommunityProfile)
    found: list[Dependent] = []
    primary = {}
    for account_id, name in b.each(b.accounts, lambda ids: select(P.account_id, P.display_name)
                                   .where(P.account_id.in_(ids), P.is_primary)):
        primary[account_id] = name
    for rid, account_id, status, title in b.each(b.accounts, lambda ids: select(R.id, R.account_id, R.status, E.title)
                                                 .join(E, E.id == R.event_id).where(R.account_id.in_(ids))):
        found.append(Dependent("registration", rid, primary.get(account_id, "?"), f"{status} for {title}"))
    for pid, author in b.each(b.profiles, lambda ids: select(T.id, T.author_profile_id)
                              .where(T.author_profile_id.in_(ids))):
        if pid not in b.posts:
            found.append(Dependent("post", pid, b.profiles[author], "written after the migration"))
    for cid, author, post_id in b.each(b.profiles, lambda ids: select(C.id, C.author_profile_id, C.post_id)
                                       .where(C.author_profile_id.in_(ids))):
        found.append(Dependent("comment", cid, b.profiles[author], f"on post {post_id}"))
    for cid, author, post_id in b.each(b.posts, lambda ids: select(C.id, C.author_profile_id, C.post_id)
                                       .where(C.post_id.in_(ids))):
        if author not in b.profiles:
            found.append(Dependent("comment", cid, _name_of_profile(session, author),
                                   f"on migrated post {post_id}"))
    seen: set[int] = set()
    for column in (K.profile_low_id, K.profile_high_id):
        for kid, low, high in b.each(b.profiles, lambda ids: select(K.id, K.profile_low_id, K.profile_high_id)
                                     .where(column.in_(ids))):
            if kid in b.connections or kid in seen:
                continue
            seen.add(kid)
            mine, other = (low, high) if low in b.profiles else (high, low)
            found.append(Dependent("connection", kid, _name_of_profile(session, other),
                                   f"connected with {b.profiles[mine]}"))
    for lid, profile_id, title in b.each(b.profiles, lambda ids: select(L.id, L.profile_id, L.title)
                                         .where(L.profile_id.in_(ids))):
        found.append(Dependent("listing", lid, b.profiles[profile_id], f"lists {title}"))
    for eid, profile_id, title in b.each(b.profiles, lambda ids: select(E.id, E.organiser_profile_id, E.title)
                                         .where(E.organiser_profile_id.in_(ids))):
        found.append(Dependent("event", eid, b.profiles[profile_id], f"organiser of {title}"))
    for pid, name in b.moved:
        found.append(Dependent("profile", pid, name, "moved to another member's account (merged); it stays"))
    return found


def rollback_batch(session: Session, actor: Actor, org_id: int, batch_id: int, *, force: bool = False,
                   now: datetime | None = None) -> RollbackResult:
    """Remove exactly what the batch created; the batch stays, marked rolled back.

    What others built on its rows since (registrations, comments, connections,
    posts written after the migration, listings, merged profiles) makes it
    refuse, naming them, unless ``force``: then those rows are kept, re-homed to
    the community's "Removed member" or with their link to the removed row cut,
    places at upcoming events are released to the waitlists, and the result
    counts both what was removed and what was kept.
    """
    org = community_org(session, actor, org_id, "community.import")
    now = clock(now)
    batch = owned(session, CommunityImportBatch, org_id, batch_id, "import batch", lock=True)
    if batch.status != "applied":
        raise Conflict(f"Batch {batch_id} is already {batch.status.replace('_', ' ')}.")
    b = _Batch(session, org_id, batch_id)
    later = session.scalar(
        select(CommunityImportBatch.id).join(CommunityMigrationRecord,
                                             CommunityMigrationRecord.batch_id == CommunityImportBatch.id)
        .where(CommunityImportBatch.org_id == org_id, CommunityImportBatch.id > batch_id,
               CommunityImportBatch.status == "applied",
               CommunityMigrationRecord.account_id.in_(b.accounts or {0})).limit(1))
    if later is not None:
        raise Conflict(f"Batch {later} came after this one and builds on its members; roll back batch {later} first.")
    dependents = _dependents(session, b)
    if dependents and not force:
        shown = "; ".join(d.line() for d in dependents[:8])
        more = f" and {len(dependents) - 8} more" if len(dependents) > 8 else ""
        raise RollbackRefused(
            f"Batch {batch_id} cannot be rolled back as it is: others built on its rows since: {shown}{more}. "
            "Roll back with --force to keep their rows (re-homed to \u201cRemoved member\u201d or unlinked).",
            dependents)
    counts: Counter[str] = Counter()
    if dependents:
        _keep_others(session, org, b, now, counts)
    _remove(session, org_id, b, counts)
    session.execute(delete(CommunityMigrationRecord).where(CommunityMigrationRecord.batch_id == batch_id))
    batch.status, batch.rolled_back_at = "rolled_back", now
    result = RollbackResult(batch_id, **{f.name: counts[f.name] for f in fields(RollbackResult) if f.name != "batch_id"})
    audit.record(session, actor, "community.import.rollback", "community_import_batch", batch_id, org_id=org_id,
                 before={"status": "applied"},
                 after={**asdict(result), "forced": force, "dependents": [d.line() for d in dependents[:200]]})
    session.commit()
    return result


def _keep_others(session: Session, org, b: _Batch, now: datetime, counts: Counter[str]) -> None:
    """Re-home or unlink every row others built on the batch's rows, so removing the batch takes none of them."""
    from core.community.accounts import removed_member
    from core.community.events import release

    R, T, C, K, L, E = (CommunityRegistration, CommunityPost, CommunityComment, CommunityConnection,
                        CommunityListing, CommunityEvent)
    placeholder = removed_member(session, org.id).id
    # Registrations: places at events still to come go back to the waitlist; the rest stay as history.
    for rid, event_id in b.each(b.accounts, lambda ids: select(R.id, R.event_id).where(
            R.account_id.in_(ids), R.status.in_(("registered", "waitlisted")))):
        event = session.scalar(select(E).where(E.id == event_id).with_for_update())
        session.refresh(event)
        if event.status == "scheduled" and event.starts_at > now:
            registration = session.get(R, rid)
            counts["waitlist_promoted"] += len(release(session, org, event, registration, now))
            counts["registrations_released"] += 1
    for chunk in _chunks(b.accounts):
        counts["registrations_unlinked"] += session.execute(
            update(R).where(R.account_id.in_(chunk)).values(account_id=None)
            .execution_options(synchronize_session=False)).rowcount
    for chunk in _chunks(b.profiles):
        counts["posts_rehomed"] += session.execute(
            update(T).where(T.author_profile_id.in_(chunk), T.id.not_in(b.posts or {0}))
            .values(author_profile_id=placeholder).execution_options(synchronize_session=False)).rowcount
        counts["comments_rehomed"] += session.execute(
            update(C).where(C.author_profile_id.in_(chunk)).values(author_profile_id=placeholder)
            .execution_options(synchronize_session=False)).rowcount
        counts["listings_rehomed"] += session.execute(
            update(L).where(L.profile_id.in_(chunk)).values(profile_id=placeholder, status="inactive")
            .execution_options(synchronize_session=False)).rowcount
        counts["events_unlinked"] += session.execute(
            update(E).where(E.organiser_profile_id.in_(chunk)).values(organiser_profile_id=None)
            .execution_options(synchronize_session=False)).rowcount
    for chunk in _chunks(b.posts):
        counts["comments_unlinked"] += session.execute(
            update(C).where(C.post_id.in_(chunk)).values(post_id=None)
            .execution_options(synchronize_session=False)).rowcount
    # Connections made since: the removed end becomes the "Removed member" (one row per other person).
    taken = {(low, high) for low, high in session.execute(select(K.profile_low_id, K.profile_high_id).where(
        or_(K.profile_low_id == placeholder, K.profile_high_id == placeholder)))}
    for column in (K.profile_low_id, K.profile_high_id):
        for connection in [k for chunk in _chunks(b.profiles) for k in session.scalars(
                select(K).where(column.in_(chunk), K.id.not_in(b.connections or {0})))]:
            ends = [connection.profile_low_id, connection.profile_high_id]
            others = [p for p in ends if p not in b.profiles]
            if not others or (min(others[0], placeholder), max(others[0], placeholder)) in taken:
                # Between two removed people, or that person already keeps one with the "Removed member".
                session.delete(connection)
                counts["connections_removed_with_both_ends"] += 1
                continue
            low, high = sorted((others[0], placeholder))
            taken.add((low, high))
            connection.requester_profile_id = (others[0] if connection.requester_profile_id == others[0]
                                               else placeholder)
            connection.profile_low_id, connection.profile_high_id = low, high
            counts["connections_rehomed"] += 1
        session.flush()


def _remove(session: Session, org_id: int, b: _Batch, counts: Counter[str]) -> None:
    """Delete the batch's rows and what is the removed people's own, counting each kind."""
    K, T, P, A = CommunityConnection, CommunityPost, CommunityProfile, CommunityAccount
    N, BM, REP, OTP = CommunityNotification, CommunityBookmark, CommunityReport, CommunityOtp

    def gone(model, where) -> int:
        return session.execute(delete(model).where(where).execution_options(synchronize_session=False)).rowcount

    addresses = [a for row in b.each(b.accounts, lambda ids: select(A.email, A.phone).where(A.id.in_(ids)))
                 for a in row if a]
    for chunk in _chunks(b.connections):
        counts["connections"] += gone(K, K.id.in_(chunk))
    for chunk in _chunks(b.posts):
        counts["reports"] += gone(REP, REP.post_id.in_(chunk))
        counts["bookmarks"] += gone(BM, (BM.target_kind == "post") & BM.target_id.in_(chunk))
        counts["posts"] += gone(T, T.id.in_(chunk))
    for chunk in _chunks(b.profiles):
        counts["bookmarks"] += gone(BM, (BM.target_kind == "profile") & BM.target_id.in_(chunk))
        counts["profiles"] += gone(P, P.id.in_(chunk))
    for chunk in _chunks(b.accounts):
        counts["notifications"] += gone(N, N.account_id.in_(chunk))
        counts["bookmarks"] += gone(BM, BM.account_id.in_(chunk))
        counts["accounts"] += gone(A, A.id.in_(chunk))
    for i in range(0, len(addresses), CHUNK):
        counts["sign_in_codes"] += gone(OTP, (OTP.org_id == org_id) & OTP.address.in_(addresses[i:i + CHUNK]))
