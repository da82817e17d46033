"""`ofisi send due`: dispatch the outbox (from cron every minute, or as a service with `--every`)."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Optional

import typer

from commands.common import err, print_json

app = typer.Typer(help="Send what the outbox holds.", no_args_is_help=True)


@app.command("due")
def due(
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Send at most this many."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
    every: Optional[float] = typer.Option(
        None, "--every", min=0.2, metavar="SECONDS",
        help="Keep sending until stopped (SIGTERM or Ctrl-C): a run, then the next this many seconds later. "
             "Several of these, on one host or many, never send a message twice."),
) -> None:
    """Send every message that is due; safe to run from several hosts at once."""
    from config import get_settings
    from core.outbox import RetryPolicy, send_due
    from core.providers import build_providers
    from db.engine import open_database

    settings = get_settings()
    providers = build_providers(settings)
    database = open_database()

    def run():
        return send_due(
            database,
            providers,
            limit=limit,
            batch_size=settings.send_batch_size,
            policy=RetryPolicy(settings.send_max_attempts, settings.send_retry_base_seconds,
                               settings.send_retry_max_seconds),
            stale_after=timedelta(seconds=settings.send_stale_after_seconds),
            parallel=settings.send_parallel,
            rate_limits={"sms": settings.sms_rate_per_second, "email": settings.email_rate_per_second,
                         "whatsapp": settings.whatsapp_rate_per_second},
        )

    try:
        if every is not None:
            _keep_sending(run, every, as_json)
            return
        summary = run()
    finally:
        database.dispose()
        for provider in providers.values():
            provider.close()
    _report(summary, as_json, quiet=False)
    if summary.stopped:
        sys.exit(1)


def _report(summary, as_json: bool, *, quiet: bool) -> None:
    """The run's summary (a loop's quiet runs, that found nothing to do, say nothing)."""
    idle = not any(value for name, value in summary.as_dict().items() if name not in ("stopped", "waiting"))
    if quiet and idle and not summary.stopped:
        return
    if as_json:
        print_json(summary.as_dict())
    else:
        err(summary.line())
    if summary.stopped:
        err(f"Stopped: {summary.stopped}")


def _keep_sending(run, every: float, as_json: bool) -> None:
    """``run()`` every ``every`` seconds until SIGTERM or Ctrl-C; a run that stopped on a setting to
    fix (credentials, a provider down) waits longer before the next, instead of asking every second.
    SIGTERM stops the run in hand as Ctrl-C does: claims not yet sent go back to the queue."""
    import signal
    import time

    signal.signal(signal.SIGTERM, signal.default_int_handler)
    err(f"Sending what is due every {every:g}s; SIGTERM or Ctrl-C stops.")
    try:
        while True:
            summary = run()
            _report(summary, as_json, quiet=True)
            time.sleep(max(every, PAUSE_AFTER_STOP_S) if summary.stopped else every)
    except KeyboardInterrupt:
        err("Sender stopped.")


PAUSE_AFTER_STOP_S = 30.0


@app.command("unknown")
def unknown(
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON data on stdout."),
) -> None:
    """List messages whose fate is unknown (the sender stopped mid-send, or the provider's reply was lost)."""
    from commands.common import print_table, unit_of_work
    from core.orgs import get_org
    from core.outbox import list_messages

    with unit_of_work() as (session, actor):
        org_view = get_org(session, actor, org)
        rows = list_messages(session, actor, org_view.id, status="unknown", limit=1000)
    if as_json:
        print_json(rows)
        return
    if not rows:
        err(f"No messages of unknown fate in {org_view.name}.")
        return
    print_table(f"Unknown fate in {org_view.name}: check the provider's dashboard, then settle each",
                ["id", "to", "attempts", "why", "text"],
                [[m.id, m.to, m.attempts, m.last_error, m.body[:40]] for m in rows])


@app.command("settle")
def settle(
    message_id: int = typer.Argument(..., help="The message id from `ofisi send unknown`."),
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    sent: bool = typer.Option(None, "--sent/--resend", help="It went out (--sent), or queue it again (--resend)."),
) -> None:
    """Settle a message of unknown fate: mark it sent, or queue it to be sent again."""
    from commands.common import unit_of_work
    from core.orgs import get_org
    from core.outbox import settle_unknown

    if sent is None:
        err("Say what happened: --sent if the provider shows it went out, --resend to send it again.")
        raise typer.Exit(2)
    with unit_of_work() as (session, actor):
        org_view = get_org(session, actor, org)
        message = settle_unknown(session, actor, org_view.id, message_id, sent=sent)
    err(f"Message {message.id} is now {message.status}.")


@app.command("sms")
def sms_cmd(
    text: str = typer.Argument(..., help="The message."),
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    to: str = typer.Option(..., "--to", help="The phone, as people write it (0712 345 678)."),
    as_json: bool = typer.Option(False, "--json", help="Print the queued message as JSON on stdout."),
) -> None:
    """Queue one SMS from the organisation to a person (refused if they opted out); `send due` sends it."""
    from commands.common import unit_of_work
    from core.orgs import get_org
    from core.outbox import send_message

    with unit_of_work() as (session, actor):
        org_view = get_org(session, actor, org)
        message = send_message(session, actor, org_view.id, to=to, body=text)
    if as_json:
        print_json(message)
    else:
        err(f"Message {message.id} to {message.to} is {message.status}; `ofisi send due` sends it.")
