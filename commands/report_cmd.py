"""`ofisi report NAME --org SLUG`: reports as a table, JSON, CSV or XLSX."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from commands import agency_cmd, chama_books_cmd, community_cmd, salon_cmd
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
app.command("community")(community_cmd.report_community)
app.command("takings")(salon_cmd.report_takings)
for _name in chama_books_cmd.AGM_REPORTS:
    app.command(_name)(chama_books_cmd.agm_report(_name))


@app.command("campaigns")
def campaigns(
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    start: Optional[str] = typer.Option(None, "--from", help="Campaigns created from this day (the org's clock)."),
    end: Optional[str] = typer.Option(None, "--to", help="… up to this day, included."),
    fmt: str = typer.Option("table", "--format", help="table, csv, xlsx or json."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="File for csv/xlsx (csv: stdout without)."),
    by: Optional[str] = typer.Option(None, "--by", help="day: each campaign's sends per day; vendor: engagement "
                                                       "per vendor; district or state: reach per place."),
    campaign: Optional[int] = typer.Option(None, "--campaign", help="With --by day: only this campaign."),
) -> None:
    """Per campaign: messages sent, delivered, failed (by reason), responses, response rate and
    cost (where the provider reports it); --by day: sent, delivered and failed per day on the org's
    clock; --by vendor: each vendor's messages, deliveries and responses across campaigns;
    --by district|state: the reach and responses of vendor campaigns per place."""
    from datetime import date, datetime, time, timedelta

    from commands.common import org_id_for
    from core.campaigns import reports
    from core.money import format_money

    if fmt not in ("table", "csv", "xlsx", "json"):
        raise typer.BadParameter("--format is table, csv, xlsx or json.")
    if fmt == "xlsx" and output is None:
        raise typer.BadParameter("--format xlsx needs -o FILE.")
    if by not in (None, "day", "vendor", "district", "state"):
        raise typer.BadParameter("--by is day, vendor, district or state.")
    if campaign is not None and by != "day":
        raise typer.BadParameter("--campaign goes with --by day.")

    def day(text: Optional[str], tz, shift: int = 0):
        if text is None:
            return None
        try:
            return datetime.combine(date.fromisoformat(text) + timedelta(days=shift), time(), tz)
        except ValueError:
            raise typer.BadParameter(f"{text!r} is not a day; write it like 2026-11-01.") from None

    def money(minor: int, currency: Optional[str]) -> str:
        return format_money(minor, currency) if currency else ""

    with unit_of_work() as (session, actor):
        o = org_id_for(session, actor, org)
        period = {"start": day(start, o.tz), "end": day(end, o.tz, 1)}
        if by is None:
            rows = reports.campaign_report(session, actor, o.id, **period)
            columns = ["id", "name", "channel", "status", "runs", "messages", "sent", "delivered", "failed",
                       "unknown", "responses", "response_rate", "cost", "cost_per_message", "failed_by_reason"]
            table = [[*(getattr(r, c) for c in columns[:12]), money(r.cost_minor, r.cost_currency),
                      money(r.cost_per_message_minor, r.cost_currency),
                      "; ".join(f"{why}: {n}" for why, n in r.failed_by_reason.items())] for r in rows]
        elif by == "day":
            chosen = ([campaign] if campaign is not None
                      else [c.id for c in reports.campaign_report(session, actor, o.id, **period)])
            rows = [{"campaign_id": cid, **vars(d)} for cid in chosen
                    for d in reports.sends_by_day(session, actor, o.id, cid)]
            columns = ["campaign_id", "day", "sent", "delivered", "failed", "unknown"]
            table = [[r[c].isoformat() if c == "day" else r[c] for c in columns] for r in rows]
        elif by == "vendor":
            rows, after = [], None
            while page := reports.vendor_engagement(session, actor, o.id, after_id=after, limit=500, **period):
                rows.extend(page)
                after = page[-1].vendor_id
            columns = ["vendor_id", "business_name", "district", "campaigns", "received", "delivered",
                       "responses", "response_rate", "last_response_at"]
            table = [[getattr(r, c) for c in columns] for r in rows]
            for line in table:
                line[-1] = line[-1].astimezone(o.tz).isoformat(timespec="minutes") if line[-1] else ""
        else:
            rows = reports.reach_by_place(session, actor, o.id, by=by, **period)
            columns = [by, "recipients", "reached", "responses"]
            table = [[r.place, r.recipients, r.reached, r.responses] for r in rows]

    noun = {None: "campaign", "day": "campaign-day", "vendor": "vendor"}.get(by, "place")
    what = noun if len(rows) == 1 else noun + "s"
    if fmt == "json":
        print_json(rows)
    elif fmt == "csv":
        from core.spreadsheets import write_csv

        # Names are people's text: write_csv keeps a spreadsheet from running one as a formula.
        fh = open(output, "w", newline="", encoding="utf-8") if output else sys.stdout
        write_csv(fh, columns, table)
        if output:
            fh.close()
            err(f"Wrote {len(rows)} {what} to {output}.")
    elif fmt == "xlsx":
        from core.spreadsheets import write_xlsx

        write_xlsx(output, columns, table, title="Campaigns")
        err(f"Wrote {len(rows)} {what} to {output}.")
    else:
        print_table(f"Campaigns of {o.name}", columns, table)
