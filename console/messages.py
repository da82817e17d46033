"""Messages the console's thread workers post back to the screens and the app.

Workers never touch widgets: they call a core service, then post one of
these with plain data (frozen dataclasses from ``core``), and a handler on
the main thread updates the screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # the sign-in screen is drawn before the core's models are imported
    from core.contacts import ContactView
    from core.outbox import MessageView
    from core.users import CodeRequired, SignedIn


@dataclass(frozen=True)
class HomeData:
    """One read of an org's home screen: counts, the first contacts, recent messages."""

    org_id: int
    contact_count: int
    contacts: list[ContactView]
    more_contacts: bool
    message_counts: dict[str, int]
    recent_messages: list[MessageView]


@dataclass(frozen=True)
class Notice:
    """A notice shown this session, as the notifications panel lists it."""

    at: datetime
    severity: str
    text: str


class SignInSucceeded(Message):
    """The password was right; ``signed_in`` carries the user and memberships."""

    def __init__(self, signed_in: SignedIn) -> None:
        super().__init__()
        self.signed_in = signed_in


class SignInRefused(Message):
    """A wrong password, a wrong code or a locked account; ``text`` says which, for the person.

    ``restart`` sends the screen back to the password (a lockout, or a code step gone stale).
    """

    def __init__(self, text: str, *, restart: bool = False) -> None:
        super().__init__()
        self.text = text
        self.restart = restart


class CodeRequested(Message):
    """The password was right and a second factor is on; ``state`` says where the code went."""

    def __init__(self, state: CodeRequired) -> None:
        super().__init__()
        self.state = state


class OrgDataChanged(Message):
    """Another session committed a change to these orgs (``ANY_ORG`` when unknown)."""

    def __init__(self, org_ids: frozenset[int]) -> None:
        super().__init__()
        self.org_ids = org_ids


class HomeLoaded(Message):
    """A fresh read of the home screen's data."""

    def __init__(self, data: HomeData) -> None:
        super().__init__()
        self.data = data


class ContactsPageLoaded(Message):
    """The next page of contacts, to append to the table."""

    def __init__(self, org_id: int, contacts: list[ContactView], more: bool) -> None:
        super().__init__()
        self.org_id = org_id
        self.contacts = contacts
        self.more = more


class ContactSaved(Message):
    """The add-contact form's contact is in the database."""

    def __init__(self, contact: ContactView) -> None:
        super().__init__()
        self.contact = contact


class NoticeRecorded(Message):
    """A notice was shown; the notifications panels add it to their list."""

    def __init__(self, notice: Notice) -> None:
        super().__init__()
        self.notice = notice
