"""The salon area: services, professionals' diaries, free slots, bookings that
can never overlap, reminders, and client records.

It owns the ``salon_*`` tables (``db.models_salon``) and calls only the shared
core: permissions, contacts, the outbox, audit and money. Every service takes
``(session, actor, org_id, …)``, checks the actor's role in a salon, and
returns plain dataclasses, so the console, the SMS and form front ends and the
CLI all call the same functions. Services that depend on the time of day take
``now=`` so that tests (and the console's "as of") control the clock.

Who may do what (owners may do everything):

* receptionists manage every professional's bookings and schedule;
* professionals manage their own bookings and schedule, and read the rest;
* only owners change services, prices and booking settings;
* reading the takings is the owner's and the reception's.
"""

from core.permissions import grant

grant("salon", ("owner", "receptionist", "professional"),
      "salon.services.read", "salon.bookings.read", "salon.clients.read")
grant("salon", "owner", "salon.services.manage", "salon.settings.manage")
grant("salon", ("owner", "receptionist"), "salon.bookings.write", "salon.schedule.write")
grant("salon", "professional", "salon.bookings.write.own", "salon.schedule.write.own",
      # A professional on their own takes the client's number as they book.
      "contacts.write")
grant("salon", ("owner", "receptionist", "professional"), "salon.leads.read", "salon.leads.write")
grant("salon", "owner", "salon.forms.manage")
grant("salon", ("owner", "receptionist"), "salon.takings.read")

from core.salon import deposits as _deposits  # noqa: E402,F401  (the deposit hook and the hold job)
from core.salon import sms as _sms  # noqa: E402,F401  (inbound SMS land in conversations)
