"""Message templates for every kind of org: Jinja2, sandboxed, strict.

A template sees the recipient's ``name``, ``first_name``, ``phone`` and
``email``, the org's ``org_name``, and the fields of the record it is sent
to (a vendor's ``gstin`` and ``district``, a member's number …; an area
announces its fields with :func:`register_variables`). Templates run in
Jinja2's ``SandboxedEnvironment``, so ``{{ name.__class__ }}`` and the like
are refused, and with ``StrictUndefined``, so a missing value is an error and
never an empty gap in a message. Variables are checked when a template is
saved: an unknown one is named.

SMS: :func:`sms_segments` says how long a text is and how many parts it is
sent in (GSM-7: 160 in one, 153 per part; UCS-2, as soon as one character is
outside GSM-7: 70 and 67). Email bodies are HTML, autoescaped, with a
plain-text part made from them. WhatsApp messages outside the 24-hour window
must be an approved template: its name plus parameters, each itself a
template.

Stored templates (``db.models_vendors.Template``) are one per org and name;
:func:`save_template` checks them, :func:`preview_template` renders one for a
chosen vendor.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any, NamedTuple

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, UndefinedError, meta, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actors import Actor
from core.errors import InvalidInput, NotFound
from core.gsm7 import gsm7_septets
from core.numbers import whole_number
from core.permissions import PERMISSIONS, grant, require
from db.models_campaigns import TemplateRegistration
from db.models_vendors import CHANNELS, Template

STANDARD_VARIABLES = frozenset({"name", "first_name", "phone", "email", "org_name"})
RECORD_VARIABLES: dict[str, frozenset[str]] = {}  # org kind -> the fields of the records its messages go to
RecordReader = Callable[[Session, Actor, int, int], Any]
RECORD_READERS: dict[str, RecordReader] = {}  # org kind -> how to read one of those records

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

for _kind, _roles in PERMISSIONS.items():
    grant(_kind, "*", "templates.read")
    grant(_kind, [role for role, perms in _roles.items() if "messages.send" in perms], "templates.write")


def register_variables(kind: str, names: Iterable[str], record: RecordReader | None = None) -> None:
    """Let templates of orgs of ``kind`` use these record fields; ``record`` reads one record
    (``record(session, actor, org_id, record_id)``) for :func:`preview_template`. The area
    registers here, so this module never imports an area."""
    RECORD_VARIABLES[kind] = RECORD_VARIABLES.get(kind, frozenset()) | frozenset(names)
    if record is not None:
        RECORD_READERS[kind] = record


def allowed_variables(kind: str) -> frozenset[str]:
    from core.registry import load_areas

    load_areas()  # the areas register their records' fields on import
    return STANDARD_VARIABLES | RECORD_VARIABLES.get(kind, frozenset())


# ---------------------------------------------------------------- rendering

_TEXT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
_HTML = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)


@lru_cache(maxsize=512)
def _compiled(text: str, as_html: bool):
    try:
        return (_HTML if as_html else _TEXT).from_string(text)
    except TemplateSyntaxError as exc:
        raise InvalidInput(f"The template has a mistake on line {exc.lineno}: {exc.message}.") from None


def check_template(text: str, allowed_variables: Iterable[str]) -> list[str]:
    """What is wrong with ``text``: syntax errors explained, unknown variables named (empty: fine)."""
    try:
        parsed = _TEXT.parse(text or "")
    except TemplateSyntaxError as exc:
        return [f"line {exc.lineno}: {exc.message}"]
    allowed = set(allowed_variables)
    unknown = sorted(meta.find_undeclared_variables(parsed) - allowed)
    problems = [f"{{{{ {name} }}}} is not a variable here; use one of: {', '.join(sorted(allowed))}"
                for name in unknown]
    return problems + [f"{name!r} is not something a template may read" for name in _unsafe_names(parsed)]


def _unsafe_names(parsed: nodes.Template) -> list[str]:
    """The private attributes (``__class__``, ``_x``) a template reaches for: the sandbox would
    refuse them at send, so saving refuses them first."""
    found = [n.attr for n in parsed.find_all(nodes.Getattr) if n.attr.startswith("_")]
    found += [n.arg.value for n in parsed.find_all(nodes.Getitem)
              if isinstance(n.arg, nodes.Const) and isinstance(n.arg.value, str) and n.arg.value.startswith("_")]
    return sorted(set(found))


def render(text: str, context: Mapping[str, Any], *, as_html: bool = False) -> str:
    """``text`` filled from ``context``; a missing value or a forbidden access is refused, not left blank."""
    try:
        return _compiled(text, as_html).render(context)
    except SecurityError as exc:
        raise InvalidInput(f"The template tries something templates may not do ({exc}).") from None
    except UndefinedError as exc:
        raise InvalidInput(f"The template needs a value it was not given: {exc.message}.") from None
    except TemplateError as exc:
        raise InvalidInput(f"The template cannot be filled in: {exc}.") from None


class Blank(Undefined):
    """A field the recipient has but left empty: renders as nothing (never ``None``), and
    ``{{ owner_name | default("there") }}`` puts the default in its place."""

    __slots__ = ()


def _value(key: str, value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return Blank(name=key)
    return value


def context_for(*, org_name: str, name: str, phone: str | None = None, email: str | None = None,
                record: Mapping[str, Any] | Any = None) -> dict[str, Any]:
    """What a template sees for one recipient: the standard names, then the record's own fields.

    ``record`` is a mapping or anything with ``template_fields()`` (a vendor, a member…). An
    empty field is :class:`Blank`, so it renders as nothing and takes a ``default``.
    """
    fields = record.template_fields() if hasattr(record, "template_fields") else dict(record or {})
    name = " ".join((name or "").split())
    standard = {"name": name, "first_name": name.split(" ", 1)[0] if name else "", "phone": phone or "",
                "email": email or "", "org_name": org_name}
    return {key: _value(key, value) for key, value in {**fields, **standard}.items()}


class SmsLength(NamedTuple):
    length: int      # GSM-7 septets, or UTF-16 code units in UCS-2
    segments: int
    encoding: str    # "GSM-7" or "UCS-2"


def sms_segments(text: str) -> SmsLength:
    """How long an SMS is and in how many parts it goes: (length, segments, encoding)."""
    septets = gsm7_septets(text)
    if septets is not None:
        single, part, length, encoding = GSM7_SINGLE, GSM7_PART, septets, "GSM-7"
    else:
        single, part, length, encoding = UCS2_SINGLE, UCS2_PART, len(text.encode("utf-16-le")) // 2, "UCS-2"
    segments = 0 if length == 0 else 1 if length <= single else math.ceil(length / part)
    return SmsLength(length, segments, encoding)


class _PlainText(HTMLParser):
    BREAKS = {"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str | None] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "head"):
            self.skip += 1
        elif tag in self.BREAKS:
            self.parts.append("\n")
            if tag == "li":
                self.parts.append("- ")
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "head"):
            self.skip = max(0, self.skip - 1)
        elif tag in ("p", "div", "table", "ul", "ol") or tag.startswith("h") and tag[1:].isdigit():
            self.parts.append("\n")
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href and not href.startswith("mailto:"):
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """The plain-text part of an HTML email: tags gone, links kept in brackets, paragraphs kept."""
    parser = _PlainText()
    parser.feed(markup)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


@dataclass(frozen=True)
class RenderedMessage:
    channel: str
    text: str                      # the SMS / WhatsApp text, or the email's plain-text part
    subject: str | None = None
    html: str | None = None        # email only
    sms: SmsLength | None = None   # SMS only
    whatsapp_template_name: str | None = None
    whatsapp_params: tuple[str, ...] = ()


def render_message(channel: str, body: str, context: Mapping[str, Any], *, subject: str | None = None,
                   whatsapp_template_name: str | None = None,
                   whatsapp_params: Iterable[str] = ()) -> RenderedMessage:
    """One recipient's message on ``channel``: what the outbox will send."""
    if channel == "sms":
        text = render(body, context).strip()
        return RenderedMessage("sms", text, sms=sms_segments(text))
    if channel == "email":
        markup = render(body, context, as_html=True)
        # A header cannot carry a line break (that would be header injection).
        title = " ".join(render(subject or "", context).split())
        return RenderedMessage("email", html_to_text(markup), subject=title, html=markup)
    if channel == "whatsapp":
        params = tuple(render(p, context).strip() for p in whatsapp_params)
        return RenderedMessage("whatsapp", render(body, context).strip() if body else "",
                               whatsapp_template_name=whatsapp_template_name, whatsapp_params=params)
    raise InvalidInput(f"{channel!r} is not a channel; use {', '.join(CHANNELS)}.")


