"""`ofisi export KIND --org SLUG`: records out as CSV or JSON.

Each area puts its kinds on this group (see `commands.main`).
"""

from __future__ import annotations

import typer

app = typer.Typer(help="Export records as CSV (or --json).", no_args_is_help=True)
