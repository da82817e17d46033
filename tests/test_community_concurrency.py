"""Registrations and primary profiles under concurrency, with real threads each on
its own connection. On PostgreSQL the event row lock and the partial unique
index are what hold; on SQLite the one-writer rule gives the same result."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from core.community import accounts, events
from db.models_community import CommunityEvent, CommunityProfile, CommunityRegistration
from tests.community_support import ACTOR, NOW, make_event, make_members
from tests.test_chama_concurrency import race


@pytest.fixture
def community(committed_db, make_org):
    with committed_db.session() as s:
        return make_org(s, "community", country="KE")


def test_fifty_people_for_twenty_places(committed_db, community, backend):
    with committed_db.session() as s:
        people = make_members(s, community.id, 50)
        event = make_event(s, community.id, capacity=20)
    calls = [lambda s, p=p: events.register(s, ACTOR, community.id, event.id, p.id, source="sms", now=NOW)
             for p in people]
    results, refused = race(committed_db, calls, workers=25 if backend == "postgresql" else 10)
    assert refused == []
    assert Counter(r.status for r in results) == {"registered": 20, "waitlisted": 30}
    with committed_db.session() as s:
        rows = Counter(s.scalars(select(CommunityRegistration.status)))
        assert rows == {"registered": 20, "waitlisted": 30}
        assert s.get(CommunityEvent, event.id).registered_count == 20
        first_waiting = s.scalar(select(CommunityRegistration).where(CommunityRegistration.status == "waitlisted")
                                 .order_by(CommunityRegistration.id).limit(1))
        leaver = s.scalar(select(CommunityRegistration.account_id)
                          .where(CommunityRegistration.status == "registered").limit(1))
    # Ten cancellations at once promote the first ten waitlisted, in queue order.
    with committed_db.session() as s:
        leavers = list(s.scalars(select(CommunityRegistration.account_id)
                                 .where(CommunityRegistration.status == "registered").limit(10)))
        waiting = list(s.scalars(select(CommunityRegistration.account_id)
                                 .where(CommunityRegistration.status == "waitlisted")
                                 .order_by(CommunityRegistration.id)))
    assert leaver in leavers and first_waiting.account_id == waiting[0]
    _r, refused = race(committed_db, [lambda s, a=a: events.cancel_registration(s, ACTOR, community.id, event.id, a,
                                                                                now=NOW) for a in leavers], 10)
    assert refused == []
    with committed_db.session() as s:
        registered = set(s.scalars(select(CommunityRegistration.account_id)
                                   .where(CommunityRegistration.status == "registered")))
        assert len(registered) == 20 and set(waiting[:10]) <= registered and not set(waiting[10:]) & registered
        assert s.get(CommunityEvent, event.id).registered_count == 20


def test_the_counter_cannot_pass_capacity(committed_db, community):
    with committed_db.session() as s:
        event = make_event(s, community.id, capacity=1)
        with pytest.raises(IntegrityError):
            s.execute(update(CommunityEvent).where(CommunityEvent.id == event.id).values(registered_count=2))
            s.flush()


def test_one_primary_profile_under_concurrent_changes(committed_db, community):
    with committed_db.session() as s:
        (account,) = make_members(s, community.id, 1)
        extra = [accounts.add_profile(s, ACTOR, community.id, account.id, type="mentor", display_name=f"Face {i}")
                 for i in range(8)]
    calls = [lambda s, p=p: accounts.set_primary(s, ACTOR, community.id, p.id) for p in extra] * 3
    results, refused = race(committed_db, calls, workers=12)
    assert len(results) + len(refused) == 24 and all("primary" in str(e) for e in refused)
    with committed_db.session() as s:
        primaries = s.scalar(select(func.count()).select_from(CommunityProfile).where(
            CommunityProfile.account_id == account.id, CommunityProfile.is_primary))
        assert primaries == 1


def test_writers_that_skip_the_lock_are_refused_by_the_index(committed_db, community, backend):
    """Two sessions each flip a different profile to primary without the account lock: one is refused."""
    if backend != "postgresql":
        pytest.skip("SQLite lets one writer in at a time; there is no interleaving to refuse")
    with committed_db.session() as s:
        (account,) = make_members(s, community.id, 1)
        a = accounts.add_profile(s, ACTOR, community.id, account.id, type="mentor", display_name="A")
        b = accounts.add_profile(s, ACTOR, community.id, account.id, type="mentor", display_name="B")
        s.execute(update(CommunityProfile).where(CommunityProfile.account_id == account.id)
                  .values(is_primary=False))
        s.commit()
    first, second = committed_db.session(), committed_db.session()
    try:
        first.execute(update(CommunityProfile).where(CommunityProfile.id == a.id).values(is_primary=True))
        done = threading.Event()
        outcome = []

        def other():
            try:
                second.execute(update(CommunityProfile).where(CommunityProfile.id == b.id).values(is_primary=True))
                second.commit()
                outcome.append("committed")
            except IntegrityError:
                second.rollback()
                outcome.append("refused")
            done.set()

        thread = threading.Thread(target=other)
        thread.start()
        first.commit()
        thread.join(10)
        assert outcome == ["refused"]
    finally:
        first.close()
        second.close()
