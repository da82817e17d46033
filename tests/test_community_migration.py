"""The migration from the old platform: the sample export, re-runs, dry runs and rollback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.community.migration import DEFAULT_TYPE, import_export, list_batches, read_export, rollback_batch
from core.errors import Conflict
from db.models import Base
from db.models_community import CommunityAccount, CommunityConnection, CommunityPost, CommunityProfile
from tests.community_support import ACTOR, make_members

SAMPLE = Path("/work/shared/data/smilefactory-legacy-export.json")
if not SAMPLE.exists():  # the sample travels with the repository's shared data
    SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "smilefactory-legacy-export.json"
pytestmark = pytest.mark.skipif(not SAMPLE.exists(), reason="the sample export is not on this machine")


@pytest.fixture
def org(session, make_org):
    return make_org(session, "community", country="KE")


def snapshot(session) -> dict[str, list]:
    """Every row of every community table except the batch log itself (which keeps the rolled-back batch)."""
    tables = [t for t in Base.metadata.sorted_tables
              if t.name.startswith("community_") and t.name != "community_import_batches"]
    return {t.name: sorted(tuple(map(str, r)) for r in session.execute(select(t)).all()) for t in tables}


def test_sample_migrates_with_a_report_that_adds_up(session, org):
    data = read_export(SAMPLE)
    report = import_export(session, ACTOR, org.id, data, file=SAMPLE.name)
    assert report.adds_up
    assert report.users_read == 41 and report.duplicate_ids == 1
    assert report.accounts_created + report.users_skipped == 40
    assert report.missing_emails == 1 and report.self_connections == 1 and report.duplicate_connections == 1
    assert report.unknown_labels == {"Alien": 4}  # five rows, one of them the duplicate old-1
    assert (report.posts_read, report.connections_read) == (49, 41)
    assert report.posts_created == 49 and report.connections_created == 39
    assert any("old-1 appears more than once" in p for p in report.problems)
    # Labels mapped; unknown ones to the documented default; accounts marked migrated.
    types = dict(session.execute(select(CommunityProfile.display_name, CommunityProfile.type)
                                 .where(CommunityProfile.org_id == org.id)).all())
    assert types["Wanjiru Mwangi"] == DEFAULT_TYPE and types["Zawadi Kamau"] == "organization"
    assert types["Mercy Omondi"] == "academic_student"
    assert all(session.scalars(select(CommunityAccount.migrated).where(CommunityAccount.org_id == org.id)))
    # The user with no email came over by phone.
    assert session.scalar(select(CommunityAccount.email).where(CommunityAccount.phone == "+254798600170")) is None
    assert list_batches(session, ACTOR, org.id)[0].report["adds_up"] is True


def test_a_second_import_creates_nothing(session, org):
    data = read_export(SAMPLE)
    first = import_export(session, ACTOR, org.id, data, file=SAMPLE.name)
    before = snapshot(session)
    second = import_export(session, ACTOR, org.id, data, file=SAMPLE.name)
    assert second.adds_up
    assert (second.accounts_created, second.posts_created, second.connections_created) == (0, 0, 0)
    assert second.users_already_migrated == first.accounts_created
    assert second.posts_existing == 49 and second.connections_existing == 39
    after = snapshot(session)
    for table in ("community_accounts", "community_profiles", "community_posts", "community_connections"):
        assert after[table] == before[table]


def test_dry_run_writes_nothing(session, org):
    before = snapshot(session)
    report = import_export(session, ACTOR, org.id, read_export(SAMPLE), file=SAMPLE.name, dry_run=True)
    assert report.adds_up and report.accounts_created == 40 and report.batch_id is None
    assert snapshot(session) == before and list_batches(session, ACTOR, org.id) == []


def test_rollback_leaves_the_database_as_it_was(session, org):
    make_members(session, org.id, 3)  # people who were here before the migration stay
    before = snapshot(session)
    report = import_export(session, ACTOR, org.id, read_export(SAMPLE), file=SAMPLE.name)
    result = rollback_batch(session, ACTOR, org.id, report.batch_id)
    assert (result.accounts, result.posts, result.connections) == (40, 49, 39)
    assert snapshot(session) == before
    assert list_batches(session, ACTOR, org.id)[0].status == "rolled_back"
    with pytest.raises(Conflict, match="already rolled back"):
        rollback_batch(session, ACTOR, org.id, report.batch_id)
    again = import_export(session, ACTOR, org.id, read_export(SAMPLE), file=SAMPLE.name)
    assert again.accounts_created == 40  # a rolled-back batch does not count as migrated


def test_only_the_latest_batch_rolls_back(session, org, tmp_path):
    data = read_export(SAMPLE)
    first = import_export(session, ACTOR, org.id, {**data, "connections": []}, file="a.json")
    second = import_export(session, ACTOR, org.id, data, file="b.json")
    assert second.connections_created == 39 and second.accounts_created == 0
    with pytest.raises(Conflict, match=f"roll back batch {second.batch_id} first"):
        rollback_batch(session, ACTOR, org.id, first.batch_id)
    rollback_batch(session, ACTOR, org.id, second.batch_id)
    assert session.scalar(select(CommunityConnection.id).where(CommunityConnection.org_id == org.id)) is None
    assert len(session.scalars(select(CommunityPost.id).where(CommunityPost.org_id == org.id)).all()) == 49


def test_the_command_line_import_and_rollback(tmp_path, monkeypatch):
    """In process (the executable's start-up is tested in test_cli): the same commands a script runs."""
    from typer.testing import CliRunner

    from commands.main import app

    monkeypatch.setenv("OFISI_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()

    def ofisi(*args):
        return runner.invoke(app, list(args))

    assert ofisi("org", "create", "hub", "--kind", "community", "--name", "Hub", "--country", "KE").exit_code == 0
    dry = ofisi("import", "smilefactory", str(SAMPLE), "--org", "hub", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["adds_up"] is True and "Dry run: would create 40 accounts" in dry.stderr
    done = ofisi("import", "smilefactory", str(SAMPLE), "--org", "hub", "--json")
    batch = json.loads(done.stdout)["batch_id"]
    assert done.exit_code == 0 and "old-1 appears more than once" in done.stderr
    listed = json.loads(ofisi("community", "batches", "--org", "hub", "--json").stdout)
    assert listed[0]["id"] == batch and listed[0]["status"] == "applied"
    back = ofisi("import", "smilefactory", "--rollback", str(batch), "--org", "hub")
    assert back.exit_code == 0 and "removed 40 accounts" in back.stderr
    again = ofisi("import", "smilefactory", "--rollback", str(batch), "--org", "hub")
    assert isinstance(again.exception, Conflict) and "already rolled back" in str(again.exception)
    both = ofisi("import", "smilefactory", str(SAMPLE), "--rollback", str(batch), "--org", "hub")
    assert both.exit_code == 2


def _scenario(session, org):
    """The sample migrated, then life goes on: a member who was never migrated comments on a migrated
    post, connects with a migrated member, and registers for an event that two migrated members filled."""
    from datetime import timedelta

    from core.community import events, social
    from tests.community_support import NOW, make_event

    report = import_export(session, ACTOR, org.id, read_export(SAMPLE), file=SAMPLE.name, now=NOW)
    (newcomer,) = make_members(session, org.id, 1)
    migrated = session.scalars(select(CommunityAccount).where(CommunityAccount.migrated,
                                                              CommunityAccount.phone.is_not(None))
                               .order_by(CommunityAccount.id).limit(2)).all()
    post = session.scalars(select(CommunityPost).where(CommunityPost.org_id == org.id)
                           .order_by(CommunityPost.id).limit(1)).one()
    comment_id = social.add_comment(session, ACTOR, org.id, post.id, newcomer.primary.id, "Great point!")
    migrated_profile = session.scalar(select(CommunityProfile.id).where(
        CommunityProfile.account_id == migrated[0].id, CommunityProfile.is_primary))
    connection = social.request_connection(session, ACTOR, org.id, newcomer.primary.id, migrated_profile)
    event = make_event(session, org.id, capacity=2, title="Demo day", starts_in=timedelta(days=3))
    for account in migrated:
        events.register(session, ACTOR, org.id, event.id, account.id, now=NOW)
    waiting = events.register(session, ACTOR, org.id, event.id, newcomer.id, now=NOW)
    assert waiting.status == "waitlisted"
    return report, newcomer, comment_id, connection, event


def test_rollback_refuses_naming_what_others_built_then_keeps_it_with_force(session, org):
    from core.community import events
    from core.community.migration import RollbackRefused
    from db.models_community import CommunityComment, CommunityConnection, CommunityRegistration
    from tests.community_support import NOW

    report, newcomer, comment_id, connection, event = _scenario(session, org)
    # A re-run brings nothing over and records no batch: batch 1 stays the one to roll back.
    again = import_export(session, ACTOR, org.id, read_export(SAMPLE), file=SAMPLE.name, now=NOW)
    assert again.batch_id is None and not again.created_anything and "no batch was recorded" in again.line()
    assert [b.id for b in list_batches(session, ACTOR, org.id)] == [report.batch_id]

    with pytest.raises(RollbackRefused) as refused:
        rollback_batch(session, ACTOR, org.id, report.batch_id, now=NOW)
    named = {(d.kind, d.id) for d in refused.value.dependents}
    assert {("comment", comment_id), ("connection", connection.id)} <= named
    assert sum(1 for kind, _id in named if kind == "registration") == 2
    assert "Member 0" in str(refused.value) and "--force" in str(refused.value)
    assert list_batches(session, ACTOR, org.id)[0].status == "applied"  # nothing was touched

    counted = {t: session.scalar(select(func.count()).select_from(m).where(m.org_id == org.id))
               for t, m in (("accounts", CommunityAccount), ("profiles", CommunityProfile),
                            ("posts", CommunityPost), ("connections", CommunityConnection))}
    result = rollback_batch(session, ACTOR, org.id, report.batch_id, force=True, now=NOW)
    # The reported counts are the rows removed (the "Removed member" is one new account and profile).
    after = {t: session.scalar(select(func.count()).select_from(m).where(m.org_id == org.id))
             for t, m in (("accounts", CommunityAccount), ("profiles", CommunityProfile),
                          ("posts", CommunityPost), ("connections", CommunityConnection))}
    assert counted["accounts"] - after["accounts"] == result.accounts - 1 == report.accounts_created - 1
    assert counted["profiles"] - after["profiles"] == result.profiles - 1
    assert counted["posts"] - after["posts"] == result.posts == report.posts_created
    assert counted["connections"] - after["connections"] == result.connections == report.connections_created
    # The newcomer's rows survive: the comment (without its post), the connection (with "Removed member").
    comment = session.get(CommunityComment, comment_id)
    assert comment is not None and comment.post_id is None and comment.author_profile_id == newcomer.primary.id
    kept = session.get(CommunityConnection, connection.id)
    assert kept is not None and newcomer.primary.id in (kept.profile_low_id, kept.profile_high_id)
    other = kept.profile_high_id if kept.profile_low_id == newcomer.primary.id else kept.profile_low_id
    assert session.get(CommunityProfile, other).display_name == "Removed member"
    assert (result.comments_unlinked, result.connections_rehomed) == (1, 1)
    # The places the migrated members held were released and the waitlist promoted.
    assert (result.registrations_released, result.waitlist_promoted) == (2, 1)
    view = events.get_event(session, ACTOR, org.id, event.id)
    remaining = session.scalars(select(CommunityRegistration.status).where(
        CommunityRegistration.event_id == event.id, CommunityRegistration.status.in_(("registered", "attended")))).all()
    assert view.registered == len(remaining) == 1
    mine = events.list_registrations(session, ACTOR, org.id, event.id, status="registered")
    assert [r.account_id for r in mine] == [newcomer.id]
    assert "Removed member" in result.line() and "promoted" in result.line()
    # The placeholder is nobody's member: not counted, not found.
    from core.community.accounts import count_accounts
    assert count_accounts(session, ACTOR, org.id) == 1  # the newcomer only


def test_ids_are_not_reused_after_a_rollback(session, org):
    from tests.community_support import NOW

    first = import_export(session, ACTOR, org.id, read_export(SAMPLE), file=SAMPLE.name, now=NOW)
    highest = session.scalar(select(func.max(CommunityAccount.id)))
    rollback_batch(session, ACTOR, org.id, first.batch_id, now=NOW)
    (member,) = make_members(session, org.id, 1)
    assert member.id > highest
