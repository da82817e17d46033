"""`ofisi import KIND FILE --org SLUG`: bulk imports from spreadsheets.

Every row is checked first and each problem is printed as ``line N: …`` on
stderr. With problems nothing is written (exit 1) unless ``--skip-invalid``;
``--dry-run`` writes nothing either way. ``--json`` prints the report on stdout.
"""

from __future__ import annotations

from pathlib import Path

import typer

from commands import agency_cmd
from commands.common import err, print_json, unit_of_work

app = typer.Typer(help="Import people from CSV or XLSX files.", no_args_is_help=True)


@app.command("members")
def members(
    file: Path = typer.Argument(..., help="A .csv or .xlsx file: name, phone, member number, role, join date."),
    org: str = typer.Option(..., "--org", help="Chama slug."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row and report; write nothing."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Write the good rows even if some are bad."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
) -> None:
    """Import chama members."""
    from commands.chama_cmd import chama_for
    from core.chama.importing import import_members, read_member_file

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        report = import_members(session, actor, o.id, read_member_file(file), file=file.name, dry_run=dry_run,
                                skip_invalid=skip_invalid)
    for problem in report.errors:
        err(f"line {problem.line}: {problem.message}")
    if as_json:
        print_json(report)
    err(report.line())
    if report.errors and not report.written:
        raise typer.Exit(1)


app.command("domestic-connect")(agency_cmd.import_domestic_connect)
app.command("workers")(agency_cmd.import_workers)
app.command("employers")(agency_cmd.import_employers)
