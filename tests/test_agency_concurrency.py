"""Unlocks and placements under concurrency, with real threads each on its own connection.

On PostgreSQL this proves the employer row lock, the conditional credit
decrement and the partial unique index; on SQLite the one-writer rule gives
the same answer.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.agency import commerce, placements
from db.models_agency import AgencyPlacement, AgencyPurchase, AgencyUnlock
from tests.agency_support import ACTOR, employer, with_credits, worker
from tests.test_chama_concurrency import race


@pytest.fixture
def market(committed_db, make_org):
    with committed_db.session() as s:
        org = make_org(s, "agency")
        w1, w2 = worker(s, org.id, 1), worker(s, org.id, 2)
        e1, e2 = employer(s, org.id, 1), employer(s, org.id, 2)
        purchase = with_credits(s, org.id, e1.id, contacts=3)
        return org, w1, w2, e1, e2, purchase


def test_two_concurrent_unlocks_of_one_worker_by_one_employer_cost_one_credit(committed_db, market):
    org, w1, _, e1, _, purchase = market
    unlock = lambda s: commerce.unlock_contact(s, ACTOR, org.id, employer_id=e1.id, worker_id=w1.id)  # noqa: E731
    for _ in range(3):  # several rounds: the race is real only if the threads overlap
        results, refused = race(committed_db, [unlock, unlock], workers=2)
        assert refused == [] and len(results) == 2
        assert len({r.unlock_id for r in results}) == 1
    with committed_db.session() as s:
        assert s.scalar(select(AgencyPurchase.credits_left).where(AgencyPurchase.id == purchase)) == 2
        assert s.scalar(select(func.count()).select_from(AgencyUnlock)) == 1


def test_many_unlocks_at_once_never_spend_more_credits_than_bought(committed_db, market):
    org, w1, w2, e1, _, purchase = market
    with committed_db.session() as s:
        extra = [worker(s, org.id, i) for i in range(3, 7)]
    calls = [(lambda wid: (lambda s: commerce.unlock_contact(s, ACTOR, org.id, employer_id=e1.id, worker_id=wid)))(w)
             for w in [w1.id, w2.id, *[x.id for x in extra]] * 2]
    results, refused = race(committed_db, calls, workers=6)
    assert {type(e) for e in refused} <= {commerce.NoCredits}
    with committed_db.session() as s:
        unlocked = s.scalar(select(func.count()).select_from(AgencyUnlock))
        left = s.scalar(select(AgencyPurchase.credits_left).where(AgencyPurchase.id == purchase))
    assert (unlocked, left) == (3, 0)
    assert sum(r.charged for r in results) == 3


def test_two_agents_placing_one_worker_at_once_one_wins(committed_db, market):
    org, w1, _, e1, e2, _ = market
    place = [(lambda eid: (lambda s: placements.add_placement(s, ACTOR, org.id, worker_id=w1.id, employer_id=eid,
                                                              status="placed")))(e) for e in (e1.id, e2.id)]
    results, refused = race(committed_db, place, workers=2)
    assert len(results) == 1 and len(refused) == 1
    assert "is already placed with" in str(refused[0])
    with committed_db.session() as s:
        assert s.scalar(select(func.count()).select_from(AgencyPlacement)) == 1
