"""An org's home screen: who the org is, its counts, contacts and recent messages.

``HomeScreen`` holds what every kind shares; one subclass per org kind
(registered in ``HOME_SCREENS`` with :func:`register_home`) names things the
way that kind does. Area packages subclass the kind's screen, add widgets in
``compose_panels`` and register it again to take its place.

Data arrives from thread workers as ``HomeLoaded`` and
``ContactsPageLoaded``; contacts are read a keyset page at a time (``m``,
or moving past the last row, reads the next page), never all at once. The
app calls :meth:`HomeScreen.org_data_changed` when another session commits a
change to this org.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label, Static
from textual.css.query import NoMatches
from textual.worker import get_current_worker

from console.base import ConsoleScreen
from console.widgets.table import LiteralTable
from console.contact_form import AddContactScreen
from console.data import CONTACTS_PAGE, contacts_page, home_data
from console.messages import ContactsPageLoaded, HomeLoaded
from console.widgets.present import Presenter, readable_phone
from core.contacts import ContactView
from core.outbox import STATUSES, MessageView
from core.permissions import KINDS, allows
from core.users import MembershipView, SignedIn
from db.engine import Database


def message_counts_line(counts: dict[str, int]) -> str:
    """``Messages: 2 queued · 5 sent`` in the outbox's own order of states."""
    parts = [f"{counts[status]} {status}" for status in STATUSES if counts.get(status)]
    parts += [f"{n} {status}" for status, n in sorted(counts.items()) if status not in STATUSES and n]
    return "Messages: " + (" · ".join(parts) if parts else "none yet")


def shown_phone(address: str) -> str:
    """``+254 712 345678`` for an E.164 number; anything else (an email) as it is."""
    return readable_phone(address)


