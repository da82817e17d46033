"""`ofisi export KIND --org SLUG`: an org's records as CSV, XLSX or JSON.

Areas add their kinds with :func:`register` (one command per kind on the
``export`` group). Spreadsheet formats neutralise cells that would run as
formulas (``core.spreadsheets``); JSON keeps values as they are.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import typer

from commands.common import err, org_id_for, unit_of_work

app = typer.Typer(help="Export an organisation's records to CSV, XLSX or JSON.", no_args_is_help=True)


def _chama_books() -> None:
    from commands import chama_books_cmd

    app.command("chama")(chama_books_cmd.export_chama)


_chama_books()
FORMATS = ("csv", "xlsx", "json")


def register(name: str, help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add ``ofisi export NAME``; the decorated function gets the same arguments as the command."""
    return app.command(name, help=help)


def write_table(columns: list[str], rows: Any, fmt: str, output: Path | None) -> int:
    """Write ``rows`` (an iterable of lists) as ``fmt`` to ``output`` or stdout; returns the count."""
    import json

    from core.spreadsheets import write_csv, write_xlsx

    if fmt not in FORMATS:
        raise typer.BadParameter(f"{fmt!r}: use one of {', '.join(FORMATS)}.", param_hint="--format")
    if fmt == "xlsx":
        if output is None:
            if sys.stdout.isatty():
                raise typer.BadParameter("an XLSX file cannot go to a terminal; give -o FILE.", param_hint="-o")
            return write_xlsx(sys.stdout.buffer, columns, rows)
        return write_xlsx(output, columns, rows)
    out = output.open("w", newline="", encoding="utf-8") if output else sys.stdout
    try:
        if fmt == "csv":
            return write_csv(out, columns, rows)
        count = 0
        out.write("[")
        for row in rows:
            out.write(("," if count else "") + "\n" + json.dumps(dict(zip(columns, row)), ensure_ascii=False,
                                                                   default=str))
            count += 1
        out.write("\n]\n")
        return count
    finally:
        if output:
            out.close()


@register("vendors", help="Export a campaigns org's vendors.")
def vendors(
    org: str = typer.Option(..., "--org", help="Campaigns org slug."),
    fmt: str = typer.Option("csv", "--format", help="csv, xlsx or json."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write to this file (default: stdout)."),
    audience: str = typer.Option("status=any", "--audience", help="Only these vendors, e.g. sector=retail,district=Pune."),
) -> None:
    from core.vendors import AudienceFilter
    from core.vendors.exporting import EXPORT_COLUMNS, export_rows

    with unit_of_work() as (session, actor):
        o = org_id_for(session, actor, org)
        count = write_table(list(EXPORT_COLUMNS), export_rows(session, actor, o.id, AudienceFilter.parse(audience)),
                            fmt.lower(), output)
    err(f"{count} vendors exported" + (f" to {output}" if output else "") + ".")
