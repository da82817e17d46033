"""The public lead form over real HTTP (`ofisi serve`'s app under uvicorn): a valid
submission scored into the right temperature with its task due at the right time,
per-field errors, and the rate limit shared through the database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from core.salon.forms import create_form
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
