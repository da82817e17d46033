"""Chamas (savings groups): members, the ledger, loans, fines, payouts, meetings,
the merry-go-round, share-out and statements.

Owns the ``chama_*`` tables (``db.models_chama``) and calls only the shared
core: permissions, audit, contacts' table, the outbox and due work. Every
front end (console, USSD, M-Pesa callbacks, the CLI) calls these services;
none of them holds a rule of its own. Money rules live in ``ledger`` (what
each entry does), ``approvals`` (maker–checker), ``loans``, ``fines``,
``payouts`` and ``shareout``; due work (invoices, late fines, loan
instalments) in ``jobs``.

Who may do what, by the official's role in the org:

==================  =====  =========  =========
permission          chair  treasurer  secretary
==================  =====  =========  =========
chama.read            ✓        ✓          ✓
chama.members         ✓        ✓          ✓
chama.request         ✓        ✓          ✓
chama.approve         ✓        ✓          ✓
chama.money           ✓        ✓
chama.settings        ✓        ✓
chama.meetings        ✓                   ✓
==================  =====  =========  =========
"""

from core.permissions import grant

grant("chama", ("chair", "treasurer", "secretary"), "chama.read", "chama.members", "chama.request", "chama.approve")
grant("chama", ("chair", "treasurer"), "chama.money", "chama.settings")
grant("chama", ("chair", "secretary"), "chama.meetings")

from core.chama import jobs as _jobs  # noqa: E402,F401  (registers the due-work handlers and planner)
from core.chama import mpesa as _mpesa  # noqa: E402,F401  (what a paid M-Pesa push writes)
from core.chama import sms as _sms  # noqa: E402,F401  (BAL and help by SMS)
