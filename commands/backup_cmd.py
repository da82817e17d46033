"""`ofisi db backup PATH` and `ofisi db restore PATH`: a checked copy of the database, and putting one back."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from commands.common import err, fail


def backup(
    path: Path = typer.Argument(..., help="Where the copy goes (an SQLite file, or a pg_dump archive)."),
    force: bool = typer.Option(False, "--force", help="Replace a file already there."),
) -> None:
    """Copy the database while it is in use, and check that the copy opens at this Ofisi's schema."""
    from config import get_settings
    from db.backup import BackupError
    from db.backup import backup as make_copy
    from db.engine import display_url

    if path.exists() and not force:
        raise BackupError(f"{path} is already there: choose another name (cron: put the date in it), or pass --force.")
    url = get_settings().database_url
    copy = make_copy(url, path)
    err(f"Backed up {display_url(url)} to {copy.path} ({copy.size_bytes / 1e6:.1f} MB); "
        f"the copy opens at schema {copy.schema}.")


def restore(
    path: Path = typer.Argument(..., help="A copy made by `ofisi db backup`."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask; replace the database."),
) -> None:
    """Replace the database with a copy, after checking that the copy opens at this Ofisi's schema."""
    from config import get_settings
    from db.backup import check_copy
    from db.backup import restore as put_back
    from db.engine import display_url

    url = get_settings().database_url
    schema = check_copy(url, path)
    if not yes:
        if not sys.stdin.isatty():
            raise fail("Nothing was restored: pass --yes to replace the database without being asked.", 2)
        if not typer.confirm(f"Replace everything in {display_url(url)} with {path}?", default=False):
            raise fail("Nothing was restored.", 1)
    put_back(url, path)
    err(f"Restored {path} into {display_url(url)}; it opens at schema {schema}.")
