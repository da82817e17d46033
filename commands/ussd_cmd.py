"""`ofisi ussd dial PHONE`: a feature phone in the terminal, on the real state machine."""

from __future__ import annotations

import sys
import uuid

import typer

from commands.common import err

app = typer.Typer(help="Feature-phone channel.", no_args_is_help=True)


@app.command("dial")
def dial(
    phone: str = typer.Argument(..., help="The phone that dials, e.g. 0712345678 or +254712345678."),
    service_code: str = typer.Option("*384#", "--service-code", help="The USSD code dialled."),
) -> None:
    """Dial the USSD service: each screen is shown, each line you type is your reply.

    Works with piped input too (`printf '1234\\n1\\n' | ofisi ussd dial 0712345678`).
    """
    from core.registry import load_areas
    from db.engine import open_database
    from ussd.callback import answer_dial
    from ussd.gateway import load_gateway_modules

    load_areas()
    load_gateway_modules()
    database = open_database()
    session_id = f"dial-{uuid.uuid4().hex}"
    inputs: list[str] = []
    interactive = sys.stdin.isatty()
    try:
        while True:
            answer = answer_dial(database, session_id=session_id, phone=phone, service_code=service_code,
                                 text="*".join(inputs))
            kind, _, body = answer.partition(" ")
            typer.echo(body)
            if kind == "END":
                return
            typer.echo("")
            if interactive:
                typer.echo("> ", nl=False)
            line = sys.stdin.readline()
            if not line:
                err("(input ended; hanging up)")
                return
            inputs.append(line.strip())
            if not interactive:
                typer.echo(f"> {inputs[-1]}")
    finally:
        database.dispose()
