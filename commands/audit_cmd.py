"""`ofisi audit --org SLUG`: read an organisation's audit log, newest first, a page at a time."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Optional

import typer

from commands.common import err, org_id_for, print_json, print_table, unit_of_work

AGO = re.compile(r"^(\d{1,5})([mhd])$")


def since_moment(text: str | None, timezone: str, now: datetime) -> datetime | None:
    """``30m``, ``12h``, ``7d`` back from now, or a date or date and time (the org's wall clock without an offset)."""
    if text is None:
        return None
    from commands.chama_cmd import parse_moment

    ago = AGO.match(text.strip())
    if ago:
        unit = {"m": "minutes", "h": "hours", "d": "days"}[ago.group(2)]
        return now - timedelta(**{unit: int(ago.group(1))})
    try:
        return parse_moment(text, timezone)
    except typer.BadParameter:
        raise typer.BadParameter(f"{text!r} is not a time; write 7d, 12h, 2026-03-01 or 2026-03-01T14:00.") from None


def audit(
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    who: Optional[str] = typer.Option(None, "--who", help="Part of the actor: a staff email, cli:NAME, gateway..."),
    what: Optional[str] = typer.Option(None, "--what",
                                       help="An action or its family: chama.loan matches chama.loan.request."),
    since: Optional[str] = typer.Option(None, "--since", help="7d, 12h, 30m, or a date/time in the org's zone."),
    until: Optional[str] = typer.Option(None, "--until", help="Rows before this time (same forms as --since)."),
    limit: int = typer.Option(50, "--limit", min=1, max=500, help="Rows per page."),
    before: Optional[int] = typer.Option(None, "--before", help="Rows older than this audit id (the next page)."),
    every: bool = typer.Option(False, "--all", help="Every matching row, page after page."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON on stdout, one array."),
) -> None:
    """Who did what, before and after, when: an organisation's audit log, newest first."""
    from core.audit import list_entries
    from db.types import utcnow

    now = utcnow()
    rows = []
    with unit_of_work() as (session, actor):
        o = org_id_for(session, actor, org)
        window = {"since": since_moment(since, o.timezone, now), "until": since_moment(until, o.timezone, now)}
        while True:
            page = list_entries(session, actor, o.id, who=who, what=what, limit=limit, before_id=before, **window)
            rows.extend(page)
            before = page[-1].id if page else before
            if not every or len(page) < limit:
                break
    more = len(page) == limit and not every
    if as_json:
        print_json(rows)
    elif rows:
        print_table(f"{o.name} audit log", ["id", "when", "who", "what", "record", "before", "after"],
                    [[r.id, f"{r.at.astimezone(o.tz):%Y-%m-%d %H:%M:%S}", r.actor, r.action,
                      f"{r.entity} {r.entity_id or ''}".strip(), _brief(r.before), _brief(r.after)] for r in rows])
    else:
        err("No audit rows match.")
    if more:
        err(f"Older rows: run again with --before {before}.")


def _brief(values: dict | None) -> str:
    if not values:
        return ""
    return ", ".join(f"{k}={v}" for k, v in values.items())
