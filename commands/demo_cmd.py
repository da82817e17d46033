"""`ofisi demo`: one organisation of each kind to look around in."""

from __future__ import annotations

import typer

from commands.common import err, print_table, unit_of_work


def demo(
    reset: bool = typer.Option(False, "--reset", help="Remove the demo organisations and start them afresh."),
) -> None:
    """Create demo organisations (salon, chama, agency, campaigns, community) and print their logins."""
    from core.demo import seed_demo, ussd_phone

    with unit_of_work() as (session, actor):
        result = seed_demo(session, actor, reset=reset)
        phone = ussd_phone(session)
    err("Created the demo organisations." if result.created else "The demo organisations are already there.")
    print_table(
        f"Demo logins (password for all: {result.password})",
        ["email", "organisation", "role"],
        [[login.email, login.org, login.role] for login in result.logins],
    )
    err("Open the console with `ofisi` and sign in with any of these.")
    if phone:
        err(f"Try the chama's feature-phone menu with `ofisi ussd dial {phone}`.")
