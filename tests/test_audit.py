"""Reading the audit log: filters, keyset pages, who may read it, and `ofisi audit`."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from core import audit
from core.actors import Actor
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.users import add_user
from db.types import utcnow
from tests.test_cli import assert_refused, ofisi_here  # noqa: F401  (fixture)


@pytest.fixture
def chama(session, make_org, cli_actor):
    org = make_org(session, "chama")
    chair = add_user(session, cli_actor, "chair@umoja.example", org_id=org.id, role="chair", password="chair-password")
    member = add_user(session, cli_actor, "treasurer@umoja.example", org_id=org.id, role="treasurer")
    return org, Actor.staff(chair.id, chair.email), Actor.staff(member.id, member.email)


def _record(session, org, label, action, entity_id):
    audit.record(session, Actor.system_actor(label), action, "thing", entity_id, org_id=org.id)
    session.flush()


def test_filters_combine_and_pages_are_keyset(session, chama):
    org, chair, _member = chama
    for i in range(7):
        _record(session, org, "gateway" if i % 2 else "cli:wanjiru", "chama.loan.request" if i < 4 else "chama.fine",
                i)
    _record(session, org, "cli:wanjiru", "chama.loanx", 99)
    every = audit.list_entries(session, chair, org.id, limit=500)
    assert [e.id for e in every] == sorted((e.id for e in every), reverse=True)

    loans = audit.list_entries(session, chair, org.id, what="chama.loan")
    assert sorted(int(e.entity_id) for e in loans) == [0, 1, 2, 3]  # not chama.loanx
    assert {e.entity_id for e in audit.list_entries(session, chair, org.id, what="chama.lo")} == set()
    assert len(audit.list_entries(session, chair, org.id, what="chama")) == 8
    by_gateway = audit.list_entries(session, chair, org.id, who="GATE", what="chama.fine")
    assert sorted(int(e.entity_id) for e in by_gateway) == [5]
    assert audit.list_entries(session, chair, org.id, who="%") == []  # a wildcard is a character
    assert [e.entity_id for e in audit.list_entries(session, chair, org.id, entity="thing", entity_ids=[3, "5"])] \
        == ["5", "3"]

    first = audit.list_entries(session, chair, org.id, what="chama", limit=3)
    _record(session, org, "gateway", "chama.fine", 100)  # a new row does not shift the next page
    second = audit.list_entries(session, chair, org.id, what="chama", limit=3, before_id=first[-1].id)
    rest = audit.list_entries(session, chair, org.id, what="chama", limit=3, before_id=second[-1].id)
    assert [e.id for e in first + second + rest] == [e.id for e in every if e.action.startswith("chama")][:9]


def test_time_window(session, chama):
    org, chair, _member = chama
    _record(session, org, "gateway", "chama.fine", 1)
    now = utcnow()
    assert len(audit.list_entries(session, chair, org.id, what="chama.fine", since=now - timedelta(minutes=1))) == 1
    assert audit.list_entries(session, chair, org.id, what="chama.fine", since=now + timedelta(minutes=1)) == []
    assert audit.list_entries(session, chair, org.id, what="chama.fine", until=now - timedelta(minutes=1)) == []
    with pytest.raises(InvalidInput, match="time zone"):
        audit.list_entries(session, chair, org.id, since=now.replace(tzinfo=None))
    with pytest.raises(InvalidInput, match="1 to 500"):
        audit.list_entries(session, chair, org.id, limit=0)


def test_only_readers_of_that_org(session, chama, make_org, cli_actor):
    org, chair, member = chama
    other = make_org(session, "chama")
    _record(session, other, "gateway", "chama.fine", 1)
    with pytest.raises(PermissionDenied):
        audit.list_entries(session, member, org.id)
    with pytest.raises(NotFound):
        audit.list_entries(session, chair, other.id)
    assert all(e.entity_id != "1" or e.action != "chama.fine" for e in audit.list_entries(session, chair, org.id))


def test_cli_audit_filters_pages_and_json(ofisi_here):
    ofisi = ofisi_here
    assert ofisi("org", "create", "umoja", "--kind", "chama", "--name", "Umoja").returncode == 0
    for email in ("a@umoja.example", "b@umoja.example", "c@umoja.example"):
        assert ofisi("user", "add", email, "--org", "umoja", "--role", "treasurer").returncode == 0
    listed = ofisi("audit", "--org", "umoja", "--what", "membership", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["action"] for r in rows] == ["membership.set"] * 3 and rows[0]["after"] == {"role": "treasurer"}
    assert rows[0]["actor"].startswith("cli:") and rows[0]["id"] > rows[1]["id"]

    page = ofisi("audit", "--org", "umoja", "--what", "membership", "--limit", "2", "--since", "1h")
    assert page.returncode == 0 and page.stdout.count("membership.set") == 2
    assert f"--before {rows[1]['id']}" in page.stderr
    older = ofisi("audit", "--org", "umoja", "--what", "membership", "--before", str(rows[1]["id"]), "--json")
    assert [r["id"] for r in json.loads(older.stdout)] == [rows[2]["id"]]
    assert len(json.loads(ofisi("audit", "--org", "umoja", "--all", "--limit", "1", "--json").stdout)) >= 7

    assert "No audit rows match." in ofisi("audit", "--org", "umoja", "--since", "2999-01-01").stderr
    assert ofisi("audit", "--org", "umoja", "--since", "last tuesday").returncode == 2
    assert_refused(ofisi("audit", "--org", "nowhere"), "ofisi org list")
