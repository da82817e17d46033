"""`ofisi db backup` and `restore`: the demo database round-trips on both backends; bad copies are refused."""

from __future__ import annotations

import json
import sqlite3

from tests.test_cli import assert_refused, ofisi_here  # noqa: F401  (fixture)


def _state(ofisi_here) -> tuple:
    orgs = json.loads(ofisi_here("org", "list", "--json").stdout)
    members = json.loads(ofisi_here("chama", "members", "list", "--org", "umoja-chama", "--json").stdout)
    return sorted(o["slug"] for o in orgs), sorted((m["name"], m["phone"]) for m in members)


def test_backup_then_restore_round_trips_the_demo(ofisi_here, tmp_path, backend):
    assert ofisi_here("demo").returncode == 0
    before = _state(ofisi_here)
    copy = tmp_path / "backups" / "ofisi-2026-03-01.dump"
    made = ofisi_here("db", "backup", str(copy))
    assert made.returncode == 0, made.stderr
    assert f"to {copy}" in made.stderr and "the copy opens at schema" in made.stderr
    assert copy.is_file() and not copy.with_name(copy.name + ".partial").exists()
    assert_refused(ofisi_here("db", "backup", str(copy)), "already there")

    ofisi_here("org", "create", "after-backup", "--kind", "salon", "--name", "After")
    ofisi_here("chama", "members", "add", "New Member", "0711000999", "--org", "umoja-chama")
    assert _state(ofisi_here) != before
    asked = ofisi_here("db", "restore", str(copy))
    assert asked.returncode == 2 and "pass --yes" in asked.stderr
    restored = ofisi_here("db", "restore", str(copy), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert _state(ofisi_here) == before
    assert ": current " in ofisi_here("db", "status").stdout
    again = ofisi_here("db", "backup", str(copy), "--force")  # a restored database backs up again
    assert again.returncode == 0, again.stderr


def test_a_copy_that_does_not_open_at_this_schema_is_refused(ofisi_here, tmp_path, backend):
    assert ofisi_here("org", "create", "umoja", "--kind", "chama", "--name", "Umoja").returncode == 0
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    assert_refused(ofisi_here("db", "restore", str(junk), "--yes"), "junk.db")
    assert_refused(ofisi_here("db", "restore", str(tmp_path / "missing.db"), "--yes"), "There is no file")
    if backend != "sqlite":
        return
    copy = tmp_path / "old.db"
    assert ofisi_here("db", "backup", str(copy)).returncode == 0
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE alembic_version SET version_num = '0001' WHERE version_num LIKE '000%'")
    assert_refused(ofisi_here("db", "restore", str(copy), "--yes"), "this Ofisi needs schema")
    assert [o["slug"] for o in json.loads(ofisi_here("org", "list", "--json").stdout)] == ["umoja"]
