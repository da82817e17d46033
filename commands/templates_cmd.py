"""`ofisi templates …`: the org's saved message templates (SMS, email, WhatsApp).

A template is checked when it is saved: unknown variables, unsafe attributes and a missing
email subject are refused, naming them. ``--dlt-template-id`` is the template's DLT
registration (SMS to India); ``--wa-template``, ``--wa-param`` (in order) and ``--wa-language``
name an approved WhatsApp template.
"""

from __future__ import annotations

from typing import Optional

import typer

from commands.common import err, org_id_for, print_json, print_table, unit_of_work

app = typer.Typer(help="Message templates: add, list, show, edit, delete.", no_args_is_help=True)

ORG = typer.Option(..., "--org", help="Organisation slug.")
JSON = typer.Option(False, "--json", help="Print the data as JSON on stdout.")
TEMPLATE = typer.Argument(..., help="The template's name or id.")


def _save(org: str, name: str, *, channel: str | None, body: str | None, subject: str | None,
          wa_template: str | None, wa_params: list[str] | None, wa_language: str | None,
          dlt_template_id: str | None, existing: bool, as_json: bool) -> None:
    from core.templates import get_template, save_template

    with unit_of_work() as (session, actor):
        o = org_id_for(session, actor, org)
        before = get_template(session, actor, o.id, name) if existing else None
        saved = save_template(
            session, actor, o.id, name=before.name if before else name,
            channel=channel or (before.channel if before else "sms"),
            body=body if body is not None else (before.body if before else ""),
            subject=subject if subject is not None else (before.subject if before else None),
            whatsapp_template_name=wa_template if wa_template is not None else (
                before.whatsapp_template_name if before else None),
            whatsapp_params=wa_params if wa_params else (before.whatsapp_params if before else ()),
            dlt_template_id=dlt_template_id, whatsapp_language=wa_language)
    if as_json:
        print_json(saved)
    else:
        err(f"Template {saved.id} ({saved.name}, {saved.channel}) is saved.")


CHANNEL = typer.Option(None, "--channel", help="sms, email or whatsapp.")
BODY = typer.Option(None, "--body", help="The text (HTML for email); {{ first_name }} and the like are filled in.")
SUBJECT = typer.Option(None, "--subject", help="Email subject; may use variables.")
WA_TEMPLATE = typer.Option(None, "--wa-template", help="An approved WhatsApp template's name.")
WA_PARAM = typer.Option(None, "--wa-param", help="A WhatsApp template parameter, in order (repeat).")
WA_LANGUAGE = typer.Option(None, "--wa-language", help="The approved WhatsApp template's language: en, hi, sw…")
DLT = typer.Option(None, "--dlt-template-id", help="The template's DLT template ID (SMS to India).")


@app.command("add")
def add(name: str = typer.Argument(..., help="What the template is called."), org: str = ORG,
        channel: str = typer.Option("sms", "--channel", help="sms, email or whatsapp."), body: Optional[str] = BODY,
        subject: Optional[str] = SUBJECT, wa_template: Optional[str] = WA_TEMPLATE,
        wa_param: Optional[list[str]] = WA_PARAM, wa_language: Optional[str] = WA_LANGUAGE,
        dlt_template_id: Optional[str] = DLT, as_json: bool = JSON) -> None:
    """Save a new template (an existing name is changed, as `edit` does)."""
    _save(org, name, channel=channel, body=body, subject=subject, wa_template=wa_template, wa_params=wa_param,
          wa_language=wa_language, dlt_template_id=dlt_template_id, existing=False, as_json=as_json)


@app.command("edit")
def edit(template: str = TEMPLATE, org: str = ORG, channel: Optional[str] = CHANNEL, body: Optional[str] = BODY,
         subject: Optional[str] = SUBJECT, wa_template: Optional[str] = WA_TEMPLATE,
         wa_param: Optional[list[str]] = WA_PARAM, wa_language: Optional[str] = WA_LANGUAGE,
         dlt_template_id: Optional[str] = DLT, as_json: bool = JSON) -> None:
    """Change what is given; the rest stays."""
    _save(org, template, channel=channel, body=body, subject=subject, wa_template=wa_template, wa_params=wa_param,
          wa_language=wa_language, dlt_template_id=dlt_template_id, existing=True, as_json=as_json)


@app.command("list")
def list_(org: str = ORG, as_json: bool = JSON) -> None:
    """The org's templates by name."""
    from core.templates import list_templates

    with unit_of_work() as (session, actor):
        o = org_id_for(session, actor, org)
        rows = list_templates(session, actor, o.id)
    if as_json:
        print_json(rows)
        return
    print_table(f"Templates of {o.name}", ["id", "name", "channel", "subject", "DLT id", "text"],
                [[t.id, t.name, t.channel, t.subject or "", t.dlt_template_id or "",
                  (t.body or f"[{t.whatsapp_template_name}]")[:50]] for t in rows])


@app.command("show")
def show(template: str = TEMPLATE, org: str = ORG,
         vendor: Optional[int] = typer.Option(None, "--vendor", help="Show it filled in for this vendor (its id)."),
         as_json: bool = JSON) -> None:
    """One template in full, or as one vendor would receive it."""
    from core.templates import get_template, preview_template

    with unit_of_work() as (session, actor):
        o = org_id_for(session, actor, org)
        t = get_template(session, actor, o.id, template)
        filled = preview_template(session, actor, o.id, template, vendor) if vendor is not None else None
    if filled is not None:
        if as_json:
            print_json(filled)
            return
        rows = [["subject", filled.subject], ["text", filled.text],
                ["WhatsApp parameters", " | ".join(filled.whatsapp_params)],
                ["SMS", f"{filled.sms.segments} part(s), {filled.sms.encoding}" if filled.sms else None]]
        print_table(f"Template {t.name} for vendor {vendor}", ["field", "value"], [r for r in rows if r[1]])
        return
    if as_json:
        print_json(t)
        return
    fields = [("id", t.id), ("name", t.name), ("channel", t.channel), ("subject", t.subject),
              ("DLT template id", t.dlt_template_id), ("WhatsApp template", t.whatsapp_template_name),
              ("WhatsApp language", t.whatsapp_language), ("WhatsApp parameters", " | ".join(t.whatsapp_params)),
              ("text", t.body)]
    print_table(f"Template {t.name}", ["field", "value"], [[k, v] for k, v in fields if v not in (None, "")])


@app.command("delete")
def delete(template: str = TEMPLATE, org: str = ORG) -> None:
    """Remove a template no unfinished campaign uses."""
    from core.templates import delete_template

    with unit_of_work() as (session, actor):
        o = org_id_for(session, actor, org)
        gone = delete_template(session, actor, o.id, template)
    err(f"Template {gone.id} ({gone.name}) is deleted.")
