"""The community schema as the migrations leave it: what the models say, keys that keep others' rows,
ids never reused, and m002/m003 down and up again with rows in the tables."""

from __future__ import annotations

import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from db import load_all_models
from db.engine import make_engine
from db.migrate import downgrade, upgrade
from db.models import Base


def _community_differences(engine) -> list[str]:
    load_all_models()
    with engine.connect() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # other areas' expression indexes cannot be reflected
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    return [str(d) for d in diff if "community_" in str(d)]


def test_migrations_build_what_the_models_describe(fresh_database_url):
    engine = make_engine(fresh_database_url)
    try:
        upgrade(engine)
        assert _community_differences(engine) == []
        keys = {(fk["constrained_columns"][0], fk["referred_table"]): fk["options"].get("ondelete")
                for fk in inspect(engine).get_foreign_keys("community_registrations")}
        assert keys[("account_id", "community_accounts")] == "SET NULL"
        assert keys[("event_id", "community_events")] is None
    finally:
        engine.dispose()


def _seed(conn) -> None:
    conn.execute(text("INSERT INTO orgs (id, name, slug, kind, country, currency, timezone, created_at) "
                      "VALUES (1, 'Hub', 'hub', 'community', 'KE', 'KES', 'Africa/Nairobi', CURRENT_TIMESTAMP)"))
    conn.execute(text("INSERT INTO community_accounts (id, org_id, phone, email_verified, phone_verified, migrated, "
                      "created_at) VALUES (1, 1, '+254700000001', false, true, false, CURRENT_TIMESTAMP), "
                      "(2, 1, '+254700000002', false, true, false, CURRENT_TIMESTAMP)"))
    for pid, account in ((1, 1), (2, 2)):
        conn.execute(text(
            "INSERT INTO community_profiles (id, org_id, account_id, type, display_name, username, bio, location, "
            "website, avatar_file, verified, is_primary, search_text, created_at) VALUES (:id, 1, :a, 'mentor', "
            "'P', :u, '', '', '', '', false, true, '', CURRENT_TIMESTAMP)"), {"id": pid, "a": account, "u": f"p{pid}"})
    conn.execute(text("INSERT INTO community_posts (id, org_id, author_profile_id, type, title, body, hidden, "
                      "search_text, created_at) VALUES (1, 1, 1, 'general', '', 'hello', false, '', "
                      "CURRENT_TIMESTAMP)"))
    conn.execute(text("INSERT INTO community_comments (id, org_id, post_id, author_profile_id, body, hidden, "
                      "created_at) VALUES (1, 1, 1, 2, 'hi', false, CURRENT_TIMESTAMP)"))
    conn.execute(text("INSERT INTO community_connections (id, org_id, requester_profile_id, profile_low_id, "
                      "profile_high_id, status, created_at) VALUES (1, 1, 2, 1, 2, 'accepted', CURRENT_TIMESTAMP)"))


def test_rows_survive_m002_both_ways_and_deletions_stop_at_others_rows(fresh_database_url):
    engine = make_engine(fresh_database_url)
    try:
        upgrade(engine, "m001")
        with engine.begin() as conn:
            _seed(conn)
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM community_comments")).scalar() == 1
            assert conn.execute(text("SELECT status FROM community_accounts WHERE id = 1")).scalar() == "active"
        # The database itself refuses to let account 1's removal take account 2's comment and connection.
        with engine.connect() as conn:
            trans = conn.begin()
            try:
                conn.execute(text("DELETE FROM community_accounts WHERE id = 1"))
                refused = False
            except Exception:
                refused = True
            trans.rollback()
        assert refused
        if engine.dialect.name == "sqlite":  # PostgreSQL's sequences never hand an id out twice
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM community_comments WHERE id = 1"))
                conn.execute(text("INSERT INTO community_comments (org_id, post_id, author_profile_id, body, "
                                  "hidden, created_at) VALUES (1, 1, 2, 'again', false, CURRENT_TIMESTAMP)"))
                assert conn.execute(text("SELECT id FROM community_comments")).scalar() == 2
        downgrade(engine, "m001")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM community_connections")).scalar() == 1
        upgrade(engine)
        assert _community_differences(engine) == []
    finally:
        engine.dispose()
