"""What every command shares: opening the database, the CLI actor, output."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, time
from typing import Any

import typer


def err(text: str) -> None:
    """A message for the person at the terminal: stderr, never mixed into data."""
    typer.echo(text, err=True)


def fail(text: str, code: int = 1) -> typer.Exit:
    err(text)
    return typer.Exit(code)


def open_db():
    from db.engine import open_database

    return open_database()


@contextmanager
def unit_of_work() -> Iterator[tuple[Any, Any]]:
    """A session on the configured database and the CLI actor (the OS user)."""
    from core.actors import Actor

    database = open_db()
    try:
        with database.session() as session:
            yield session, Actor.cli()
    finally:
        database.dispose()


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if is_dataclass(value):
        return asdict(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def print_json(data: Any) -> None:
    if is_dataclass(data):
        data = asdict(data)
    elif isinstance(data, list):
        data = [asdict(d) if is_dataclass(d) else d for d in data]
    sys.stdout.write(json.dumps(data, default=_default, ensure_ascii=False) + "\n")


def print_table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=None if title is None else Text(title), show_lines=False)  # a title names people too
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(Text("" if v is None else str(v)) for v in row))  # data, never markup
    Console().print(table)


def org_id_for(session, actor, slug: str) -> Any:
    from core.orgs import get_org

    return get_org(session, actor, slug)


@contextmanager
def progress_bar(description: str) -> Iterator[Any]:
    """A Rich progress bar on stderr, fed ``(done, total)``; nothing at all when stderr is not a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield advance
