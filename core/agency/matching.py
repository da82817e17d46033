"""Matching: an employer's requirements ranked against the available, verified workers, with the reasons.

Only workers who are verified, not flagged, not unavailable and not in an active placement are
considered. Each requirement adds to a worker's score or takes from it, and says so in words; the list
is best first, then by the search rank. Phones are masked as everywhere (``present_contact``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from core.actors import Actor
from core.agency.base import ACCOMMODATIONS, agency_org, location_key, pick, row_of, split_list, today_in
from core.agency.workers import WorkerFilters, WorkerView, search_workers
from core.money import format_money
from db.models_agency import AgencyEmployer
from sqlalchemy.orm import Session

READY_IN = {"immediate": 0, "two_weeks": 14, "one_month": 30}


@dataclass(frozen=True)
class Requirements:
    accommodation: str | None = None
    skills: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    location: str | None = None
    salary_min_minor: int | None = None
    salary_max_minor: int | None = None
    start_date: date | None = None


@dataclass(frozen=True)
class Match:
    worker: WorkerView
    score: int
    reasons: list[str] = field(default_factory=list)


def match_workers(session: Session, actor: Actor, org_id: int, employer_id: int, wanted: Requirements, *,
                  limit: int = 10) -> list[Match]:
    org = agency_org(session, actor, org_id, "agency.read")
    row_of(session, AgencyEmployer, org.id, employer_id, "That employer is not on this agency's books.")
    today = today_in(org)
    skills, languages = split_list(list(wanted.skills)), split_list(list(wanted.languages))
    accommodation = pick(wanted.accommodation, ACCOMMODATIONS, "kind of accommodation") if wanted.accommodation \
        else None
    matches = []
    after = None
    while True:
        page = search_workers(session, actor, org_id, WorkerFilters(verified_only=True), limit=500, after=after)
        for w in page.workers:
            if w.background_check == "flagged":
                continue
            score, reasons = w.rank_score // 100, []
            if wanted.location:
                if location_key(w.location) == location_key(wanted.location):
                    score += 30
                    reasons.append(f"lives in {w.location}")
                else:
                    score -= 10
                    reasons.append(f"lives in {w.location or 'an unknown place'}, not {wanted.location}")
            if accommodation and accommodation != "either":
                if w.accommodation in (accommodation, "either"):
                    score += 20
                    reasons.append(f"works {accommodation.replace('_', '-')}")
                else:
                    score -= 30
                    reasons.append(f"wants {w.accommodation.replace('_', '-')} only")
            for skill in skills:
                if skill in w.skills:
                    score += 15
                    reasons.append(f"has {skill}")
                else:
                    score -= 10
                    reasons.append(f"no {skill}")
            for language in languages:
                if language in [x.lower() for x in w.languages]:
                    score += 10
                    reasons.append(f"speaks {language}")
            salary = w.expected_salary_minor
            if salary is not None and (wanted.salary_min_minor is not None or wanted.salary_max_minor is not None):
                shown = format_money(salary, org.currency)
                if wanted.salary_max_minor is not None and salary > wanted.salary_max_minor:
                    score -= 20
                    reasons.append(f"expects {shown}, above the range")
                else:
                    score += 20
                    reasons.append(f"expects {shown}, within the range")
            if wanted.start_date:
                ready = today + timedelta(days=READY_IN.get(w.availability, 30))
                if ready <= wanted.start_date:
                    score += 15
                    reasons.append(f"can start by {wanted.start_date:%d %b}")
                else:
                    score -= 15
                    reasons.append(f"can start only from {ready:%d %b}")
            if w.experience_years:
                score += min(w.experience_years, 10) * 2
                reasons.append(f"{w.experience_years} years' experience")
            matches.append(Match(w, score, reasons))
        if page.next_after is None:
            break
        after = page.next_after
    matches.sort(key=lambda m: (-m.score, -m.worker.rank_score, -m.worker.id))
    return matches[:limit]
