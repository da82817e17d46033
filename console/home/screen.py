"""``HomeScreen``: who the org is, its counts, and the shared panes every kind may show.

The shared panes are the org's people (``contacts``) and its recent messages
(``messages``). A kind lists the panes it shows in ``PANES``; a kind whose
people carry a rule the shared pane does not know (the agency masks workers'
phones and sells unlocks of them) leaves ``contacts`` out and shows its own list.
Every cell goes through the screen's :class:`~console.widgets.present.Presenter`
(phones masked by the area's rule, secret messages shown as ``(one-time code)``).

Data arrives from thread workers as ``HomeLoaded`` and ``ContactsPageLoaded``;
contacts are read a keyset page at a time (``m``, or moving onto the last row,
reads the next page), never all at once. The app calls
:meth:`HomeScreen.org_data_changed` when another session commits to this org.
``MAIN_LIST`` names the screen's main list (the responsive tests count its rows;
the cursor starts in it unless ``FIRST_FOCUS`` names another list);
``PANELS_FIRST`` puts the kind's own panels above the shared panes when its main
list is one of them (a kind without the contacts pane always does). ``u`` opens
the audit log for roles that may read it (``audit.read``), on every kind's home.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import Label, Static
from textual.worker import get_current_worker

from console.base import ConsoleScreen
from console.home.contact_form import AddContactScreen
from console.home.data import CONTACTS_PAGE, contacts_page, home_data
from console.messages import ContactsPageLoaded, HomeLoaded
from console.shell.audit import AUDIT_BINDING, open_audit
from console.widgets.present import Presenter
from console.widgets.table import Cell, OfisiTable, Row, table_pane
from console.widgets.text import literal
from core.contacts import ContactView
from core.outbox import STATUSES, MessageView
from core.permissions import KINDS, allows
from core.users import MembershipView, SignedIn
from db.engine import Database

NARROW_WIDTH = 120  # below this many columns (or 32 rows) the panes stack and the summary hides
SHORT_HEIGHT = 32


def message_counts_line(counts: dict[str, int]) -> str:
    """``Messages: 2 queued · 5 sent`` in the outbox's own order of states."""
    parts = [f"{counts[status]} {status}" for status in STATUSES if counts.get(status)]
    parts += [f"{n} {status}" for status, n in sorted(counts.items()) if status not in STATUSES and n]
    return "Messages: " + (" · ".join(parts) if parts else "none yet")


