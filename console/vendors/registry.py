"""The vendor registry of a campaigns org: search, filter, page, add, edit, opt-out, import.

``CampaignsHome`` is the campaigns kind's home screen with ``v`` for the
registry (the campaigns area subclasses it for its own panels). The registry
reads a keyset page of vendors at a time from ``core.vendors.list_vendors``
(``m``, or moving past the last row, reads the next), filtered by a search
text and an audience filter (``sector=Textiles,district=Pune``). ``i`` opens
the import dialog: it checks the file first (a dry run) and shows every bad
row before anything is written; then it imports the good rows. ``o`` stops (or
allows again) marketing SMS to the vendor under the cursor, after asking. Enter on a
vendor opens its form (every field and the opt-out per channel; read-only for
roles that may not write); ``a`` adds one. A form saves through
``core.vendors.save_vendor``, one unit of work, and a refusal stays a notice
over the open form.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static
from textual.worker import get_current_worker

from config.errors import OfisiError
from console import home
from console.base import ConsoleScreen
from console.widgets.confirm import Confirm
from console.vendors.form import OPT_OUTS, VendorFormScreen
from console.vendors.import_dialog import VendorImportScreen
from console.widgets.table import OfisiTable, Row
from core.actors import Actor
from core.orgs import OrgView
from core.permissions import allows
from db.engine import Database

if TYPE_CHECKING:  # core.vendors (validators, spreadsheets) loads when the registry first opens
    from core.vendors import AudienceFilter, VendorImportReport, VendorView

PAGE = 50


class VendorsPageLoaded(Message):
    def __init__(self, vendors: list[VendorView], after: tuple[str, int] | None, total: int | None,
                 first: bool) -> None:
        super().__init__()
        self.vendors, self.after, self.total, self.first = vendors, after, total, first


def vendor_cells(vendor: VendorView) -> tuple[str, ...]:
    opted = ", ".join(channel for channel, _label in OPT_OUTS if vendor.opted_out(channel))
    return (vendor.business_name, vendor.owner_name, home.shown_phone(vendor.phone) if vendor.phone else "",
            vendor.gstin or vendor.udyam or "", vendor.sector, vendor.district, vendor.state, vendor.size or "",
            ", ".join(vendor.tags), vendor.status, opted)


def vendor_row(vendor: VendorView) -> Row:
    return Row(vendor.id, vendor_cells(vendor), data=vendor)


class OptOutChanged(Message):
    def __init__(self, vendor: VendorView, channel: str) -> None:
        super().__init__()
        self.vendor, self.channel = vendor, channel


class VendorRegistryScreen(ConsoleScreen):
    """Every vendor of the org, a page at a time, by business name."""

    CSS_PATH = "vendors.tcss"
    BINDINGS = [
        Binding("slash", "focus_search", "Search", id="vendor-search",
                tooltip="Search by name, owner, phone, GSTIN or Udyam number."),
        Binding("i", "import_vendors", "Import", id="vendor-import",
                tooltip="Import vendors from a CSV or XLSX file, after a check that writes nothing."),
        Binding("a", "add_vendor", "Add", id="vendor-add", tooltip="Add one vendor."),
        Binding("e", "edit_vendor", "Edit", id="vendor-edit",
                tooltip="Open the form of the vendor under the cursor (Enter does the same)."),
        Binding("o", "opt_out", "SMS opt-out", id="vendor-opt-out",
                tooltip="Stop (or allow again) marketing SMS to the vendor under the cursor; asks first."),
        Binding("m", "more_vendors", "More", id="more-vendors", tooltip="Read the next page of vendors."),
        Binding("r,f5", "reload", "Refresh", id="vendor-refresh"),
        Binding("escape", "back", "Back", id="vendor-back"),
    ]
    COLUMNS = ("Business", "Owner", "Phone", "GSTIN / Udyam", "Sector", "District", "State", "Size", "Tags", "Status",
               "Opted out")

    def __init__(self, database: Database, actor: Actor, org: OrgView, role: str) -> None:
        super().__init__(database)
        self.actor, self.org, self.role = actor, org, role
        self.after: tuple[str, int] | None = None
        self.total = 0
        self.loaded = False
        self._paging = False

    def compose_body(self) -> ComposeResult:
        with Vertical(id="vendor-registry"):
            with Horizontal(id="vendor-filters"):
                yield Input(placeholder="Search name, owner, phone, GSTIN…", id="vendor-search-input")
                yield Input(placeholder="Filter: sector=Textiles,district=Pune,tags=women-led", id="vendor-filter")
            yield Static("", id="vendor-count", markup=False)
            yield OfisiTable(self.COLUMNS, noun="vendors", search_in_core=True,
                             empty="No vendors match: clear the search, press a to add one or i to import a file.",
                             id="vendors")

    def on_mount(self) -> None:
        self.title = f"{self.org.name} — vendors"
        self.query_one("#vendors", OfisiTable).focus()
        self.action_reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "import_vendors":
            return allows(self.org.kind, self.role, "vendors.import")
        if action in ("add_vendor", "opt_out"):
            return allows(self.org.kind, self.role, "vendors.write")
        if action == "more_vendors":
            return self.after is not None
        return True

    def org_data_changed(self) -> None:
        self.action_reload()

    def _criteria(self) -> tuple[str, AudienceFilter] | None:
        from core.vendors import AudienceFilter

        text = self.query_one("#vendor-filter", Input).value
        try:
            audience = AudienceFilter.parse(text)
        except OfisiError as exc:  # say why, keep the list as it was
            self.ofisi.report_failure(exc)
            return None
        if "status=" not in text:  # the registry shows every vendor unless asked
            audience = replace(audience, status=None)
        return self.query_one("#vendor-search-input", Input).value, audience

    def action_reload(self) -> None:
        criteria = self._criteria()
        if criteria is not None:
            self.load_page(*criteria, None)

    @on(Input.Submitted)
    def _criteria_changed(self) -> None:
        self.action_reload()
        self.query_one("#vendors", DataTable).focus()

    def action_focus_search(self) -> None:
        self.query_one("#vendor-search-input", Input).focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_more_vendors(self) -> None:
        criteria = self._criteria()
        if self.after is None or self._paging or criteria is None:
            return
        self._paging = True
        self.load_page(*criteria, self.after)

    @on(DataTable.RowHighlighted, "#vendors")
    def _near_the_end(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= event.data_table.row_count - 1:
            self.action_more_vendors()

    @work(thread=True, exclusive=True, group="vendors-page", exit_on_error=False)
    def load_page(self, search: str, audience: AudienceFilter, after: tuple[str, int] | None) -> None:
        from core.vendors import count_audience, list_vendors

        worker = get_current_worker()
        try:
            with self.database.session() as session:
                page = list_vendors(session, self.actor, self.org.id, filter=audience, search=search, after=after,
                                    limit=PAGE)
                total = count_audience(session, self.actor, self.org.id, audience, search=search) if after is None else None
        finally:
            self._paging = False
        if not worker.is_cancelled:
            self.post_from_worker(VendorsPageLoaded(page.vendors, page.after, total, after is None))

    def on_vendors_page_loaded(self, message: VendorsPageLoaded) -> None:
        table = self.query_one("#vendors", OfisiTable)
        if message.first:
            self.total = message.total or 0
            table.reload(vendor_row(v) for v in message.vendors)
        else:
            table.append(vendor_row(v) for v in message.vendors)
        self.after = message.after
        self.loaded = True
        self.query_one("#vendor-count", Static).update(
            f"Vendors: {table.row_count:,} of {self.total:,} shown" + (" (m for more)" if self.after else ""))
        self.refresh_bindings()

    @on(OfisiTable.SearchChanged, "#vendors")
    def _table_search(self, event: OfisiTable.SearchChanged) -> None:
        self.query_one("#vendor-search-input", Input).value = event.text
        self.action_reload()

    def _vendor(self) -> VendorView | None:
        row = self.query_one("#vendors", OfisiTable).selected_row
        return None if row is None else row.data

    @on(DataTable.RowSelected, "#vendors")
    def _open_vendor(self) -> None:
        self.action_edit_vendor()

    def action_edit_vendor(self) -> None:
        if (vendor := self._vendor()) is not None:
            self.app.push_screen(VendorFormScreen(self.database, self.actor, self.org, vendor,
                                                  writable=allows(self.org.kind, self.role, "vendors.write")),
                                 callback=self._saved)

    def action_add_vendor(self) -> None:
        self.app.push_screen(VendorFormScreen(self.database, self.actor, self.org, None, writable=True),
                             callback=self._saved)

    def _saved(self, vendor: VendorView | None) -> None:
        if vendor is None:
            return
        table = self.query_one("#vendors", OfisiTable)
        if any(row.id == vendor.id for row in table.records):
            table.reload(vendor_row(vendor) if row.id == vendor.id else row for row in table.records)
        else:
            self.action_reload()
        table.move_to(vendor.id)

    def action_opt_out(self) -> None:
        if (vendor := self._vendor()) is None:
            return
        now = vendor.opted_out("sms")
        title = (f"Allow marketing SMS to {vendor.business_name} again?" if now else
                 f"Stop marketing SMS to {vendor.business_name}?")
        details = ["Records the vendor's own wish, as STOP and START by SMS do; messages they need "
                   "(receipts, codes) still go."]
        self.app.push_screen(Confirm(title, details, confirm_label="Allow" if now else "Opt out"),
                             callback=lambda yes: yes and self.set_opt_out(vendor, not now))

    @work(thread=True, group="vendor-opt-out", exit_on_error=False)
    def set_opt_out(self, vendor: VendorView, opted_out: bool) -> None:
        from core.vendors import set_opt_out

        with self.database.session() as session:
            done = set_opt_out(session, self.actor, self.org.id, vendor.id, "sms", opted_out)
        self.post_from_worker(OptOutChanged(done, "sms"))

    def on_opt_out_changed(self, message: OptOutChanged) -> None:
        vendor = message.vendor
        self.app.notify(f"{vendor.business_name}: "
                        f"{'no marketing SMS' if vendor.opted_out('sms') else 'marketing SMS allowed again'}.",
                        markup=False)
        self._saved(vendor)

    def action_import_vendors(self) -> None:
        self.app.push_screen(VendorImportScreen(self.database, self.actor, self.org), callback=self._imported)

    def _imported(self, report: VendorImportReport | None) -> None:
        if report is not None:
            self.action_reload()
