"""Domestic-staffing agencies: workers, employers, placements and their fees,
and the platform's commerce (agency subscriptions, contact packages,
purchases and paid contact unlocks); the import of the old Domestic Connect
``db.json``.

Owns the ``agency_*`` tables (``db.models_agency``) and calls only the shared
core: permissions, audit, contacts, the outbox and the data dir. Modules:
``workers`` (profiles, verification, background checks, matching search),
``employers``, ``placements`` (one active placement per worker, payments,
disputes), ``commerce`` (packages, purchases, unlocks, subscriptions, agency
payments), ``files`` (photos and certificates on disk), ``reports``,
``exports``, ``importing`` (CSV/XLSX workers and employers) and
``migration`` (``ofisi import domestic-connect``).

A worker's phone number is never part of a view: every view carries the
masked form (``+2547•••••678``); only :func:`core.agency.commerce.reveal_phone`
returns the number, and only for an employer who has unlocked that worker.
Staff reach a worker by SMS through the outbox without seeing the number.

Who may do what:

==================  =====  =====
permission          admin  agent
==================  =====  =====
agency.read           ✓      ✓
agency.write          ✓      ✓
agency.unlock         ✓      ✓
agency.money          ✓
agency.import         ✓
agency.override       ✓
==================  =====  =====
"""

from core.permissions import grant

grant("agency", ("admin", "agent"), "agency.read", "agency.write", "agency.unlock")
grant("agency", "admin", "agency.money", "agency.import", "agency.override")

# Registered on import: the M-Pesa purchase hook, the SMS keywords, the due work.
from core.agency import commerce, documents, sms  # noqa: E402,F401
