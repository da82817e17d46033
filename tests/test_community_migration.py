"""The migration from the old platform: the sample export, re-runs, dry runs and rollback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

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
