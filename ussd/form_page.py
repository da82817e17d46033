"""The HTML of a salon's public lead form (``GET /forms/{slug}``) and of the pages a browser
sees after posting it without JavaScript: thanks, the form again with each field's problem,
too many tries, no such form.

Plain HTML that works without scripts or outside styles: every input has a label tied to it,
required fields say so in words and in the ``required`` attribute, the inputs name what a
browser may fill in (``autocomplete``), problems are listed at the top (``role="alert"``) and
tied to their fields (``aria-describedby``, ``aria-invalid``). Everything that comes from the
salon or from the person (titles, names, labels, values) is escaped here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from core.salon.forms import HONEYPOT, MAX_CUSTOM, MAX_MESSAGE, PublicForm

# The standard fields: label, input type, autocomplete token, longest value.
STANDARD = {
    "name": ("Your name", "text", "name", 120),
    "phone": ("Phone number", "tel", "tel", 40),
    "email": ("Email", "email", "email", 254),
    "service": ("Service", "text", "off", 120),
    "preferred_date": ("Preferred date", "date", "off", 10),
    "message": ("Message", "textarea", "off", MAX_MESSAGE),
}

STYLE = """
body{font-family:system-ui,sans-serif;max-width:36rem;margin:1rem auto;padding:0 1rem;line-height:1.5;color:#111}
label{display:block;font-weight:600;margin-top:1rem}
input,select,textarea{display:block;width:100%;box-sizing:border-box;padding:.5rem;font:inherit;
border:1px solid #555;border-radius:4px}
textarea{min-height:6rem}
:focus{outline:3px solid #1a5fb4;outline-offset:2px}
.hint{color:#333;font-size:.9rem;margin:0}
.problem{color:#a00;font-weight:600;margin:.25rem 0 0}
[role=alert]{border:2px solid #a00;padding:.5rem 1rem;margin:1rem 0}
.away{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}
button{margin-top:1.5rem;padding:.6rem 1.5rem;font:inherit;font-weight:600;background:#1a5fb4;color:#fff;
border:0;border-radius:4px}
"""


def security_headers(form: PublicForm | None) -> dict[str, str]:
    """No scripts and nothing from elsewhere; posted back here only; framed only by the salon's own sites."""
    frames = " ".join(["'self'", *(form.origins if form else ())])
    return {"Content-Security-Policy": f"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                      f"base-uri 'none'; frame-ancestors {frames}",
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n"
            f"</body>\n</html>\n")


def _field(name: str, label: str, kind: str, autocomplete: str, longest: int, required: bool, value: str,
           problem: str | None, hint: str = "", choices: tuple[str, ...] = (), today: str = "") -> str:
    ident = f"f-{name}"
    described = []
    parts = [f'<label for="{ident}">{escape(label)}{" (required)" if required else ""}</label>']
    if hint:
        parts.append(f'<p class="hint" id="{ident}-hint">{escape(hint)}</p>')
        described.append(f"{ident}-hint")
    if problem:
        parts.append(f'<p class="problem" id="{ident}-problem">{escape(problem)}</p>')
        described.append(f"{ident}-problem")
    attrs = f'id="{ident}" name="{escape(name)}" autocomplete="{autocomplete}"'
    if required:
        attrs += " required"
    if problem:
        attrs += ' aria-invalid="true"'
    if described:
        attrs += f' aria-describedby="{" ".join(described)}"'
    if choices:
        options = ['<option value="">Choose a service</option>'] + [
            f'<option{" selected" if c == value else ""}>{escape(c)}</option>' for c in choices]
        parts.append(f"<select {attrs}>{''.join(options)}</select>")
    elif kind == "textarea":
        parts.append(f'<textarea {attrs} maxlength="{longest}">{escape(value)}</textarea>')
    else:
        extra = f' min="{today}"' if kind == "date" and today else ""
        extra += ' inputmode="tel"' if kind == "tel" else ""
        parts.append(f'<input type="{kind}" {attrs} maxlength="{longest}" value="{escape(value)}"{extra}>')
    return "\n".join(parts)


def form_page(form: PublicForm, values: Mapping[str, str] | None = None,
              problems: Mapping[str, str] | None = None) -> str:
    """The form, empty or as it was posted with each field's problem beside it."""
    values, problems = values or {}, problems or {}
    heading = f"{form.title} · {form.salon_name}"
    body = [f"<h1>{escape(form.title)}</h1>", f"<p>{escape(form.salon_name)}</p>"]
    if problems:
        order = [*STANDARD, *(f["name"] for f in form.fields)]  # as the fields come on the page
        listed = sorted(problems, key=lambda name: order.index(name) if name in order else len(order))
        items = "".join(f'<li><a href="#f-{escape(name)}">{escape(_label_of(form, name))}: '
                        f'{escape(problems[name])}</a></li>' for name in listed)
        body.append(f'<div role="alert"><h2>Please check the form</h2><ul>{items}</ul></div>')
    fields = []
    for name, (label, kind, autocomplete, longest) in STANDARD.items():
        hint = f"Like {form.phone_example}." if name == "phone" else ""
        fields.append(_field(name, label, kind, autocomplete, longest, name in form.required,
                             values.get(name, ""), problems.get(name), hint,
                             form.services if name == "service" else (), form.today.isoformat()))
    for own in form.fields:
        fields.append(_field(own["name"], own["label"], "text", "off", MAX_CUSTOM, bool(own["required"]),
                             values.get(own["name"], ""), problems.get(own["name"])))
    # Out of sight and out of the tab order; a program that fills every field fills this one too.
    fields.append(f'<div class="away" aria-hidden="true"><label for="f-away">Leave this empty</label>'
                  f'<input type="text" id="f-away" name="{HONEYPOT}" tabindex="-1" autocomplete="off" value=""></div>')
    body.append(f'<form method="post" action="{escape(form.slug)}" accept-charset="utf-8">\n'
                + "\n".join(fields) + '\n<button type="submit">Send</button>\n</form>')
    return _page(heading, "\n".join(body))


def _label_of(form: PublicForm, name: str) -> str:
    if name in STANDARD:
        return STANDARD[name][0]
    return next((f["label"] for f in form.fields if f["name"] == name), name)


def message_page(title: str, text: str) -> str:
    """A page that only says something: thanks, too many tries, no such form."""
    return _page(title, f"<h1>{escape(title)}</h1>\n<p>{escape(text)}</p>")
