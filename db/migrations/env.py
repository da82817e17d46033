"""Alembic environment: runs on the connection handed over by db.migrate."""

from alembic import context

from db import load_all_models
from db.models import Base

load_all_models()

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `ofisi db upgrade`, which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
