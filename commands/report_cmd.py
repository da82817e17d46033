"""`ofisi report NAME --org SLUG`: reports as a table, JSON, CSV or XLSX."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from commands import agency_cmd
from commands.common import err, print_json, print_table, unit_of_work

app = typer.Typer(help="Reports: statements and more, as a table, --json, --csv or --xlsx.", no_args_is_help=True)


@app.command("statement")
def statement(
    org: str = typer.Option(..., "--org", help="Chama slug."),
    member: Optional[str] = typer.Option(None, "--member", help="A member's statement (number or phone); "
                                                               "default: the whole chama."),
    start: Optional[str] = typer.Option(None, "--from", help="First day, like 2026-01-01 (the chama's clock)."),
    end: Optional[str] = typer.Option(None, "--to", help="Last day, included."),
    as_json: bool = typer.Option(False, "--json", help="Print the statement as JSON on stdout (minor units)."),
    csv_file: Optional[str] = typer.Option(None, "--csv", metavar="FILE", help="Write CSV to FILE ('-' for stdout)."),
    xlsx_file: Optional[Path] = typer.Option(None, "--xlsx", metavar="FILE", help="Write an XLSX workbook."),
) -> None:
    """A member's or the chama's statement over a period, with opening and closing balances."""
    from commands.chama_cmd import chama_for, member_id, parse_day
    from core.chama.statements import statement as build, table_as_text, write_csv, write_xlsx

    if sum([as_json, csv_file is not None, xlsx_file is not None]) > 1:
        raise typer.BadParameter("choose one of --json, --csv and --xlsx.")
    with unit_of_work() as (session, actor):
        o = chama_for(session, actor, org)
        st = build(session, actor, o.id, member_id=member_id(session, actor, o, member),
                   start=parse_day(start), end=parse_day(end))
    if as_json:
        print_json(st)
    elif csv_file == "-":
        write_csv(st, sys.stdout)
    elif csv_file is not None:
        with open(csv_file, "w", newline="", encoding="utf-8") as fh:
            write_csv(st, fh)
        err(f"Wrote {len(st.lines)} entries to {csv_file}.")
    elif xlsx_file is not None:
        write_xlsx(st, xlsx_file)
        err(f"Wrote {len(st.lines)} entries to {xlsx_file}.")
    else:
        table = table_as_text(st)
        print_table(st.title, table.columns, table.rows)


app.command("agency")(agency_cmd.report_agency)
