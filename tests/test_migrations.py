"""Migrations run up from empty on both backends; a database behind is refused."""

import pytest
from sqlalchemy import inspect, text

from db.engine import DatabaseStateError, make_engine, open_database, schema_state
from db.migrate import downgrade, head_revision, upgrade
from db.models import Base


def test_empty_database_is_migrated_on_open(fresh_database_url):
    db = open_database(fresh_database_url)
    try:
        tables = set(inspect(db.engine).get_table_names())
        assert {t.name for t in Base.metadata.sorted_tables} <= tables
        assert schema_state(db.engine)[0] == "current"
    finally:
        db.dispose()


def test_down_and_up_again(fresh_database_url):
    engine = make_engine(fresh_database_url)
    try:
        upgrade(engine)
        downgrade(engine, "base")
        assert schema_state(engine)[0] == "empty"
        upgrade(engine)
        assert schema_state(engine)[1] == head_revision()
        assert schema_state(engine)[0] == "current"
    finally:
        engine.dispose()


def test_database_behind_is_refused_with_the_command(fresh_database_url, monkeypatch):
    engine = make_engine(fresh_database_url)
    upgrade(engine)
    engine.dispose()
    # This Ofisi's code is one schema ahead of the database.
    import db.migrate

    real_heads = db.migrate.head_revisions()
    monkeypatch.setattr(db.migrate, "head_revisions", lambda: frozenset({"0002"}))
    monkeypatch.setattr(db.migrate, "known_revisions", lambda: set(real_heads) | {"0002"})
    with pytest.raises(DatabaseStateError, match="run `ofisi db upgrade`"):
        open_database(fresh_database_url)


def test_schema_from_a_newer_ofisi_is_refused(fresh_database_url):
    engine = make_engine(fresh_database_url)
    upgrade(engine)
    with engine.begin() as conn:
        # A schema from a newer Ofisi: one revision this one does not know (one row, however many branches).
        conn.execute(text("DELETE FROM alembic_version"))
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0000')"))
    engine.dispose()
    with pytest.raises(DatabaseStateError, match="schema 0000, which this Ofisi does not know"):
        open_database(fresh_database_url)


def test_foreign_database_is_not_touched(fresh_database_url):
    engine = make_engine(fresh_database_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE someone_elses (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    with pytest.raises(DatabaseStateError, match="OFISI_DATABASE_URL"):
        open_database(fresh_database_url)


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        db.dispose()


def test_audit_log_is_append_only(session, make_org, cli_actor):
    from sqlalchemy.exc import DBAPIError

    from core import audit

    org = make_org(session)
    audit.record(session, cli_actor, "test.thing", "org", org.id, org_id=org.id)
    session.flush()
    for statement in ("UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            with session.begin_nested():
                session.execute(text(statement))