# ---------------------------------------------------------------- stored templates

@dataclass(frozen=True)
class TemplateView:
    id: int
    org_id: int
    name: str
    channel: str
    subject: str | None
    body: str
    whatsapp_template_name: str | None
    whatsapp_params: tuple[str, ...]
    updated_at: datetime
    dlt_template_id: str | None = None   # India: the template's DLT registration
    whatsapp_language: str | None = None  # the approved WhatsApp template's language (en, hi, sw…)

    @classmethod
    def of(cls, t: Template, registration: TemplateRegistration | None = None) -> TemplateView:
        return cls(t.id, t.org_id, t.name, t.channel, t.subject, t.body, t.whatsapp_template_name,
                   tuple(t.whatsapp_params or ()), t.updated_at,
                   registration.dlt_template_id if registration else None,
                   registration.whatsapp_language if registration else None)


def _view(session: Session, t: Template) -> TemplateView:
    return TemplateView.of(t, session.get(TemplateRegistration, t.id))


def _problems(channel: str, body: str, subject: str | None, whatsapp_template_name: str | None,
              whatsapp_params: list[str], allowed: frozenset[str]) -> list[str]:
    if channel not in CHANNELS:
        return [f"{channel!r} is not a channel; use {', '.join(CHANNELS)}"]
    problems = [f"body: {p}" for p in check_template(body, allowed)]
    if channel == "email":
        if not (subject or "").strip():
            problems.append("an email template needs a subject")
        problems += [f"subject: {p}" for p in check_template(subject or "", allowed)]
    if channel == "whatsapp":
        if whatsapp_template_name is not None and not re.fullmatch(r"[a-z0-9_]{1,120}", whatsapp_template_name):
            problems.append(f"{whatsapp_template_name!r} is not a WhatsApp template name "
                            "(lower-case letters, digits and _, as approved in WhatsApp Manager)")
        for number, param in enumerate(whatsapp_params, start=1):
            problems += [f"parameter {{{{{number}}}}}: {p}" for p in check_template(param, allowed)]
        if not body.strip() and not whatsapp_template_name:
            problems.append("a WhatsApp template needs a text or an approved template name")
    elif not body.strip():
        problems.append("the body is empty")
    return problems


