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


def test_0004_gives_existing_messages_a_purpose_and_redacts_sent_codes(fresh_database_url):
    engine = make_engine(fresh_database_url)
    try:
        upgrade(engine, "0003")
        rows = [  # (key, campaign_id, status, body)
            ("salon:appt:1:remind:r0:1440:sms", None, "queued", "a reminder"),
            ("chama:1:invoice:2:2024-05", None, "queued", "pay"),
            ("campaign:1:run:1:v1", 1, "queued", "buy"),
            ("chama:1:receipt:9", None, "sent", "received KES 100"),
            ("staff:otp:4", None, "sent", "123456 is your Ofisi sign-in code."),
            ("community:otp:5", None, "queued", "654321 is your sign-in code."),
        ]
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO orgs (id, name, slug, kind, country, currency, timezone, created_at) "
                              "VALUES (1, 'O', 'o', 'chama', 'KE', 'KES', 'Africa/Nairobi', CURRENT_TIMESTAMP)"))
            for key, campaign_id, status, body in rows:
                conn.execute(text(
                    "INSERT INTO messages (org_id, channel, to_address, body, status, attempts, next_attempt_at, "
                    "idempotency_key, campaign_id, created_at, updated_at) VALUES (1, 'sms', '+254712345678', "
                    ":body, :status, 0, CURRENT_TIMESTAMP, :key, :campaign_id, CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"), {"key": key, "campaign_id": campaign_id, "status": status, "body": body})
        upgrade(engine)
        with engine.connect() as conn:
            found = {key: (purpose, bool(secret), body) for key, purpose, secret, body in conn.execute(text(
                "SELECT idempotency_key, purpose, secret, body FROM messages"))}
        assert found == {
            "salon:appt:1:remind:r0:1440:sms": ("service", False, "a reminder"),
            "chama:1:invoice:2:2024-05": ("service", False, "pay"),
            "campaign:1:run:1:v1": ("marketing", False, "buy"),
            "chama:1:receipt:9": ("transactional", False, "received KES 100"),
            "staff:otp:4": ("transactional", True, "(a one-time code: its text is not kept once sent)"),
            # Not sent yet: kept for the sender, redacted wherever it is read.
            "community:otp:5": ("transactional", True, "654321 is your sign-in code."),
        }
        downgrade(engine, "0003")
        assert {"purpose", "secret"}.isdisjoint(c["name"] for c in inspect(engine).get_columns("messages"))
    finally:
        engine.dispose()
