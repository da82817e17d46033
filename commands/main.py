"""The root `ofisi` app and the process entry point."""

from __future__ import annotations

import logging
import sys
from typing import Optional

import typer

from commands import (
    agency_cmd,
    audit_cmd,
    backup_cmd,
    campaigns_cmd,
    chama_cmd,
    community_cmd,
    contacts_cmd,
    db_cmd,
    demo_cmd,
    export_cmd,
    import_cmd,
    jobs_cmd,
    mpesa_cmd,
    org_cmd,
    payments_cmd,
    person_cmd,
    report_cmd,
    salon_cmd,
    secrets_cmd,
    send_cmd,
    templates_cmd,
    user_cmd,
    ussd_cmd,
    vendors_cmd,
)

app = typer.Typer(
    name="ofisi",
    help="Ofisi: the back office for salons, chamas, staffing agencies, MSME programmes and communities.\n\n"
    "Run with no command to open the console.",
    invoke_without_command=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(org_cmd.app, name="org")
app.add_typer(user_cmd.app, name="user")
db_cmd.app.command("backup")(backup_cmd.backup)
db_cmd.app.command("restore")(backup_cmd.restore)
app.add_typer(db_cmd.app, name="db")
app.add_typer(secrets_cmd.app, name="secrets")
app.add_typer(send_cmd.app, name="send")
app.add_typer(jobs_cmd.app, name="jobs")
app.add_typer(payments_cmd.app, name="payments")
app.add_typer(mpesa_cmd.app, name="mpesa")
app.add_typer(salon_cmd.services_app, name="services")
app.add_typer(salon_cmd.bookings_app, name="bookings")
app.add_typer(salon_cmd.salon_app, name="salon")
app.add_typer(ussd_cmd.app, name="ussd")
app.add_typer(chama_cmd.app, name="chama")
app.add_typer(community_cmd.app, name="community")
app.add_typer(campaigns_cmd.app, name="campaigns")
app.add_typer(templates_cmd.app, name="templates")
app.add_typer(vendors_cmd.app, name="vendors")
app.add_typer(import_cmd.app, name="import")
app.add_typer(report_cmd.app, name="report")
app.add_typer(person_cmd.app, name="person")
app.add_typer(contacts_cmd.app, name="contacts")
app.add_typer(agency_cmd.workers_app, name="workers")
app.add_typer(agency_cmd.employers_app, name="employers")
app.add_typer(agency_cmd.placements_app, name="placements")
app.add_typer(agency_cmd.agency_app, name="agency")
agency_cmd.register(export_cmd.app)
app.add_typer(export_cmd.app, name="export")
app.command("demo")(demo_cmd.demo)
app.command("scheduler")(jobs_cmd.scheduler)
app.command("audit")(audit_cmd.audit)


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"ofisi {version('ofisi')}")
        except PackageNotFoundError:  # run from a checkout that was never installed
            typer.echo("ofisi (version unknown: not installed)")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log more on stderr."),
    show_version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                      help="Print Ofisi's version and exit."),
) -> None:
    handler = logging.StreamHandler(sys.stderr)
    line = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler.setFormatter(logging.Formatter(line) if verbose else BriefFormatter(line))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])
    # The log provider exists to show messages; let it speak.
    logging.getLogger("ofisi.outbox.log").setLevel(logging.INFO)
    if ctx.invoked_subcommand is None:
        console(database_url=None)


@app.command()
def console(
    database_url: Optional[str] = typer.Option(
        None, "--database-url", help="Open this database instead of OFISI_DATABASE_URL."
    ),
) -> None:
    """Open the staff console (the same as `ofisi` alone)."""
    from console.app import run_console

    run_console(database_url)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0 behind a proxy)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    workers: int = typer.Option(1, "--workers", min=1, max=64,
                                help="Processes sharing the port (PostgreSQL only); about one per core."),
    allow_unsigned_callbacks: bool = typer.Option(
        False, "--allow-unsigned-callbacks",
        help="Serve on a non-loopback address without the callback_token secret (only when something in "
             "front of the gateway already checks who calls)."),
) -> None:
    """Run the HTTP gateway that Africa's Talking, M-Pesa and lead forms call back."""
    from ussd.server import serve as run_gateway

    run_gateway(host, port, workers=workers, allow_unsigned_callbacks=allow_unsigned_callbacks)


class BriefFormatter(logging.Formatter):
    """One line a record on stderr: a logged failure's traceback goes to the errors log
    (``--verbose`` shows it instead), so a person at the terminal reads what happened
    and where the details are, not a stack."""

    def formatException(self, ei) -> str:
        return f"(details were written to {_log_unexpected(ei[1])})"


def _log_unexpected(exc: BaseException) -> str:
    """Write the traceback to a file for the operator; return where it went."""
    import traceback
    from pathlib import Path

    import platformdirs

    path = Path(platformdirs.user_log_dir("ofisi", appauthor=False)) / "errors.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write("".join(traceback.format_exception(exc)) + "\n")
        return str(path)
    except OSError:
        return "nowhere (the log directory is not writable)"


def run() -> None:
    """Entry point: domain refusals exit 1 with one line; usage errors exit 2."""
    from config.errors import OfisiError

    try:
        app(standalone_mode=True)
    except OfisiError as exc:
        typer.echo(f"ofisi: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("ofisi: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug: keep the traceback off the screen
        from sqlalchemy.exc import OperationalError

        if isinstance(exc, OperationalError):
            typer.echo(f"ofisi: cannot reach the database: {exc.orig}".splitlines()[0], err=True)
            sys.exit(1)
        where = _log_unexpected(exc)
        typer.echo(f"ofisi: unexpected error ({type(exc).__name__}); details were written to {where}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    run()
