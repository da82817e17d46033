"""`ofisi jobs run-due` and `ofisi scheduler`."""

from __future__ import annotations

import logging
from typing import Optional

import typer

from commands.common import err, print_json

app = typer.Typer(help="Due work: reminders, invoices, fines, scheduled campaigns.", no_args_is_help=True)
log = logging.getLogger("ofisi.scheduler")


def _run_jobs(limit: int | None = None):
    from core.jobs import run_due
    from core.registry import load_areas
    from db.engine import open_database

    load_areas()
    database = open_database()
    try:
        return run_due(database, limit=limit)
    finally:
        database.dispose()


@app.command("run-due")
def run_due_cmd(
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Run at most this many jobs."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
) -> None:
    """Run every job that is due; running it twice changes nothing the second time."""
    summary = _run_jobs(limit)
    if as_json:
        print_json(summary)
    else:
        err(summary.line())


def scheduler(
    every: int = typer.Option(60, "--every", min=5, help="Seconds between runs."),
) -> None:
    """Run `send due` and `jobs run-due` on an interval, for sites without cron."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    from config import OfisiError

    def send() -> None:
        from commands.send_cmd import due

        try:
            due(limit=None, as_json=False, every=None)
        except (OfisiError, SystemExit) as exc:
            log.warning("send due: %s", exc)

    def jobs() -> None:
        try:
            err(_run_jobs().line())
        except OfisiError as exc:
            log.warning("jobs run-due: %s", exc)

    sched = BlockingScheduler(timezone="UTC")
    # coalesce + one instance: a slow run is never overlapped by the next one.
    sched.add_job(send, "interval", seconds=every, id="send-due", coalesce=True, max_instances=1)
    sched.add_job(jobs, "interval", seconds=every, id="jobs-run-due", coalesce=True, max_instances=1)
    err(f"Sending and running due work every {every}s; Ctrl-C stops.")
    try:
        send()
        jobs()
        sched.start()
    except (KeyboardInterrupt, SystemExit):
        err("Scheduler stopped.")
