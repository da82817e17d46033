"""`ofisi send due`: dispatch the outbox (cron runs this every minute)."""

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
) -> None:
    """Send every message that is due; safe to run from several hosts at once."""
    from config import get_settings
    from core.outbox import RetryPolicy, send_due
    from core.providers import build_providers
    from db.engine import open_database

    settings = get_settings()
    providers = build_providers(settings)
    database = open_database()
    try:
        summary = send_due(
            database,
            providers,
            limit=limit,
            batch_size=settings.send_batch_size,
            policy=RetryPolicy(settings.send_max_attempts, settings.send_retry_base_seconds,
                               settings.send_retry_max_seconds),
            stale_after=timedelta(seconds=settings.send_stale_after_seconds),
        )
    finally:
        database.dispose()
        for provider in providers.values():
            provider.close()
    if as_json:
        print_json(summary.as_dict())
    else:
        err(summary.line())
    if summary.stopped:
        err(f"Stopped: {summary.stopped}")
        sys.exit(1)
