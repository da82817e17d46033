"""Due work of the campaigns area: scheduled and recurring campaigns start from
``ofisi jobs run-due``.

The planner schedules one job per due run under the key
``campaign:<id>:run:<n>``, so planning twice adds nothing; the handler starts
that run only if it is still the next one, so a job that runs twice (or late,
after someone launched by hand) sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import jobs
from core.actors import Actor
from core.campaigns.service import start_run
from db.models_campaigns import Campaign

ACTOR = Actor.system_actor("jobs:campaigns")
# A recurring campaign's next run starts whatever the last one is doing; a paused or cancelled one waits.
STARTABLE = ("scheduled", "running", "completed")


@jobs.planner("campaigns")
def plan_campaign_runs(session: Session, now: datetime) -> None:
    for campaign in session.scalars(select(Campaign).where(Campaign.status.in_(STARTABLE),
                                                           Campaign.next_run_at <= now)):
        number = campaign.runs + 1
        jobs.schedule(session, "campaigns.run", f"campaign:{campaign.id}:run:{number}", campaign.next_run_at,
                      org_id=campaign.org_id, payload={"campaign_id": campaign.id, "run": number})


@jobs.handler("campaigns.run")
def run_campaign(session: Session, job: jobs.DueJob) -> None:
    campaign = session.scalar(select(Campaign).where(Campaign.id == job.payload["campaign_id"]).with_for_update())
    if campaign is None or campaign.status not in STARTABLE or campaign.runs + 1 != job.payload["run"]:
        return
    start_run(session, ACTOR, campaign, job.due_at)