def save_template(session: Session, actor: Actor, org_id: int, *, name: str, channel: str, body: str = "",
                  subject: str | None = None, whatsapp_template_name: str | None = None,
                  whatsapp_params: Iterable[str] = (), dlt_template_id: str | None = None,
                  whatsapp_language: str | None = None) -> TemplateView:
    """Create the org's template called ``name``, or change it; refused with every problem named.
    ``dlt_template_id`` and ``whatsapp_language`` are left as they were when not given."""
    org = require(session, actor, org_id, "templates.write")
    name = " ".join((name or "").split())
    if not name or len(name) > 80:
        raise InvalidInput("A template needs a name of at most 80 characters.")
    params = [str(p) for p in whatsapp_params]
    problems = _problems(channel, body, subject, whatsapp_template_name or None, params, allowed_variables(org.kind))
    if dlt_template_id is not None and dlt_template_id.strip() and not dlt_template_id.strip().isdigit():
        problems.append(f"the DLT template ID {dlt_template_id!r} is not a number (DLT IDs are 19 digits)")
    if whatsapp_language is not None and not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", whatsapp_language.strip()):
        problems.append(f"{whatsapp_language!r} is not a WhatsApp language code (en, hi, sw, en_US…)")
    if problems:
        raise InvalidInput(f"The template {name!r} cannot be saved: " + "; ".join(problems) + ".")
    values = {"channel": channel, "subject": (subject or "").strip() or None, "body": body,
              "whatsapp_template_name": whatsapp_template_name or None, "whatsapp_params": params}
    template = session.scalar(select(Template).where(Template.org_id == org.id, Template.name == name))
    if template is None:
        template = Template(org_id=org.id, name=name, **values)
        session.add(template)
        session.flush()
        audit.record(session, actor, "templates.add", "template", template.id, org_id=org.id, after={"name": name, **values})
    else:
        before = {k: getattr(template, k) for k in values}
        for key, value in values.items():
            setattr(template, key, value)
        changed = [k for k in values if before[k] != values[k]]
        if changed:
            audit.record(session, actor, "templates.update", "template", template.id, org_id=org.id,
                         before={k: before[k] for k in changed}, after={k: values[k] for k in changed})
    _register(session, actor, template, dlt_template_id, whatsapp_language)
    session.commit()
    return _view(session, template)


