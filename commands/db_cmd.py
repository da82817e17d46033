"""`ofisi db upgrade|status`."""

from __future__ import annotations

import typer

from commands.common import err

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Bring the database schema up to this version of Ofisi."""
    from config import get_settings
    from db.engine import display_url, make_engine, schema_state
    from db.migrate import upgrade as run_upgrade

    url = get_settings().database_url
    engine = make_engine(url)
    try:
        state, current, head = schema_state(engine)
        if state == "current":
            err(f"{display_url(url)} is up to date (schema {head}).")
            return
        if state == "unknown":
            raise typer.Exit(_refuse(url, current))
        run_upgrade(engine)
        err(f"Upgraded {display_url(url)} from schema {current or 'empty'} to {head}.")
    finally:
        engine.dispose()


def _refuse(url: str, current: str | None) -> int:
    from db.engine import display_url

    err(f"{display_url(url)} has schema {current or '(none)'}, which this Ofisi does not know; nothing was changed.")
    return 1


@app.command("status")
def status() -> None:
    """Say which schema the database is at."""
    from config import get_settings
    from db.engine import display_url, make_engine, schema_state

    url = get_settings().database_url
    engine = make_engine(url)
    try:
        state, current, head = schema_state(engine)
    finally:
        engine.dispose()
    typer.echo(f"{display_url(url)}: {state} (at {current or 'nothing'}, this Ofisi needs {head})")
