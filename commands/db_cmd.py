"""`ofisi db upgrade|status`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from commands.common import err

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@contextmanager
def _inspect() -> Iterator[tuple]:
    """The configured database's URL, engine and schema state, without migrating it."""
    from config import get_settings
    from db.engine import make_engine, schema_state

    url = get_settings().database_url
    engine = make_engine(url)
    try:
        yield (url, engine, *schema_state(engine))
    finally:
        engine.dispose()


@app.command("upgrade")
def upgrade() -> None:
    """Bring the database schema up to this version of Ofisi (back it up first)."""
    from db.engine import display_url
    from db.migrate import upgrade as run_upgrade

    with _inspect() as (url, engine, state, current, head):
        if state == "current":
            err(f"{display_url(url)} is up to date (schema {head}).")
            return
        if state == "unknown":
            err(f"{display_url(url)} has schema {current or '(none)'}, which this Ofisi does not know; "
                "nothing was changed.")
            raise typer.Exit(1)
        run_upgrade(engine)
        err(f"Upgraded {display_url(url)} from schema {current or 'empty'} to {head}.")


@app.command("status")
def status() -> None:
    """Say which schema the database is at."""
    from db.engine import display_url

    with _inspect() as (url, _engine, state, current, head):
        typer.echo(f"{display_url(url)}: {state} (at {current or 'nothing'}, this Ofisi needs {head})")
