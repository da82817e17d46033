"""`ofisi import KIND FILE --org SLUG`: bulk imports from spreadsheets.

Every row is checked first and each problem is printed as ``line N: …`` on
stderr. With problems nothing is written (exit 1) unless ``--skip-invalid``;
``--dry-run`` writes nothing either way. ``--json`` prints the report on stdout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from commands import agency_cmd, chama_books_cmd
from commands.common import err, org_id_for, print_json, progress_bar, unit_of_work

app = typer.Typer(help="Import people from CSV or XLSX files.", no_args_is_help=True)
app.command("chama")(chama_books_cmd.import_chama)


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


@app.command("smilefactory")
def smilefactory(
    file: Optional[Path] = typer.Argument(None, help="The old platform's JSON export (users, posts, connections)."),
    org: str = typer.Option(..., "--org", help="Community slug."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Do the whole migration and report; write nothing."),
    rollback: Optional[int] = typer.Option(None, "--rollback", metavar="BATCH",
                                           help="Remove exactly what import batch BATCH created."),
    force: bool = typer.Option(False, "--force", help="With --rollback: keep what others built on the batch "
                                                      "(re-homed to \u201cRemoved member\u201d or unlinked) "
                                                      "instead of refusing."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
) -> None:
    """Migrate members, posts and connections from the old community platform (or roll a batch back)."""
    from commands.community_cmd import community_for
    from core.community.migration import import_export, read_export, rollback_batch

    if (file is None) == (rollback is None):
        raise typer.BadParameter("Give the export FILE to import, or --rollback BATCH, not both.")
    with unit_of_work() as (session, actor):
        o = community_for(session, actor, org)
        if rollback is not None:
            result = rollback_batch(session, actor, o.id, rollback, force=force)
            if as_json:
                print_json(result)
            err(result.line())
            return
        report = import_export(session, actor, o.id, read_export(file), file=file.name, dry_run=dry_run)
    for problem in report.problems:
        err(problem)
    if as_json:
        print_json(report.as_dict())
    err(report.line())


app.command("domestic-connect")(agency_cmd.import_domestic_connect)
app.command("workers")(agency_cmd.import_workers)
app.command("employers")(agency_cmd.import_employers)


@app.command("vendors")
def vendors(
    file: Path = typer.Argument(..., help="A .csv (any common encoding) or .xlsx file with a business name column."),
    org: str = typer.Option(..., "--org", help="Campaigns org slug."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row and report; write nothing."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Write the good rows even if some are bad."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
) -> None:
    """Import vendors (MSMEs): matched on GSTIN, then Udyam number, then phone."""
    from core.vendors import import_vendors, read_vendor_file

    data = read_vendor_file(file)
    with unit_of_work() as (session, actor), progress_bar(f"Importing {file.name}") as progress:
        o = org_id_for(session, actor, org)
        report = import_vendors(session, actor, o.id, data, dry_run=dry_run, skip_invalid=skip_invalid,
                                progress=progress)
    for problem in report.errors:
        err(f"line {problem.row}: {problem.field.replace('_', ' ')}: {problem.message}")
    if as_json:
        print_json(report.as_json())
    err(report.line())
    if report.invalid and not report.written:
        raise typer.Exit(1)
