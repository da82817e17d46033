"""The engine's own promises, whatever the backend: what a statement's result says of its columns."""

from __future__ import annotations

from sqlalchemy import text


def test_results_describe_their_columns_when_asked(database):
    """PostgreSQL's cursors describe a result's columns only when something reads them (SQLAlchemy
    reads them for a statement it has not seen before); what they say is what the driver says."""
    with database.engine.connect() as conn:
        first = conn.execute(text("SELECT 1 AS one, 'two' AS two"))
        assert list(first.keys()) == ["one", "two"] and first.all() == [(1, "two")]
        for _ in range(3):  # a statement seen before: its columns come from SQLAlchemy's cache
            assert conn.execute(text("SELECT 1 AS one, 'two' AS two")).mappings().one() == {"one": 1, "two": "two"}
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.execute("SELECT 3 AS three, 'four' AS four")
            description = cursor.description
            assert len(description) == 2
            cursor.execute("SELECT 5 AS five")  # read after the next statement, it still says what its result was
            assert [column[0] for column in description] == ["three", "four"]
            assert [column[0] for column in cursor.description] == ["five"]
            if database.dialect == "postgresql":
                cursor.execute("SET LOCAL statement_timeout = 0")
                assert cursor.description is None
        finally:
            cursor.close()
