"""What a community holds about a person, for :mod:`core.people`: their account and profiles, event
registrations, connections, notifications, posts and comments, reports they made, listings, bookmarks,
sign-in codes sent to them (addresses and times; codes are only hashes), the migration record, an
unfinished SMS sign-up and their conversation in the staff inbox.

Erasing deletes the account and all of it (a place they held at an event
that has not started goes to the first on its waitlist); events they
organised stay, without them as organiser.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.community.events import fill_places
from core.people import Erasure, Person, Piece, Section, ids, register, remove, rows
from db.models import Org
from db.models_community import (
    CommunityAccount,
    CommunityBookmark,
    CommunityComment,
    CommunityConnection,
    CommunityEvent,
    CommunityListing,
    CommunityMigrationRecord,
    CommunityNotification,
    CommunityOtp,
    CommunityPost,
    CommunityProfile,
    CommunityRegistration,
    CommunityReport,
    CommunitySignup,
    CommunityThread,
    CommunityThreadMessage,
)
from db.types import utcnow

COUNTED = ("registered", "attended")


def _accounts(session: Session, person: Person) -> list[int]:
    match = []
    if person.phone:
        match.append(CommunityAccount.phone == person.phone)
    if person.email:
        match.append(CommunityAccount.email == person.email)
    return ids(session, CommunityAccount.id, CommunityAccount.org_id == person.org.id, or_(*match))


def _threads(session: Session, person: Person, accounts: list[int]) -> list[int]:
    match = [CommunityThread.account_id.in_(accounts)]
    if person.phone:
        match.append(CommunityThread.phone == person.phone)
    return ids(session, CommunityThread.id, CommunityThread.org_id == person.org.id, or_(*match))


def _signups(person: Person) -> list:
    return [CommunitySignup.org_id == person.org.id, CommunitySignup.phone == (person.phone or "")]


def export(session: Session, person: Person) -> Section:
    accounts = _accounts(session, person)
    profiles = ids(session, CommunityProfile.id, CommunityProfile.account_id.in_(accounts))
    threads = _threads(session, person, accounts)
    section = Section({
        "accounts": rows(session, CommunityAccount, CommunityAccount.id.in_(accounts)),
        "profiles": rows(session, CommunityProfile, CommunityProfile.id.in_(profiles)),
        "registrations": rows(session, CommunityRegistration, CommunityRegistration.account_id.in_(accounts)),
        "connections": rows(session, CommunityConnection, or_(CommunityConnection.profile_low_id.in_(profiles),
                                                              CommunityConnection.profile_high_id.in_(profiles))),
        "notifications": rows(session, CommunityNotification, CommunityNotification.account_id.in_(accounts)),
        "posts": rows(session, CommunityPost, CommunityPost.author_profile_id.in_(profiles)),
        "comments": rows(session, CommunityComment, CommunityComment.author_profile_id.in_(profiles)),
        "reports_made": rows(session, CommunityReport, CommunityReport.reporter_account_id.in_(accounts)),
        "listings": rows(session, CommunityListing, CommunityListing.profile_id.in_(profiles)),
        "bookmarks": rows(session, CommunityBookmark, CommunityBookmark.account_id.in_(accounts)),
        "sign_in_codes": rows(session, CommunityOtp, CommunityOtp.org_id == person.org.id,
                              CommunityOtp.address.in_(person.addresses), leave_out=("salt", "code_hash")),
        "migration_records": rows(session, CommunityMigrationRecord,
                                  CommunityMigrationRecord.account_id.in_(accounts)),
        "sms_sign_up": rows(session, CommunitySignup, *_signups(person)),
        "inbox_threads": rows(session, CommunityThread, CommunityThread.id.in_(threads)),
        "inbox_messages": rows(session, CommunityThreadMessage, CommunityThreadMessage.thread_id.in_(threads)),
    })
    section.about = [("community_account", i) for i in accounts] + [("community_profile", i) for i in profiles]
    section.about += [("community_registration", r["id"]) for r in section.rows["registrations"]]
    return section


def erase(session: Session, person: Person, erasure: Erasure) -> None:
    accounts = _accounts(session, person)
    threads = _threads(session, person, accounts)
    org = session.get(Org, person.org.id)
    now = utcnow()
    places = session.execute(select(CommunityEvent, CommunityRegistration.id)
                             .join(CommunityRegistration, CommunityRegistration.event_id == CommunityEvent.id)
                             .where(CommunityRegistration.account_id.in_(accounts),
                                    CommunityRegistration.status.in_(COUNTED)).with_for_update()).all()
    remove(session, erasure, "community registrations", CommunityRegistration,
           CommunityRegistration.account_id.in_(accounts))
    for event, _registration in places:
        event.registered_count -= 1
        session.flush()
        fill_places(session, org, event, now)
    remove(session, erasure, "community sign-in codes", CommunityOtp, CommunityOtp.org_id == person.org.id,
           CommunityOtp.address.in_(person.addresses))
    profiles = ids(session, CommunityProfile.id, CommunityProfile.account_id.in_(accounts))
    for what, model, column in (("community posts", CommunityPost, CommunityPost.author_profile_id),
                                ("community comments", CommunityComment, CommunityComment.author_profile_id),
                                ("community listings", CommunityListing, CommunityListing.profile_id)):
        remove(session, erasure, what, model, column.in_(profiles))
    remove(session, erasure, "community connections", CommunityConnection,
           or_(CommunityConnection.profile_low_id.in_(profiles), CommunityConnection.profile_high_id.in_(profiles),
               CommunityConnection.requester_profile_id.in_(profiles)))
    remove(session, erasure, "community migration records", CommunityMigrationRecord,
           CommunityMigrationRecord.account_id.in_(accounts))
    for what, model, column in (("community notifications", CommunityNotification, CommunityNotification.account_id),
                                ("community bookmarks", CommunityBookmark, CommunityBookmark.account_id),
                                ("community profiles", CommunityProfile, CommunityProfile.account_id)):
        remove(session, erasure, what, model, column.in_(accounts))
    remove(session, erasure, "community inbox messages", CommunityThreadMessage,
           CommunityThreadMessage.thread_id.in_(threads))
    remove(session, erasure, "community inbox threads", CommunityThread, CommunityThread.id.in_(threads))
    remove(session, erasure, "community SMS sign-ups", CommunitySignup, *_signups(person))
    remove(session, erasure, "community accounts", CommunityAccount, CommunityAccount.id.in_(accounts))


TABLES = (
    "community_accounts",
    "community_profiles",
    "community_registrations",
    "community_connections",
    "community_notifications",
    "community_posts",
    "community_comments",
    "community_reports",
    "community_listings",
    "community_bookmarks",
    "community_otps",
    "community_migration_records",
    "community_signups",
    "community_threads",
    "community_thread_messages",
)

register(Piece("core.community", export, erase, covers=TABLES))
