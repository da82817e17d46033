"""Agency staff's day from the command line, start to end: add and edit a worker and an employer, match,
propose, place, record the fee, refund half after a dispute, see the placements list, the report and the
export agree, create a package, sell it (marked paid with a reference) and unlock a contact; nothing
printed the worker's number before the unlock."""

from __future__ import annotations

import csv
import io
import json

from tests.test_agency_cli import fresh_database_url, ofisi_in_process  # noqa: F401  (fixtures)

ORG = ("--org", "pilot")
NUMBER = ["+254712000101", "254712000101", "0712000101", "712000101"]


def test_a_placement_from_proposal_to_an_unlocked_contact(ofisi_in_process):  # noqa: F811
    ofisi = ofisi_in_process
    said: list[str] = []

    def run(*args: str) -> str:
        result = ofisi(*args)
        assert result.returncode == 0, (args, result.stderr)
        said.append(result.stdout + result.stderr)
        return result.stdout

    run("org", "create", "pilot", "--kind", "agency", "--name", "Pilot Agency")
    worker = json.loads(run("agency", "workers", "add", *ORG, "--name", "Achieng Otieno", "--phone", "0712000101",
                            "--location", "Nairobi", "--salary", "9000", "--skill", "cooking", "--json"))
    run("agency", "workers", "edit", str(worker["id"]), *ORG, "--skill", "cooking", "--skill", "childcare",
        "--salary", "10,000", "--email", "achieng@example.org")
    run("agency", "workers", "verify", str(worker["id"]), *ORG)
    employer = json.loads(run("agency", "employers", "add", *ORG, "--name", "Joy Kamau", "--phone", "0712000201",
                              "--json"))
    run("agency", "employers", "edit", str(employer["id"]), *ORG, "--location", "Karen")
    [match] = json.loads(run("agency", "match", *ORG, "--employer", str(employer["id"]), "--skill", "childcare",
                             "--salary-max", "12000", "--json"))
    assert match["worker"]["id"] == worker["id"] and "has childcare" in match["reasons"]

    placement = json.loads(run("agency", "placements", "add", *ORG, "--worker", str(worker["id"]), "--employer",
                               str(employer["id"]), "--fee", "8000", "--json"))
    pid = str(placement["id"])
    run("agency", "placements", "move", pid, *ORG, "--status", "interview")
    run("agency", "placements", "move", pid, *ORG, "--status", "placed")
    run("agency", "placements", "pay", pid, *ORG, "--amount", "8000", "--reference", "QFEE8000")
    run("agency", "placements", "dispute", pid, *ORG, "--notes", "Left after four days")
    [dispute] = json.loads(run("agency", "placements", "disputes", *ORG, "--open", "--json"))
    run("agency", "placements", "resolve", str(dispute["id"]), *ORG, "--resolution", "Refunded half the fee",
        "--refund", "4000", "--reference", "QREF4000")

    [listed] = json.loads(run("agency", "placements", "list", *ORG, "--json"))
    total = json.loads(run("report", "agency", *ORG, "--json"))["total"]
    [exported] = list(csv.DictReader(io.StringIO(run("export", "placements", *ORG))))
    assert (listed["received_minor"], listed["refunded_minor"], listed["owed_minor"], listed["status"]) == \
        (800_000, 400_000, 0, "placed")
    assert (total["received_minor"], total["refunded_minor"], total["owed_minor"]) == (800_000, 400_000, 0)
    assert (exported["received"], exported["refunded"], exported["owed"]) == ("8000.00", "4000.00", "0.00")

    run("agency", "packages", "add", *ORG, "--name", "Three contacts", "--price", "1500", "--contacts", "3")
    [package] = json.loads(run("agency", "packages", "list", *ORG, "--json"))
    run("agency", "purchases", "buy", *ORG, "--employer", str(employer["id"]), "--package", str(package["id"]))
    [purchase] = json.loads(run("agency", "purchases", "list", *ORG, "--json"))
    run("agency", "purchases", "pay", str(purchase["id"]), *ORG, "--reference", "QPKG1500")
    assert json.loads(run("agency", "employers", "show", str(employer["id"]), *ORG, "--json"))["credits_left"] == 3
    run("agency", "workers", "search", *ORG, "--include-placed")
    run("agency", "workers", "show", str(worker["id"]), *ORG)

    for text in said:  # everything printed before the unlock
        assert not any(n in text for n in NUMBER + ["achieng@example.org"]), text
    unlocked = ofisi("agency", "workers", "unlock", str(worker["id"]), *ORG, "--employer", str(employer["id"]))
    assert unlocked.returncode == 0 and unlocked.stdout.strip() == "+254712000101"
    assert "2 credits left" in unlocked.stderr
