"""No back doors round the paywall: every export (CSV, JSON and the console's XLSX), every --json
output and every log line of the agency commands, run on the demo agency, is scanned for the demo
workers' whole numbers and emails. They are found only where the viewer (an employer) unlocked them,
and every such reveal is in the audit log."""

from __future__ import annotations

import json
import logging

from sqlalchemy import create_engine, text

from tests.test_agency_cli import fresh_database_url, ofisi_in_process  # noqa: F401  (fixtures)

ORG = "nyumbani-agency"


def forms(number: str) -> list[str]:
    """A number as it could be written: +254712…, 254712…, 0712…"""
    return [number, number.lstrip("+"), "0" + number[4:]]


def spreadsheets(url: str, folder) -> list[tuple[tuple[str, ...], str]]:
    """The XLSX files the console's export writes (``write_export``), every cell as text."""
    from openpyxl import load_workbook

    from core.agency.exports import write_export
    from db.engine import open_database
    from db.models import Org
    from tests.agency_support import ACTOR

    db = open_database(url)
    out = []
    try:
        with db.session() as s:
            org_id = s.query(Org.id).filter(Org.slug == ORG).scalar()
            for kind in ("workers", "employers", "placements"):
                path = folder / f"{kind}.xlsx"
                assert write_export(s, ACTOR, org_id, kind, path) > 0
                cells = [str(c) for row in load_workbook(path).active.iter_rows(values_only=True) for c in row]
                out.append((("xlsx", kind), "\n".join(cells)))
    finally:
        db.dispose()
    assert "+2547•••••" in out[0][1]  # the workers' sheet has their numbers, masked
    return out


def test_no_worker_number_or_email_leaves_unless_unlocked(ofisi_in_process, fresh_database_url, caplog,  # noqa: F811
                                                          tmp_path):
    ofisi = ofisi_in_process
    caplog.set_level(logging.DEBUG)
    assert ofisi("demo").returncode == 0
    engine = create_engine(fresh_database_url)
    with engine.connect() as c:
        workers = c.execute(text("SELECT w.id, c.phone FROM agency_workers w JOIN contacts c ON c.id = w.contact_id "
                                 "JOIN orgs o ON o.id = w.org_id WHERE o.slug = :s ORDER BY w.id"), {"s": ORG}).all()
        [(unlocked_worker, unlocking_employer)] = c.execute(text("SELECT worker_id, employer_id FROM agency_unlocks")).all()
    engine.dispose()
    assert len(workers) == 10
    secrets: dict[int, list[str]] = {}
    for worker_id, number in workers:
        email = f"Worker.{worker_id}@Example.org"
        edited = ofisi("agency", "workers", "edit", str(worker_id), "--org", ORG, "--email", email,
                       "--availability", "one_month", "--json")
        assert edited.returncode == 0, edited.stderr
        secrets[worker_id] = forms(number) + [email, email.lower()]
    # A bio with a number in it is cleaned on the way in, and the person is told.
    added = ofisi("agency", "workers", "add", "--org", ORG, "--name", "Halima Noor", "--phone", "0711222333",
                  "--bio", "Call me on 0711222333 or halima@example.org", "--json")
    assert added.returncode == 0, added.stderr
    assert "were removed from the bio" in added.stderr
    new_id = json.loads(added.stdout)["id"]
    secrets[new_id] = forms("+254711222333") + ["halima@example.org"]

    runs = [
        ("agency", "workers", "search", "--org", ORG, "--include-placed", "--json", "--limit", "50"),
        ("agency", "workers", "search", "--org", ORG, "--include-placed", "--json",
         "--employer", str(unlocking_employer + 1)),
        ("agency", "employers", "list", "--org", ORG, "--json"),
        ("agency", "placements", "list", "--org", ORG, "--json"),
        ("agency", "placements", "disputes", "--org", ORG, "--json"),
        ("agency", "workers", "unlocks", "--org", ORG, "--json"),
        ("agency", "match", "--org", ORG, "--employer", str(unlocking_employer), "--json"),
        ("agency", "inbox", "list", "--org", ORG, "--json"),
        ("agency", "documents", "list", "--org", ORG, "--json"),
        ("agency", "purchases", "list", "--org", ORG, "--json"),
        ("report", "agency", "--org", ORG, "--json"),
        ("audit", "--org", ORG, "--json", "--all"),
        *[("export", kind, "--org", ORG) + fmt for kind in ("workers", "employers", "placements")
          for fmt in ((), ("--json",))],
        *[("agency", "workers", "show", str(w), "--org", ORG, "--json") for w in secrets],
        *[("agency", "workers", "history", str(w), "--org", ORG, "--json") for w in secrets],
    ]
    seen = []
    for args in runs:
        result = ofisi(*args)
        assert result.returncode == 0, (args, result.stderr)
        seen.append((args, result.stdout + result.stderr))
    seen.extend(spreadsheets(fresh_database_url, tmp_path))
    seen.append(("logs", caplog.text))
    for args, said in seen:
        for worker_id, forms_of in secrets.items():
            leaked = [f for f in forms_of if f in said]
            assert not leaked, (args, worker_id, leaked)

    # The employer who unlocked a worker sees that one number, and the audit log says so.
    shown = ofisi("agency", "workers", "show", str(unlocked_worker), "--org", ORG, "--employer",
                  str(unlocking_employer), "--json")
    worker = json.loads(shown.stdout)["worker"]
    assert worker["phone"] in secrets[unlocked_worker] and worker["email"] in secrets[unlocked_worker]
    reveals = json.loads(ofisi("audit", "--org", ORG, "--what", "agency.reveal", "--json").stdout)
    assert [str(r["entity_id"]) for r in reveals] == [str(unlocked_worker)]
