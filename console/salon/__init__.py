"""The salon's console: the day at a glance, booking from a free slot, the leads
pipeline, the conversations inbox and the figures.

- ``home``: under the shared messages pane and the Clients list, today's agenda
  (by time), the next free slots, tasks due today and new leads. Pick the client,
  ``f`` to the free slots, Enter books; ``e`` moves the highlighted appointment,
  ``x`` cancels it with a reason (the dialog names the client, service and time).
- ``leads``: the pipeline; ``c`` logs a call, ``n`` moves on, ``x`` loses and ``k``
  converts the lead under the cursor (``k`` asks first), and the cursor stays on it.
- ``closing``: ``i`` check-in, ``d`` complete with payment, ``m`` no-show on the
  agenda; ``calendar``: a day of all professionals or a week of one, booking an
  empty cell and walk-ins; ``setup``: service prices and retiring, hours per
  weekday, holidays; ``rules``: booking rules, time blocks, lead forms.
- ``leads`` also adds a lead by hand (``a``), corrects one (``e``) and shows the log of the
  lead under the cursor; ``tasks``: every open task (overdue, today, upcoming) with who does it.
- ``inbox``: conversations and a reply box; ``analytics``: the figures, with charts;
  ``takings``: the payments over a day, a week, a month or any period, and their totals; ``history``: one client's record,
  notes (``n``), appointments and timeline.

Every read and write runs in a thread worker that calls one core service and
posts a message back; the salon's core modules are imported inside the workers,
so opening the first org does not wait for the booking engine to load.
"""

from console.salon.analytics import AnalyticsScreen
from console.salon.common import SalonChanged, SalonScreen
from console.salon.history import ClientHistoryScreen
from console.salon.home import SalonHomeScreen
from console.salon.inbox import InboxScreen
from console.salon.leads import LeadsScreen

__all__ = ["AnalyticsScreen", "ClientHistoryScreen", "InboxScreen", "LeadsScreen", "SalonChanged", "SalonHomeScreen",
           "SalonScreen"]
