"""Which menu answers which caller on the gateway's one USSD service code, in one place.

Decided on a session's first hop and kept in its data, so a caller keeps her
menu to the end of the session:

1. an agency worker or employer gets the agency menu (:mod:`ussd.agency`);
2. a chama member gets the chama menu (:mod:`ussd.chama`);
3. a community member, or a newcomer while there is a community to join, gets
   the community menu (:mod:`ussd.community`);
4. anyone else gets the chama menu's word that the number is not registered.

The chama menu's memberships are read with every hop's session row
(:class:`core.ussd_sessions.Preload`): its callers are most of the traffic.
"""

from __future__ import annotations

from ussd.agency import AgencyFirst
from ussd.chama import ChamaMachine
from ussd.community import SharedMenu
from ussd.engine import Machine


def gateway_menu() -> Machine:
    return AgencyFirst(SharedMenu(ChamaMachine()))
