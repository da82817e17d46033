"""The community area: accounts with several profiles, one-time-code sign-in,
events with registrations, waitlists, check-in and reminders, connections,
notifications, posts and comments with moderation, listings, bookmarks, staff
search, members' SMS keywords, and the migration from the old platform.

Owns the ``community_*`` tables (``db.models_community``) and calls only the
shared core: permissions, audit, the outbox and due work. Every front end
(console, SMS, USSD, the CLI) calls these services, which take
``(session, actor, org_id, …)`` and return plain dataclasses. Services that
depend on the time take ``now=`` so tests control the clock.

Who may do what, by the staff member's role:

===================  =====  =======  =========
permission           admin  manager  moderator
===================  =====  =======  =========
community.read         ✓       ✓         ✓
community.moderate     ✓       ✓         ✓
community.members      ✓       ✓
community.events       ✓       ✓
community.import       ✓
===================  =====  =======  =========

Members act through system actors (the SMS and USSD front ends), which pass
every check; the service still says whose account acts.
"""

from core.permissions import grant

grant("community", ("admin", "manager", "moderator"), "community.read", "community.moderate")
grant("community", ("admin", "manager"), "community.members", "community.events")
grant("community", "admin", "community.import")

from core.community import events as _events  # noqa: E402,F401  (registers the reminder planner and handler)
from core.community import sms as _sms  # noqa: E402,F401  (answers EVENTS, JOIN and LEAVE by SMS)
