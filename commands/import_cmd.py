"""`ofisi import KIND FILE --org SLUG`: bulk imports from spreadsheets.

Every row is checked first and each problem is printed as ``line N: …`` on
stderr. With problems nothing is written (exit 1) unless ``--skip-invalid``;
``--dry-run`` writes nothing either way. ``--json`` prints the report on stdout.
"""

from __future__ import annotations

from pathlib import Path

import typer

from commands.common import err, org_id_for, print_json, unit_of_work

app = typer.Typer(help="Import people from CSV or XLSX files.", no_args_is_help=True)


DRY_RUN = typer.Option(False, "--dry-run", help="Check every row and report; write nothing.")
SKIP_INVALID = typer.Option(False, "--skip-invalid", help="Write the good rows even if some are bad.")
JSON = typer.Option(False, "--json", help="Print the report as JSON on stdout.")


def _finish(report, as_json: bool) -> None:
    """Every row's problem on stderr, the report, and exit 1 when nothing was written because of them."""
    for problem in report.errors:
        err(f"line {problem.line}: {problem.message}")
    if as_json:
        print_json(report)
    err(report.line())
    if report.errors and not report.written:
        raise typer.Exit(1)


@app.command("members")
def members(
    file: Path = typer.Argument(..., help="A .csv or .xlsx file: name, phone, member number, role, join date."),
    org: str = typer.Option(..., "--org", help="Chama slug."),
    dry_run: bool = DRY_RUN,
    skip_invalid: bool = SKIP_INVALID,
    as_json: bool = JSON,
) -> None:
    """Import chama members."""
    from commands.chama_cmd import chama_for
    from core.chama.importing import import_members, read_member_file

    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        report = import_members(session, actor, o.id, read_member_file(file), file=file.name, dry_run=dry_run,
                                skip_invalid=skip_invalid)
    _finish(report, as_json)


@app.command("leads")
def leads(
    file: Path = typer.Argument(..., help="A .csv or .xlsx file: phone, name, email, service, preferred date, "
                                          "message."),
    org: str = typer.Option(..., "--org", help="Salon slug."),
    dry_run: bool = DRY_RUN,
    skip_invalid: bool = SKIP_INVALID,
    as_json: bool = JSON,
) -> None:
    """Import salon leads; each is scored and gets a follow-up task."""
    from core.salon.importing import import_leads, read_lead_file

    with unit_of_work() as (session, actor):
        report = import_leads(session, actor, org_id_for(session, actor, org).id, read_lead_file(file), file=file.name,
                              dry_run=dry_run, skip_invalid=skip_invalid)
    _finish(report, as_json)
