"""`ofisi person export|erase`: what an organisation holds about one person, and forgetting them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from commands.common import err, fail, org_id_for, unit_of_work

app = typer.Typer(help="A person's data in an organisation: export it, or erase it.", no_args_is_help=True)
WHO = typer.Argument(..., metavar="PHONE|EMAIL", help="The person: a phone as people write it, or an email.")
ORG = typer.Option(..., "--org", help="Organisation slug.")


@app.command("export")
def export(
    who: str = WHO,
    org: str = ORG,
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the JSON here instead of stdout."),
) -> None:
    """Everything the organisation holds about the person, every area, as JSON (secret codes never)."""
    from dataclasses import asdict

    from core.people import export_person

    with unit_of_work() as (session, actor):
        o = org_id_for(session, actor, org)
        data = export_person(session, actor, o.id, who)
    text = json.dumps(asdict(data), ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    err(f"{data.count} records about {data.person} in {', '.join(data.areas) or 'no area'}"
        + (f"; written to {output}." if output else "."))


@app.command("erase")
def erase(
    who: str = WHO,
    org: str = ORG,
    yes: bool = typer.Option(False, "--yes", help="Do not ask; erase."),
) -> None:
    """Delete what the organisation holds about the person; anonymise what its books must keep."""
    from core.people import erase_person, export_person

    with unit_of_work() as (session, actor):
        o = org_id_for(session, actor, org)
        if not yes:
            held = export_person(session, actor, o.id, who)
            err(f"{o.name} holds {held.count} records about {held.person}: "
                + ", ".join(f"{area} {sum(len(v) for v in found.values())}" for area, found in held.areas.items()))
            if not sys.stdin.isatty():
                raise fail("Nothing was erased: pass --yes to erase without being asked.", 2)
            if not typer.confirm("Erase them? This cannot be undone", default=False):
                raise fail("Nothing was erased.", 1)
        done = erase_person(session, actor, o.id, who)
    err(f"Erased {done.person} from {o.name}: deleted {_counts(done.deleted)}; kept anonymised "
        f"{_counts(done.anonymised)}.")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {what}" for what, n in counts.items()) or "nothing"
