"""The database: SQLAlchemy 2.0 models, the engine and session, Alembic migrations.

Imports only ``config``. Opening a database (:func:`db.engine.open_database`)
migrates an empty one and refuses one whose schema is behind.
"""
