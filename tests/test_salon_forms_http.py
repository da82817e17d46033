"""The public lead form over real HTTP (`ofisi serve`'s app under uvicorn): a valid
submission scored into the right temperature with its task due at the right time,
per-field errors, and the rate limit shared through the database; the form's page
posted as a browser posts it, CORS for the salon's own sites, and what the salon
wrote escaped."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from core.orgs import create_org
from core.salon.forms import HONEYPOT, create_form, update_form
from core.salon.settings import update_booking_settings
from db.models_salon import SalonLead, SalonTask
from tests.live_gateway import running_gateway
from tests.salon_support import SYSTEM, make_salon


def test_lead_forms_over_http(committed_db):
    """One gateway for the three stories: starting and stopping one takes seconds."""
    with committed_db.session() as s:
        salon = make_salon(s)
        create_form(s, SYSTEM, salon.org.id, slug="book-now", title="Book now")
        create_form(s, SYSTEM, salon.org.id, slug="quick", title="Quick", max_per_ip_hour=5, max_per_phone_hour=2)
    with running_gateway(committed_db) as base:
        valid_submissions_are_scored_with_their_task_due(committed_db, f"{base}/forms/book-now")
        invalid_submission_gets_an_error_per_field(f"{base}/forms/book-now")
        rate_limited_by_phone_then_by_address(f"{base}/forms/quick")


def _task_of(db, lead_id: int) -> SalonTask:
    with db.session() as s:
        return s.scalar(select(SalonTask).where(SalonTask.lead_id == lead_id))


def valid_submissions_are_scored_with_their_task_due(committed_db, form_url):
    soon = (datetime.now(ZoneInfo("Africa/Nairobi")) + timedelta(days=2)).date().isoformat()
    before = datetime.now(timezone.utc)
    hot = httpx.post(form_url, json={"name": "Amina", "phone": "0711000001", "service": "Braids",
                                     "preferred_date": soon}, timeout=10)
    warm = httpx.post(form_url, data={"name": "Beth", "phone": "0711000002", "service": "Nails"}, timeout=10)
    cold = httpx.post(form_url, data={"name": "Chao", "phone": "+254711000003"}, timeout=10)
    after = datetime.now(timezone.utc)
    assert [r.status_code for r in (hot, warm, cold)] == [201, 201, 201]
    assert [r.json()["temperature"] for r in (hot, warm, cold)] == ["hot", "warm", "cold"]
    for response, delay, priority in ((hot, timedelta(0), 1), (warm, timedelta(hours=24), 2),
                                      (cold, timedelta(days=3), 3)):
        task = _task_of(committed_db, response.json()["lead_id"])
        assert before + delay <= task.due_at <= after + delay and task.priority == priority
    with committed_db.session() as s:
        assert s.scalar(select(SalonLead.source).where(SalonLead.phone == "+254711000001")) == "form"


def invalid_submission_gets_an_error_per_field(form_url):
    answer = httpx.post(form_url, data={"phone": "12345", "email": "not-an-email", "preferred_date": "someday"},
                        timeout=10)
    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert set(errors) == {"name", "phone", "email", "preferred_date"}
    assert "required" in errors["name"]
    assert httpx.post(form_url, content=b"[1, 2]", headers={"content-type": "application/json"},
                      timeout=10).status_code == 400
    assert httpx.post(form_url.replace("book-now", "nothing-here"), data={}, timeout=10).status_code == 404


def rate_limited_by_phone_then_by_address(form_url):
    same_phone = {"name": "Dora", "phone": "0711000004"}
    codes = [httpx.post(form_url, data=same_phone, timeout=10).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    codes = [httpx.post(form_url, data={"name": "E", "phone": f"07110001{i:02d}"}, timeout=10).status_code
             for i in range(4)]
    assert codes == [201, 201, 201, 429]  # five hits from this address in the hour: two, then three
    limited = httpx.post(form_url, data={"name": "F", "phone": "0711000200"}, timeout=10)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert "address" in limited.json()["error"]


class _FormReader(HTMLParser):
    """The page's form as a browser reads it: its action and method, its fields, and the labels tied to them."""

    def __init__(self) -> None:
        super().__init__()
        self.form: dict[str, str] = {}
        self.fields: dict[str, dict[str, str]] = {}
        self.labels: dict[str, str] = {}
        self.html_lang = ""
        self._label_for: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.html_lang = attrs.get("lang", "")
        elif tag == "form":
            self.form = attrs
        elif tag in ("input", "select", "textarea"):
            self.fields[attrs["name"]] = attrs
        elif tag == "label":
            self._label_for = attrs.get("for")
            self.labels[self._label_for] = ""

    def handle_data(self, data):
        if self._label_for is not None:
            self.labels[self._label_for] += data

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_for = None


BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_the_form_page_posts_a_lead_and_answers_only_the_salons_own_sites(committed_db):
    site, other = "https://glow.example", "https://elsewhere.example"
    with committed_db.session() as s:
        salon = make_salon(s)
        update_booking_settings(s, SYSTEM, salon.org.id, form_origins=[site])
        create_form(s, SYSTEM, salon.org.id, slug="walk-in", title="Book a visit", required=("name", "phone"),
                    fields=[{"name": "hair_length", "label": "Hair length", "required": True}])
        hostile = create_org(s, SYSTEM, "hostile-salon", kind="salon", name="<script>alert('salon')</script>",
                             timezone="Africa/Nairobi", country="KE")
        create_form(s, SYSTEM, hostile.id, slug="hostile", title="<img src=x onerror=alert(1)>",
                    fields=[{"name": "note", "label": "</label><script>x()</script>"}])
        create_form(s, SYSTEM, salon.org.id, slug="closed-one", title="Old")
        update_form(s, SYSTEM, salon.org.id, "closed-one", active=False)
    with running_gateway(committed_db) as base:
        url = f"{base}/forms/walk-in"
        page = httpx.get(url, headers=BROWSER, timeout=10)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "script-src" not in page.headers["content-security-policy"]
        assert f"frame-ancestors 'self' {site}" in page.headers["content-security-policy"]
        reader = _FormReader()
        reader.feed(page.text)
        assert reader.html_lang == "en" and reader.form["method"] == "post"
        assert set(reader.fields) == {"name", "phone", "email", "service", "preferred_date", "message", "hair_length",
                                      HONEYPOT}
        assert reader.fields[HONEYPOT]["tabindex"] == "-1"  # out of people's way
        for name, field in reader.fields.items():  # every input has a label tied to it
            assert reader.labels[field["id"]].strip(), name
        assert [n for n, f in reader.fields.items() if "required" in f] == ["name", "phone", "hair_length"]
        assert (reader.fields["phone"]["type"], reader.fields["phone"]["autocomplete"]) == ("tel", "tel")
        assert reader.fields["email"]["autocomplete"] == "email" and reader.fields["name"]["autocomplete"] == "name"
        assert "Braids" in page.text  # the salon's services to choose from

        # The page's form, filled in as a person would and posted as the browser posts it: a lead.
        target = urljoin(url, reader.form["action"])
        filled = {"name": "Zawadi", "phone": "0711 222 333", "service": "Braids", "hair_length": "long"}
        sent = httpx.post(target, data={**{n: "" for n in reader.fields}, **filled}, headers=BROWSER, timeout=10)
        assert sent.status_code == 201 and "Thank you" in sent.text, sent.text
        with committed_db.session() as s:
            lead = s.scalar(select(SalonLead).where(SalonLead.phone == "+254711222333"))
            assert (lead.name, lead.source, lead.org_id) == ("Zawadi", "form", salon.org.id)
        # A program that fills every field, the hidden one too: thanked, and nothing kept.
        bot = httpx.post(target, data={n: "0711222399" if n == "phone" else "x" for n in reader.fields},
                         headers=BROWSER, timeout=10)
        assert bot.status_code == 201 and "Thank you" in bot.text
        with committed_db.session() as s:
            assert s.scalar(select(SalonLead).where(SalonLead.phone == "+254711222399")) is None
        # Missing a required field: the form again, with the problem tied to its field and what was typed kept.
        again = httpx.post(target, data={"name": "Zawadi", "phone": "0711 222 334"}, headers=BROWSER, timeout=10)
        assert again.status_code == 422 and 'role="alert"' in again.text
        assert 'aria-invalid="true" aria-describedby="f-hair_length-problem"' in again.text
        assert 'value="0711 222 334"' in again.text

        # CORS: the salon's site may post from a script; another site may not.
        asked = {"access-control-request-method": "POST", "access-control-request-headers": "content-type"}
        allowed = httpx.options(url, headers={"origin": site, **asked}, timeout=10)
        assert allowed.status_code == 204
        assert allowed.headers["access-control-allow-origin"] == site and allowed.headers["vary"] == "Origin"
        assert "POST" in allowed.headers["access-control-allow-methods"]
        refused = httpx.options(url, headers={"origin": other, **asked}, timeout=10)
        assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
        posted = httpx.post(url, json={"name": "Imani", "phone": "0711222335", "hair_length": "short"},
                            headers={"origin": site}, timeout=10)
        assert posted.status_code == 201 and posted.headers["access-control-allow-origin"] == site
        assert posted.headers["vary"] == "Origin" and posted.headers["access-control-expose-headers"] == "Retry-After"
        elsewhere = httpx.post(url, data={"name": "Juma", "phone": "0711222336", "hair_length": "x"},
                               headers={"origin": other}, timeout=10)
        assert "access-control-allow-origin" not in elsewhere.headers
        invalid = httpx.post(url, json={"name": "Imani"}, headers={"origin": site}, timeout=10)
        assert invalid.status_code == 422 and invalid.headers["access-control-allow-origin"] == site

        # Whatever the salon wrote shows as text, never as markup.
        shown = httpx.get(f"{base}/forms/hostile", timeout=10)
        assert shown.status_code == 200
        assert "&lt;script&gt;alert(&#x27;salon&#x27;)&lt;/script&gt;" in shown.text
        assert "&lt;img src=x onerror=alert(1)&gt;" in shown.text
        assert "&lt;/label&gt;&lt;script&gt;x()&lt;/script&gt;" in shown.text
        assert "<script" not in shown.text and "<img" not in shown.text

        # A closed form and an unknown one: a page a person can read.
        for slug in ("closed-one", "nothing-here"):
            gone = httpx.get(f"{base}/forms/{slug}", headers=BROWSER, timeout=10)
            assert gone.status_code == 404 and "This form is not open" in gone.text
            assert gone.headers["content-type"].startswith("text/html")
        assert httpx.options(f"{base}/forms/closed-one", headers={"origin": site, **asked},
                             timeout=10).status_code == 403


@pytest.mark.parametrize("typed, kept", [
    ("https://Glow.example/", "https://glow.example"),
    ("https://glow.example:443", "https://glow.example"),  # as a browser writes it in Origin
    ("http://localhost:8000", "http://localhost:8000"),
    ("https://bücher.example", "https://xn--bcher-kva.example"),
    ("https://glow.example;script-src *", None),  # it goes into headers: nothing but an origin
    ("https://glow.example x", None),
    ("https://user:pw@glow.example", None),
    ("https://glow.example/book", None),
    ("glow.example", None),
])
def test_a_form_website_is_kept_as_the_origin_a_browser_sends(typed, kept):
    from core.errors import InvalidInput
    from core.salon.settings import _origin

    if kept is None:
        with pytest.raises(InvalidInput, match="is not a website's address"):
            _origin(typed)
    else:
        assert _origin(typed) == kept
