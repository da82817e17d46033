"""Campaigns: outreach by SMS, email and WhatsApp to an org's contacts or vendors,
for every org kind (a chama reminder, a salon promotion, an MSME scheme notice).

Owns ``campaigns``, ``campaign_runs`` and ``campaign_responses``
(``db.models_campaigns``); sends only through the outbox (``core.outbox``),
whose dispatcher skips paused campaigns and calls :func:`service.watch_campaigns`
after each batch. Recipients come from the audience sources in
:mod:`core.campaigns.audience` (contacts here; the vendor registry through
``core.vendors`` where installed). Scheduled and recurring runs are due work
(:mod:`core.campaigns.jobs`).

==================  =====  =======  ======
permission          admin  officer  viewer
==================  =====  =======  ======
campaigns.read        ✓       ✓       ✓
campaigns.manage      ✓       ✓
campaigns.send        ✓       ✓
==================  =====  =======  ======

Other kinds: every role reads; the roles that may send messages may run campaigns.
"""

from core.permissions import ROLES, grant

grant("campaigns", ("admin", "officer", "viewer"), "campaigns.read")
grant("campaigns", ("admin", "officer"), "campaigns.manage", "campaigns.send")
for _kind in ("salon", "chama", "agency", "community"):
    grant(_kind, "*", "campaigns.read")
    grant(_kind, ROLES[_kind][:2], "campaigns.manage", "campaigns.send")

from core.campaigns import audience_areas as _audience_areas  # noqa: E402,F401  (the other areas' people)
from core.campaigns import jobs as _jobs  # noqa: E402,F401  (scheduled and recurring runs)
from core.campaigns import responses as _responses  # noqa: E402,F401  (inbound replies, where inbound SMS exists)
from core.campaigns.service import (  # noqa: E402
    CampaignProgress,
    audience_size,
    campaign_replies,
    campaign_settings,
    check_launch,
    edit_campaign,
    schedule_campaign,
    test_send,
    CampaignView,
    LaunchResult,
    campaign_org,
    campaign_progress,
    cancel_campaign,
    create_campaign,
    get_campaign,
    launch_campaign,
    list_campaigns,
    pause_campaign,
    preview,
    progress_of,
    record_response,
    replies_overview,
    resume_campaign,
    survey_tally,
)

__all__ = [
    "CampaignProgress", "CampaignView", "LaunchResult", "campaign_org", "campaign_progress", "cancel_campaign", "create_campaign",
    "get_campaign", "launch_campaign", "list_campaigns", "pause_campaign", "preview", "progress_of",
    "audience_size", "campaign_replies", "campaign_settings", "check_launch", "edit_campaign", "schedule_campaign", "test_send",
    "record_response", "replies_overview", "resume_campaign", "survey_tally",
]