class HomeScreen(ConsoleScreen):
    """The home screen every org kind starts from."""

    KIND: ClassVar[str] = ""
    DESCRIPTION: ClassVar[str] = "Contacts and the messages sent to them."
    CONTACTS_LABEL: ClassVar[str] = "Contacts"
    CONTACT_NOUN: ClassVar[str] = "contact"

    BINDINGS = [
        Binding("a", "add_contact", "Add contact", id="add-contact",
                tooltip="Add a person with a name, a phone and an optional email."),
        Binding("r,f5", "refresh", "Refresh", id="refresh", tooltip="Read the counts and lists again."),
        Binding("m", "more_contacts", "More contacts", id="more-contacts",
                tooltip="Read the next page of contacts into the table."),
    ]

    def __init__(self, database: Database, signed_in: SignedIn, membership: MembershipView) -> None:
        super().__init__(database)
        self.signed_in = signed_in
        self.membership = membership
        self.org = membership.org
        self.actor = signed_in.actor
        self.more_contacts = False
        self.loaded = False
        self._paging = False
        self._select_contact: int | None = None
        self._contact_total = 0
        self.present = Presenter.for_org(self.org)

    # ------------------------------------------------------------ layout

    def compose_body(self) -> ComposeResult:
        with Vertical(id="home"):
            yield Static(self.summary(), id="org-summary", markup=False)
            yield Static(self.DESCRIPTION, id="org-description", markup=False)
            with Horizontal(id="counts"):
                yield Static("", id="contact-count", classes="count", markup=False)
                yield Static("", id="message-counts", classes="count", markup=False)
            with Horizontal(id="home-panels"):
                with Vertical(id="contacts-pane", classes="pane"):
                    yield Label(self.CONTACTS_LABEL, id="contacts-title", classes="pane-title")
                    yield LiteralTable(id="contacts", cursor_type="row", zebra_stripes=True)
                with Vertical(id="messages-pane", classes="pane"):
                    yield Label("Recent messages", id="messages-title", classes="pane-title")
                    yield LiteralTable(id="messages", cursor_type="row", zebra_stripes=True)
            yield from self.compose_panels()

    def compose_panels(self) -> ComposeResult:
        """Kind-specific panels below the shared ones; area screens override this."""
        yield from ()

    def summary(self) -> str:
        user = self.signed_in.user
        return (f"{user.name} ({user.email}), {self.membership.role} of {self.org.name}. "
                f"Times are in {self.org.timezone}, money in {self.org.currency}.")

    def on_mount(self) -> None:
        self.title = self.org.name
        self.sub_title = f"{KINDS.get(self.org.kind, self.org.kind)} · {self.membership.role}"
        contacts = self.query_one("#contacts", DataTable)
        contacts.add_column("Name", key="name")
        contacts.add_column("Phone", key="phone")
        contacts.add_column("Email", key="email")
        contacts.add_column("Added", key="added")
        contacts.loading = True
        messages = self.query_one("#messages", DataTable)
        messages.add_column("When", key="when")
        messages.add_column("To", key="to")
        messages.add_column("Status", key="status")
        messages.add_column("Text", key="text")
        contacts.focus()
        self.action_refresh()

    # ------------------------------------------------------------ permissions

    def may(self, permission: str) -> bool:
        """A hint for showing actions; the core checks again on every call."""
        return allows(self.org.kind, self.membership.role, permission)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "add_contact":
            return self.may("contacts.write")
        if action == "more_contacts":
            return self.more_contacts
        return True

    # ------------------------------------------------------------ reading

    def org_data_changed(self) -> None:
        """Another session changed this org; read again (mounting reads it anyway)."""
        if not self.is_mounted:
            return
        try:
            self.action_refresh()
        except NoMatches:
            pass  # the screen is being taken down (sign-out, a lost membership): nothing to show


    def action_refresh(self) -> None:
        shown = self.query_one("#contacts", DataTable).row_count
        self.load_home(max(CONTACTS_PAGE, shown))

    @work(thread=True, exclusive=True, group="home", exit_on_error=False)
    def load_home(self, contacts_limit: int) -> None:
        worker = get_current_worker()
        with self.database.session() as session:
            data = home_data(session, self.actor, self.org.id, contacts_limit=contacts_limit)
        if not worker.is_cancelled:
            self.post_from_worker(HomeLoaded(data))

    def on_home_loaded(self, message: HomeLoaded) -> None:
        data = message.data
        if data.org_id != self.org.id:
            return
        self.loaded = True
        self.more_contacts = data.more_contacts
        table = self.query_one("#contacts", DataTable)
        table.loading = False
        row = table.cursor_row
        table.clear()
        for contact in data.contacts:
            table.add_row(*self.contact_cells(contact), key=str(contact.id))
        if self._select_contact is not None and str(self._select_contact) in table.rows:
            table.move_cursor(row=table.get_row_index(str(self._select_contact)))
            self._select_contact = None
        elif table.row_count:
            table.move_cursor(row=min(max(row, 0), table.row_count - 1))
        self.query_one("#contact-count", Static).update(f"{self.CONTACTS_LABEL}: {data.contact_count:,}")
        self.query_one("#message-counts", Static).update(message_counts_line(data.message_counts))
        self._update_contacts_title(data.contact_count)
        messages = self.query_one("#messages", DataTable)
        messages.clear()
        for message_view in data.recent_messages:
            messages.add_row(*self.message_cells(message_view), key=str(message_view.id))
        self.refresh_bindings()

    def _update_contacts_title(self, total: int | None = None) -> None:
        if total is not None:
            self._contact_total = total
        shown = self.query_one("#contacts", DataTable).row_count
        total = max(self._contact_total, shown)
        self.query_one("#contacts-title", Label).update(
            f"{self.CONTACTS_LABEL} — {shown:,} of {total:,}" + (" (m for more)" if self.more_contacts else "")
        )

    def contact_cells(self, contact: ContactView) -> tuple[str, ...]:
        return (
            contact.name,
            self.present.phone(contact.phone),
            contact.email or "",
            self.present.date(contact.created_at),
        )

    def message_cells(self, message: MessageView) -> tuple[str, ...]:
        return (
            self.present.time(message.created_at),
            self.present.message_to(message),
            message.status,
            self.present.message_text(message),
        )

    # ------------------------------------------------------------ paging

    def action_more_contacts(self) -> None:
        table = self.query_one("#contacts", DataTable)
        if not self.more_contacts or self._paging or not table.row_count:
            return
        self._paging = True
        last_key = table.coordinate_to_cell_key((table.row_count - 1, 0)).row_key.value
        self.load_more_contacts(int(last_key or 0))

    @on(DataTable.RowHighlighted, "#contacts")
    def _near_the_end(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= event.data_table.row_count - 1:
            self.action_more_contacts()

    @work(thread=True, exclusive=True, group="contacts-page", exit_on_error=False)
    def load_more_contacts(self, before_id: int) -> None:
        try:
            with self.database.session() as session:
                contacts, more = contacts_page(session, self.actor, self.org.id, before_id=before_id)
        finally:
            self._paging = False
        self.post_from_worker(ContactsPageLoaded(self.org.id, contacts, more))

    def on_contacts_page_loaded(self, message: ContactsPageLoaded) -> None:
        if message.org_id != self.org.id:
            return
        table = self.query_one("#contacts", DataTable)
        for contact in message.contacts:
            # A refresh may already have read some of these rows.
            if str(contact.id) not in table.rows:
                table.add_row(*self.contact_cells(contact), key=str(contact.id))
        self.more_contacts = message.more
        self._update_contacts_title()
        self.refresh_bindings()

    # ------------------------------------------------------------ writing

    def action_add_contact(self) -> None:
        self.app.push_screen(
            AddContactScreen(self.database, self.actor, self.org, noun=self.CONTACT_NOUN),
            callback=self._contact_added,
        )

    def _contact_added(self, contact: ContactView | None) -> None:
        if contact is not None:
            self._select_contact = contact.id
            self.action_refresh()


HOME_SCREENS: dict[str, type[HomeScreen]] = {}

# The console modules of the areas (e.g. "console.chama"); each registers its
# home screen with :func:`register_home` on import.
AREA_MODULES: list[str] = ["console.chama", "console.salon", "console.community", "console.agency", "console.vendors",
                           "console.campaigns"]


def load_console_modules() -> None:
    import importlib

    for name in AREA_MODULES:
        importlib.import_module(name)


def register_home(screen: type[HomeScreen]) -> type[HomeScreen]:
    """Make ``screen`` the home screen of its ``KIND`` (the latest registration wins)."""
    HOME_SCREENS[screen.KIND] = screen
    return screen


def home_screen_for(kind: str) -> type[HomeScreen]:
    load_console_modules()
    return HOME_SCREENS.get(kind, HomeScreen)


@register_home
class SalonHome(HomeScreen):
    KIND = "salon"
    DESCRIPTION = "The salon's clients and the messages sent to them."
    CONTACTS_LABEL = "Clients"
    CONTACT_NOUN = "client"


@register_home
class ChamaHome(HomeScreen):
    KIND = "chama"
    DESCRIPTION = "The group's members and the SMS sent to them."
    CONTACTS_LABEL = "Members"
    CONTACT_NOUN = "member"


@register_home
class AgencyHome(HomeScreen):
    KIND = "agency"
    DESCRIPTION = "Workers and employers on the agency's books, and the messages sent to them."
    CONTACTS_LABEL = "Workers and employers"
    CONTACT_NOUN = "worker or employer"


@register_home
class CampaignsHome(HomeScreen):
    KIND = "campaigns"
    DESCRIPTION = "The programme's vendors (MSMEs) and the messages sent to them."
    CONTACTS_LABEL = "Vendors"
    CONTACT_NOUN = "vendor"


@register_home
class CommunityHome(HomeScreen):
    KIND = "community"
    DESCRIPTION = "The community's members and the messages sent to them."
    CONTACTS_LABEL = "Members"
    CONTACT_NOUN = "member"