class HomeScreen(ConsoleScreen):
    """The home screen every org kind starts from."""

    KIND: ClassVar[str] = ""
    DESCRIPTION: ClassVar[str] = "Contacts and the messages sent to them."
    CONTACTS_LABEL: ClassVar[str] = "Contacts"
    CONTACT_NOUN: ClassVar[str] = "contact"
    PANES: ClassVar[tuple[str, ...]] = ("contacts", "messages")
    MAIN_LIST: ClassVar[str] = "#contacts"
    PANELS_FIRST: ClassVar[bool] = False  # the kind's panels hold its main list: show them above the shared panes
    FIRST_FOCUS: ClassVar[str | None] = None  # the list the cursor starts in, when not the main list
    # on_mount puts the cursor in FIRST_FOCUS or MAIN_LIST; Textual's own auto focus would race it
    # (the first focusable table, whichever runs last), so a home's first focus would vary.
    AUTO_FOCUS = ""

    BINDINGS = [
        Binding("a", "add_contact", "Add contact", id="add-contact",
                tooltip="Add a person with a name, a phone and an optional email."),
        Binding("r,f5", "refresh", "Refresh", id="refresh", tooltip="Read the counts and lists again."),
        Binding("m", "more_contacts", "More contacts", id="more-contacts",
                tooltip="Read the next page of contacts into the list."),
        AUDIT_BINDING,
    ]

    def __init__(self, database: Database, signed_in: SignedIn, membership: MembershipView) -> None:
        super().__init__(database)
        self.signed_in = signed_in
        self.membership = membership
        self.org = membership.org
        self.actor = signed_in.actor
        self.present = Presenter.for_org(self.org)
        self.more_contacts = False
        self.loaded = False
        self._paging = False
        self._contact_total = 0
        self._select_contact: int | None = None

    # ------------------------------------------------------------ layout

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="home", can_focus=False):
            yield Static(literal(self.summary()), id="org-summary")
            yield Static(literal(self.DESCRIPTION), id="org-description")
            with Horizontal(id="counts"):
                yield Static("", id="contact-count", classes="count")
                yield Static("", id="message-counts", classes="count")
            # The main list comes first, so a short terminal still shows it without scrolling.
            panels_first = self.panels_first()
            if panels_first:
                yield from self.compose_panels()
            if self.PANES:
                with Horizontal(id="home-panels", classes="" if "contacts" in self.PANES else "messages-only"):
                    if "contacts" in self.PANES:
                        yield table_pane(self.CONTACTS_LABEL, OfisiTable(
                            ("Name", "Phone", "Email", "Added"), noun=self.CONTACTS_LABEL.lower(),
                            empty=f"No {self.CONTACTS_LABEL.lower()} yet: press a to add one.", id="contacts"),
                            id="contacts-pane", title_id="contacts-title")
                    if "messages" in self.PANES:
                        yield table_pane("Recent messages", OfisiTable(
                            ("When", "To", "Status", "Text"), noun="messages", empty="No messages yet.",
                            id="messages"), id="messages-pane", title_id="messages-title")
            if not panels_first:
                yield from self.compose_panels()

    def panels_first(self) -> bool:
        """Whether the kind's own panels come above the shared panes (its main list is among them)."""
        return self.PANELS_FIRST or "contacts" not in self.PANES

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
        self._fit(self.size.width, self.size.height)
        if (contacts := self._table("#contacts")) is not None:
            contacts.loading = True
        self._take_first_focus()
        self.action_refresh()

    def _take_first_focus(self) -> None:
        """Put the cursor in FIRST_FOCUS or MAIN_LIST, without scrolling (a short terminal opens at the
        top). A list that is still loading refuses focus, so the first load asks again."""
        try:
            self.query_one(self.FIRST_FOCUS or self.MAIN_LIST).focus(scroll_visible=False)
        except NoMatches:
            pass

    def on_resize(self, event) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        """Stack the panes and drop the prose when the terminal is small (80×24 stays usable)."""
        self.set_class(width < NARROW_WIDTH, "-narrow")
        self.set_class(height < SHORT_HEIGHT, "-short")

    def _table(self, selector: str) -> OfisiTable | None:
        try:
            return self.query_one(selector, OfisiTable)
        except NoMatches:
            return None

    # ------------------------------------------------------------ permissions

    def may(self, permission: str) -> bool:
        """A hint for showing actions; the core checks again on every call."""
        return allows(self.org.kind, self.membership.role, permission)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "add_contact":
            return self.may("contacts.write")
        if action == "more_contacts":
            return self.more_contacts
        if action == "audit":
            return self.may("audit.read")
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
        contacts = self._table("#contacts")
        shown = len(contacts.records) if contacts is not None else 0
        self.load_home(max(CONTACTS_PAGE, shown) if contacts is not None else 0)

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
        first_load, self.loaded = not self.loaded, True
        if (table := self._table("#contacts")) is not None:
            self.more_contacts = data.more_contacts
            table.loading = False
            table.reload(self.contact_row(contact) for contact in data.contacts)
            if self._select_contact is not None and table.move_to(self._select_contact):
                self._select_contact = None
            self._update_contacts_title(data.contact_count)
        self.query_one("#contact-count", Static).update(f"{self.CONTACTS_LABEL}: {data.contact_count:,}")
        self.query_one("#message-counts", Static).update(message_counts_line(data.message_counts))
        if (messages := self._table("#messages")) is not None:
            messages.reload(self.message_row(m) for m in data.recent_messages)
        if first_load and self.focused is None:
            self._take_first_focus()  # the contacts list refused it while loading
        self.refresh_bindings()

    def _update_contacts_title(self, total: int | None = None) -> None:
        if total is not None:
            self._contact_total = total
        shown = len(self.query_one("#contacts", OfisiTable).records)
        total = max(self._contact_total, shown)
        self.query_one("#contacts-title", Label).update(
            f"{self.CONTACTS_LABEL} — {shown:,} of {total:,}" + (" (m for more)" if self.more_contacts else ""))

    def contact_row(self, contact: ContactView) -> Row:
        p = self.present
        return Row(contact.id, (contact.name, p.phone(contact.phone), contact.email or "",
                                Cell(p.date(contact.created_at), contact.created_at)), data=contact)

    def message_row(self, message: MessageView) -> Row:
        p = self.present
        return Row(message.id, (Cell(p.time(message.created_at), message.created_at), p.message_to(message),
                                message.status, p.message_text(message)), data=message)

    # ------------------------------------------------------------ paging

    def action_more_contacts(self) -> None:
        table = self._table("#contacts")
        if table is None or not self.more_contacts or self._paging or not table.records:
            return
        self._paging = True
        self.load_more_contacts(min(int(r.id) for r in table.records))

    @on(OfisiTable.NearEnd, "#contacts")
    def _near_the_end(self) -> None:
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
        if message.org_id != self.org.id or (table := self._table("#contacts")) is None:
            return
        table.append(self.contact_row(contact) for contact in message.contacts)
        self.more_contacts = message.more
        self._update_contacts_title()
        self.refresh_bindings()

    def action_audit(self) -> None:
        open_audit(self)

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