def _register(session: Session, actor: Actor, template: Template, dlt_template_id: str | None,
              whatsapp_language: str | None) -> None:
    if dlt_template_id is None and whatsapp_language is None:
        return
    found = session.get(TemplateRegistration, template.id)
    if found is None:
        found = TemplateRegistration(template_id=template.id)
        session.add(found)
    before = {"dlt_template_id": found.dlt_template_id, "whatsapp_language": found.whatsapp_language}
    if dlt_template_id is not None:
        found.dlt_template_id = dlt_template_id.strip() or None
    if whatsapp_language is not None:
        found.whatsapp_language = whatsapp_language.strip() or None
    after = {"dlt_template_id": found.dlt_template_id, "whatsapp_language": found.whatsapp_language}
    if after != before:
        audit.record(session, actor, "templates.register", "template", template.id, org_id=template.org_id,
                     before=before, after=after)


def delete_template(session: Session, actor: Actor, org_id: int, template: int | str) -> TemplateView:
    """Remove a template; a campaign still waiting to send with it keeps it (refused, naming them)."""
    from db.models_campaigns import Campaign

    org = require(session, actor, org_id, "templates.write")
    row = _find(session, org.id, template)
    waiting = session.scalars(select(Campaign.id).where(
        Campaign.org_id == org.id, Campaign.template_name == row.name,
        Campaign.status.in_(("draft", "scheduled", "running", "paused")))).all()
    if waiting:
        raise InvalidInput(f"The template {row.name!r} is used by campaign(s) {', '.join(map(str, waiting))}, which "
                           "have not finished; change or cancel them first.")
    view = _view(session, row)
    registration = session.get(TemplateRegistration, row.id)
    if registration is not None:
        session.delete(registration)
        session.flush()
    session.delete(row)
    audit.record(session, actor, "templates.delete", "template", view.id, org_id=org.id,
                 before={"name": view.name, "channel": view.channel, "body": view.body})
    session.commit()
    return view


def _find(session: Session, org_id: int, template: int | str) -> Template:
    query = select(Template).where(Template.org_id == org_id)
    number = template if isinstance(template, int) else whole_number(template)
    if number is not None:
        row = session.scalar(query.where(Template.id == number))
    else:
        row = session.scalar(query.where(Template.name == " ".join(template.split())))
    if row is None:
        raise NotFound(f"There is no template {template!r}; `ofisi templates list --org SLUG` lists them.")
    return row


def get_template(session: Session, actor: Actor, org_id: int, template: int | str) -> TemplateView:
    """A template by id or by name."""
    require(session, actor, org_id, "templates.read")
    return _view(session, _find(session, org_id, template))


def list_templates(session: Session, actor: Actor, org_id: int) -> list[TemplateView]:
    require(session, actor, org_id, "templates.read")
    rows = session.scalars(select(Template).where(Template.org_id == org_id).order_by(Template.name))
    return [_view(session, t) for t in rows]


def _render_template(template: TemplateView, context: Mapping[str, Any]) -> RenderedMessage:
    return render_message(template.channel, template.body, context, subject=template.subject,
                          whatsapp_template_name=template.whatsapp_template_name,
                          whatsapp_params=template.whatsapp_params)


def preview_template(session: Session, actor: Actor, org_id: int, template: int | str, vendor_id: int) -> RenderedMessage:
    """The template as one recipient (a vendor, in a campaigns org) would receive it."""
    from core.registry import load_areas

    org = require(session, actor, org_id, "templates.read")
    view = _view(session, _find(session, org.id, template))
    load_areas()  # the areas register how to read their records on import
    read = RECORD_READERS.get(org.kind)
    if read is None:
        raise InvalidInput(f"Templates of a {org.kind} org have no recipient records to preview with.")
    vendor = read(session, actor, org.id, vendor_id)
    context = context_for(org_name=org.name, name=vendor.name, phone=vendor.phone, email=vendor.email, record=vendor)
    return _render_template(view, context)
