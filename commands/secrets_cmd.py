"""`ofisi secrets set|get|delete NAME`: secrets in the OS keyring, service `ofisi`."""

from __future__ import annotations

import sys

import typer

from commands.common import err

app = typer.Typer(
    help="Keep provider secrets in the OS keyring (environment variables win over it).",
    no_args_is_help=True,
)


@app.command("set")
def set_(
    name: str = typer.Argument(..., help="at_api_key, mpesa_consumer_key, mpesa_consumer_secret, "
                               "mpesa_passkey, mpesa_initiator_name, mpesa_security_credential, smtp_url, "
                               "whatsapp_token or callback_token."),
) -> None:
    """Store a secret; the value is read from a hidden prompt or standard input."""
    from config import secret_name, set_secret

    key = secret_name(name)
    if sys.stdin.isatty():
        value = typer.prompt(f"Value for {key}", hide_input=True)
    else:
        value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        err("No value given; nothing was stored.")
        raise typer.Exit(2)
    set_secret(key, value)
    err(f"Stored {key} in the OS keyring.")


@app.command("get")
def get(
    name: str = typer.Argument(...),
    reveal: bool = typer.Option(False, "--reveal", help="Print the value itself on stdout."),
) -> None:
    """Say whether a secret is set and where it comes from (the value stays hidden)."""
    from config import SECRETS, get_settings, secret_name

    key = secret_name(name)
    settings = get_settings()
    value = settings.secret(key)  # refuses with how to set it when missing
    if reveal:
        typer.echo(value.reveal())
        return
    err(f"{key} ({SECRETS[key]}) is set, from the {settings.secret_origin(key)}.")


@app.command("delete")
def delete(name: str = typer.Argument(...)) -> None:
    """Remove a secret from the OS keyring."""
    from config import delete_secret, secret_name

    key = secret_name(name)
    if delete_secret(key):
        err(f"Removed {key} from the OS keyring.")
    else:
        err(f"{key} was not in the OS keyring.")
