"""`ofisi user add|remove|password|otp`."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from commands.common import err, fail, unit_of_work

app = typer.Typer(help="Manage staff logins.", no_args_is_help=True)


def _read_password(from_stdin: bool) -> str | None:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise fail("--password-stdin was given but standard input was empty.", 2)
        return password
    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password
    return None


@app.command("add")
def add(
    email: str = typer.Argument(..., help="The staff member's email; it is their login."),
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    role: str = typer.Option(..., "--role", help="Role in that organisation (depends on its kind)."),
    name: Optional[str] = typer.Option(None, "--name"),
    phone: Optional[str] = typer.Option(None, "--phone"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    otp: Optional[bool] = typer.Option(None, "--otp/--no-otp",
                                       help="Ask for a code by SMS (or email) after the password; first sends one to confirm the address."),
) -> None:
    """Add a staff login to an organisation, or change their role there."""
    from core.orgs import get_org
    from core.users import add_user

    password = _read_password(password_stdin)
    with unit_of_work() as (session, actor):
        org_view = get_org(session, actor, org)
        user = add_user(session, actor, email, org_id=org_view.id, role=role, name=name, phone=phone,
                        password=password, otp=otp)
    err(added_line(user, role, org_view.name, password_given=password is not None))
    if otp is not None:
        err(_otp_line(user))


def added_line(user, role: str, org_name: str, *, password_given: bool) -> str:
    """What `user add` did, in one sentence: a new login, or a membership on a login that is someone's own."""
    if user.created:
        if password_given:
            return f"{user.email} is now {role} of {org_name}."
        return (f"{user.email} is now {role} of {org_name}, with no password yet: set one with "
                f"`ofisi user password {user.email}` to let them sign in.")
    if user.joined:
        done = f"added as {role} of {org_name}"
    elif user.role_was == role:
        done = f"already {role} of {org_name}"
    else:
        done = f"now {role} of {org_name} (was {user.role_was})"
    return f"{user.email} already has a login; {done}; their password is unchanged."


@app.command("remove")
def remove(
    email: str = typer.Argument(..., help="The staff member's email."),
    org: str = typer.Option(..., "--org", help="Organisation slug."),
) -> None:
    """Take a staff member out of an organisation; open consoles notice at once."""
    from core.orgs import get_org
    from core.users import remove_membership

    with unit_of_work() as (session, actor):
        org_view = get_org(session, actor, org)
        remove_membership(session, actor, email, org_id=org_view.id)
    err(f"{email} is no longer staff of {org_view.name}.")


@app.command("password")
def password(
    email: str = typer.Argument(..., help="The staff member's email."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Set or reset a staff login's password (lifts a lockout); the operator's door, not an org admin's."""
    from core.users import set_password

    new = _read_password(password_stdin)
    if new is None:
        raise fail("No password given: type it at the prompt or pass --password-stdin.", 2)
    with unit_of_work() as (session, actor):
        user = set_password(session, actor, email, new)
    err(f"{user.email} has a new password.")


def _otp_line(user) -> str:
    if user.code_sent_to:
        return (f"A code went to {user.code_sent_to} to confirm it; when they have it, run "
                f"`ofisi user otp {user.email} on --code CODE` to turn the second factor on.")
    if user.otp_required:
        return f"{user.email} now needs a sign-in code after the password."
    return f"{user.email} signs in with the password alone."


@app.command("otp")
def second_factor(
    email: str = typer.Argument(..., help="The staff member's email."),
    state: str = typer.Argument(..., help="on or off."),
    code: Optional[str] = typer.Option(None, "--code", help="The code sent to confirm their phone or email."),
) -> None:
    """Turn the sign-in code after the password on (once their phone or email is confirmed) or off."""
    from core.users import set_second_factor

    if state not in ("on", "off"):
        raise fail(f"{state!r} is not on or off.", 2)
    with unit_of_work() as (session, actor):
        user = set_second_factor(session, actor, email, on=state == "on", code=code)
    err(_otp_line(user))
