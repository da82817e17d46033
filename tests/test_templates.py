"""Templates: sandboxed and strict, variables checked on save, SMS segments, HTML email, WhatsApp."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.errors import InvalidInput, PermissionDenied
from core.templates import (
    check_template,
    context_for,
    html_to_text,
    list_templates,
    preview_template,
    render,
    render_message,
    save_template,
    sms_segments,
)
from core.users import add_user
from core.vendors import add_vendor
from db.models import AuditEntry
from tests.vendors_support import ACTOR

CTX = context_for(org_name="Biashara Boost", name="Priya Sharma", phone="+919876543210", email="p@example.in",
                  record={"gstin": "27AAPFU0939F1ZV", "district": "Pune"})


def test_context_has_the_standard_names_and_the_records_fields():
    assert (CTX["name"], CTX["first_name"], CTX["org_name"], CTX["district"]) == (
        "Priya Sharma", "Priya", "Biashara Boost", "Pune")
    assert render("Hi {{ first_name }} of {{ district }} ({{ gstin }}), from {{ org_name }}", CTX) == \
        "Hi Priya of Pune (27AAPFU0939F1ZV), from Biashara Boost"


def test_unknown_variables_are_named_and_syntax_errors_explained():
    allowed = {"name", "first_name", "district"}
    assert check_template("Hi {{ first_name }} in {{ district }}", allowed) == []
    problems = check_template("Hi {{ frist_name }} {{ gstn|upper }} {% for x in [1] %}{{ x }}{% endfor %}", allowed)
    assert [p.split(" is not")[0] for p in problems] == ["{{ frist_name }}", "{{ gstn }}"]
    assert "use one of: district, first_name, name" in problems[0]
    assert check_template("Hi {{ name ", allowed) == ["line 1: unexpected end of template, expected 'end of print statement'."] \
        or check_template("Hi {{ name ", allowed)[0].startswith("line 1: ")
    with pytest.raises(InvalidInput, match="needs a value it was not given: 'surname' is undefined"):
        render("Hi {{ surname }}", CTX)


@pytest.mark.parametrize("attack", [
    "{{ name.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''.__class__.__base__.__subclasses__() }}",
    "{{ name.format.__globals__ }}",
    "{% set x = name.__init__ %}{{ x.__globals__ }}",
    "{{ cycler.__init__.__globals__.os }}",
])
def test_the_sandbox_refuses_attribute_abuse(attack):
    with pytest.raises(InvalidInput) as refused:
        render(attack, CTX)
    assert "may not do" in str(refused.value) or "needs a value" in str(refused.value)


def test_sms_segments_gsm7_and_ucs2_boundaries():
    assert tuple(sms_segments("")) == (0, 0, "GSM-7")
    assert tuple(sms_segments("a" * 160)) == (160, 1, "GSM-7")
    assert tuple(sms_segments("a" * 161)) == (161, 2, "GSM-7")
    assert tuple(sms_segments("a" * 306)) == (306, 2, "GSM-7")
    assert tuple(sms_segments("a" * 307)) == (307, 3, "GSM-7")
    assert tuple(sms_segments("€" * 80)) == (160, 1, "GSM-7")  # extension characters count twice
    assert tuple(sms_segments("{" * 81)) == (162, 2, "GSM-7")
    assert tuple(sms_segments("ü" * 160)) == (160, 1, "GSM-7")  # in the basic set
    assert tuple(sms_segments("₹" * 70)) == (70, 1, "UCS-2")
    assert tuple(sms_segments("₹" + "a" * 70)) == (71, 2, "UCS-2")
    assert tuple(sms_segments("नमस्ते" + "a" * 128)) == (134, 2, "UCS-2")
    assert tuple(sms_segments("a" * 134 + "ç")) == (135, 3, "UCS-2")  # ç is not GSM-7; Ç is
    assert sms_segments("😀" * 35).length == 70  # two UTF-16 units each
    rendered = render_message("sms", "Hi {{ first_name }}, ₹500 grant open", CTX)
    assert (rendered.text, rendered.sms.encoding, rendered.sms.segments) == ("Hi Priya, ₹500 grant open", "UCS-2", 1)


def test_html_email_is_autoescaped_with_a_plain_text_part():
    context = context_for(org_name="O & Co", name="<script>alert(1)</script> Ravi", record={"district": "Pune"})
    message = render_message(
        "email", "<h1>Hello {{ name }}</h1><p>From {{ org_name }} in {{ district }}.</p>"
                 "<p><a href=\"https://example.in/apply\">Apply</a></p><ul><li>one</li></ul>",
        context, subject="News for\r\nBcc: x@evil {{ first_name }}")
    assert "<script>" not in message.html and "&lt;script&gt;alert(1)&lt;/script&gt; Ravi" in message.html
    assert "O &amp; Co" in message.html
    assert message.text == ("Hello <script>alert(1)</script> Ravi\n\nFrom O & Co in Pune.\n\n"
                            "Apply (https://example.in/apply)\n\n- one")
    assert message.subject == "News for Bcc: x@evil <script>alert(1)</script>"
    assert "\n" not in message.subject
    assert html_to_text("<style>p{}</style><p>a&nbsp;b</p>") == "a b"


def test_whatsapp_template_name_and_parameters():
    message = render_message("whatsapp", "", CTX, whatsapp_template_name="scheme_reminder",
                             whatsapp_params=["{{ first_name }}", "{{ district }}"])
    assert (message.whatsapp_template_name, message.whatsapp_params) == ("scheme_reminder", ("Priya", "Pune"))


@pytest.fixture
def org(session, make_org):
    return make_org(session, "campaigns", country="IN")


def test_saving_checks_variables_and_previews_against_a_vendor(session, org):
    with pytest.raises(InvalidInput) as refused:
        save_template(session, ACTOR, org.id, name="Reminder", channel="sms", body="Hi {{ frist_name }} {{ gstin }}")
    assert "{{ frist_name }} is not a variable here" in str(refused.value)
    assert "gstin }} is not" not in str(refused.value)  # a vendor field: allowed in a campaigns org
    with pytest.raises(InvalidInput, match="needs a subject"):
        save_template(session, ACTOR, org.id, name="Mail", channel="email", body="<p>Hi</p>")
    with pytest.raises(InvalidInput, match="is not a WhatsApp template name"):
        save_template(session, ACTOR, org.id, name="WA", channel="whatsapp", whatsapp_template_name="Bad Name")

    saved = save_template(session, ACTOR, org.id, name="Reminder", channel="sms",
                          body="Namaste {{ first_name }}, {{ business_name }} ({{ district }}): scheme closes Friday.")
    again = save_template(session, ACTOR, org.id, name="Reminder", channel="sms",
                          body="Namaste {{ first_name }}! {{ business_name }}: scheme closes Friday.")
    assert again.id == saved.id and [t.name for t in list_templates(session, ACTOR, org.id)] == ["Reminder"]
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "template")).all()
    assert actions == ["templates.add", "templates.update"]

    vendor = add_vendor(session, ACTOR, org.id, business_name="Sai Textiles", owner_name="Priya Sharma",
                        phone="9876543210", district="Pune")
    preview = preview_template(session, ACTOR, org.id, "Reminder", vendor.id)
    assert preview.text == "Namaste Priya! Sai Textiles: scheme closes Friday."
    assert tuple(preview.sms) == (len(preview.text), 1, "GSM-7")


def test_a_viewer_may_preview_but_not_save(session, org):
    from core.actors import Actor

    user = add_user(session, ACTOR, "viewer@example.in", org_id=org.id, role="viewer", name="V", password="pw-123456789")
    viewer = Actor.staff(user.id, user.email)
    with pytest.raises(PermissionDenied, match="templates.write"):
        save_template(session, viewer, org.id, name="X", channel="sms", body="Hi")
    assert list_templates(session, viewer, org.id) == []


def test_the_demo_programme_has_vendors_and_templates(session, make_org):
    import random

    from core.demo import _campaign_vendors
    from core.vendors import AudienceFilter, audience

    org = make_org(session, "campaigns", name="Biashara Boost")
    _campaign_vendors(session, ACTOR, org.id, random.Random(1), "KE")
    vendors = list(audience(session, ACTOR, org.id))
    assert len(vendors) == 30
    assert len(list(audience(session, ACTOR, org.id, AudienceFilter.parse("state=Kisumu,tags=women-led")))) > 0
    reminder = preview_template(session, ACTOR, org.id, "Scheme reminder", vendors[0].id)
    assert reminder.text.startswith("Habari Wanjiku! Biashara Boost: applications for the Tailoring grant")
    assert {t.name for t in list_templates(session, ACTOR, org.id)} == {"Scheme reminder", "Monthly newsletter"}
