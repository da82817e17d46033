"""The vendor registry of a campaigns org: search, filter, page, import.

``CampaignsHome`` is the campaigns kind's home screen with ``v`` for the
registry (the campaigns area subclasses it for its own panels). The registry
reads a keyset page of vendors at a time from ``core.vendors.list_vendors``
(``m``, or moving past the last row, reads the next), filtered by a search
text and an audience filter (``sector=Textiles,district=Pune``). ``i`` opens
the import dialog: it checks the file first (a dry run) and shows every bad
row before anything is written; then it imports the good rows. Enter on a
vendor opens its form (every field and the opt-out per channel; read-only for
roles that may not write); ``a`` adds one. A form saves through
``core.vendors.save_vendor``, one unit of work, and a refusal stays a notice
over the open form.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Label, Static, Switch
from textual.worker import Worker, WorkerState, get_current_worker

from config.errors import OfisiError
from console import home
from console.base import ConsoleModal, ConsoleScreen
from console.widgets.table import LiteralTable
from console.widgets.text import literal
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


class VendorSaved(Message):
    def __init__(self, vendor: VendorView) -> None:
        super().__init__()
        self.vendor = vendor


class ImportChecked(Message):
    def __init__(self, report: VendorImportReport, written: bool) -> None:
        super().__init__()
        self.report, self.written = report, written


def vendor_cells(vendor: VendorView) -> tuple[str, ...]:
    return (vendor.business_name, vendor.owner_name, home.shown_phone(vendor.phone) if vendor.phone else "",
            vendor.gstin or vendor.udyam or "", vendor.sector, vendor.district, vendor.state, vendor.size or "",
            ", ".join(vendor.tags), vendor.status)


class VendorRegistryScreen(ConsoleScreen):
    """Every vendor of the org, a page at a time, by business name."""

    CSS_PATH = "vendors.tcss"
    BINDINGS = [
        Binding("slash", "focus_search", "Search", id="vendor-search",
                tooltip="Search by name, owner, phone, GSTIN or Udyam number."),
        Binding("i", "import_vendors", "Import", id="vendor-import",
                tooltip="Import vendors from a CSV or XLSX file, after a check that writes nothing."),
        Binding("a", "add_vendor", "Add", id="vendor-add", tooltip="Add one vendor."),
        Binding("m", "more_vendors", "More", id="more-vendors", tooltip="Read the next page of vendors."),
        Binding("r,f5", "reload", "Refresh", id="vendor-refresh"),
        Binding("escape", "back", "Back", id="vendor-back"),
    ]
    COLUMNS = ("Business", "Owner", "Phone", "GSTIN / Udyam", "Sector", "District", "State", "Size", "Tags", "Status")

    def __init__(self, database: Database, actor: Actor, org: OrgView, role: str) -> None:
        super().__init__(database)
        self.actor, self.org, self.role = actor, org, role
        self.after: tuple[str, int] | None = None
        self.total = 0
        self.loaded = False
        self._paging = False
        self.shown: dict[str, VendorView] = {}  # the rows' vendors, by row key

    def compose_body(self) -> ComposeResult:
        with Vertical(id="vendor-registry"):
            with Horizontal(id="vendor-filters"):
                yield Input(placeholder="Search name, owner, phone, GSTIN…", id="vendor-search-input")
                yield Input(placeholder="Filter: sector=Textiles,district=Pune,tags=women-led", id="vendor-filter")
            yield Static("", id="vendor-count", markup=False)
            yield LiteralTable(id="vendors", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.title = f"{self.org.name} — vendors"
        table = self.query_one("#vendors", DataTable)
        for column in self.COLUMNS:
            table.add_column(column)
        table.focus()
        self.action_reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "import_vendors":
            return allows(self.org.kind, self.role, "vendors.import")
        if action == "add_vendor":
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
        table = self.query_one("#vendors", DataTable)
        if message.first:
            table.clear()
            self.shown.clear()
            self.total = message.total or 0
        for vendor in message.vendors:
            self.shown[str(vendor.id)] = vendor
            if str(vendor.id) not in table.rows:
                table.add_row(*vendor_cells(vendor), key=str(vendor.id))
        self.after = message.after
        self.loaded = True
        self.query_one("#vendor-count", Static).update(
            f"Vendors: {table.row_count:,} of {self.total:,} shown" + (" (m for more)" if self.after else ""))
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#vendors")
    def _open_vendor(self, event: DataTable.RowSelected) -> None:
        vendor = self.shown.get(str(event.row_key.value))
        if vendor is not None:
            self.app.push_screen(VendorFormScreen(self.database, self.actor, self.org, vendor,
                                                  writable=allows(self.org.kind, self.role, "vendors.write")),
                                 callback=self._saved)

    def action_add_vendor(self) -> None:
        self.app.push_screen(VendorFormScreen(self.database, self.actor, self.org, None, writable=True),
                             callback=self._saved)

    def _saved(self, vendor: VendorView | None) -> None:
        if vendor is None:
            return
        table = self.query_one("#vendors", DataTable)
        key = str(vendor.id)
        self.shown[key] = vendor
        if key in table.rows:
            for column, value in zip(table.columns, vendor_cells(vendor)):
                table.update_cell(key, column, value)
        else:
            self.action_reload()

    def action_import_vendors(self) -> None:
        self.app.push_screen(VendorImportScreen(self.database, self.actor, self.org), callback=self._imported)

    def _imported(self, report: VendorImportReport | None) -> None:
        if report is not None:
            self.action_reload()


FORM_FIELDS = (  # (field, label, hint)
    ("business_name", "Business name", ""), ("owner_name", "Owner", ""),
    ("phone", "Phone", "read in the org's country"), ("email", "Email", ""),
    ("whatsapp", "WhatsApp", "if not the phone"), ("gstin", "GSTIN", "15 characters"),
    ("udyam", "Udyam number", "UDYAM-XX-00-0000000"), ("pan", "PAN", "from the GSTIN if blank"),
    ("sector", "Sector", ""), ("district", "District", ""), ("state", "State", ""),
    ("size", "Size", "micro, small or medium"), ("status", "Status", "active or inactive"),
    ("tags", "Tags", "separated by ;"),
)
OPT_OUTS = (("sms", "No SMS"), ("email", "No email"), ("whatsapp", "No WhatsApp"))


def form_text(vendor: VendorView | None, name: str) -> str:
    if vendor is None:
        return "active" if name == "status" else ""
    value = getattr(vendor, name)
    return "; ".join(value) if name == "tags" else (value or "")


class VendorFormScreen(ConsoleModal):
    """One vendor's fields and opt-outs; dismisses with the saved ``VendorView`` or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel-vendor"),
                Binding("ctrl+s", "save", "Save", id="save-vendor-key")]

    def __init__(self, database: Database, actor: Actor, org: OrgView, vendor: VendorView | None, *,
                 writable: bool) -> None:
        super().__init__(database)
        self.actor, self.org, self.vendor, self.writable = actor, org, vendor, writable

    def compose(self) -> ComposeResult:
        title = f"{self.vendor.business_name}" if self.vendor else f"A new vendor of {self.org.name}"
        with Vertical(id="vendor-form"):
            yield Label(literal(title + ("" if self.writable else " (read only)")), classes="form-title")
            with Grid(id="vendor-fields"):
                for name, label, hint in FORM_FIELDS:
                    yield Label(label)
                    yield Input(form_text(self.vendor, name), placeholder=hint, id=f"vendor-{name}",
                                disabled=not self.writable)
            with Horizontal(id="vendor-opt-outs"):
                for channel, label in OPT_OUTS:
                    yield Switch(bool(self.vendor and self.vendor.opted_out(channel)), id=f"opt-out-{channel}",
                                 disabled=not self.writable)
                    yield Label(label, classes="switch-label")
            with Horizontal(classes="buttons"):
                if self.writable:
                    yield Button("Save", id="save-vendor", variant="primary")
                yield Button("Close" if not self.writable else "Cancel", id="cancel-vendor")

    def on_mount(self) -> None:
        if self.writable:
            self.query_one("#vendor-business_name", Input).focus()
        else:
            self.query_one("#cancel-vendor", Button).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.writable if action == "save" else True

    @on(Input.Submitted)
    def _next(self) -> None:
        self.focus_next()

    @on(Button.Pressed, "#save-vendor")
    def action_save(self) -> None:
        values = {name: self.query_one(f"#vendor-{name}", Input).value for name, _label, _hint in FORM_FIELDS}
        if self.vendor is not None:  # only what changed: an untouched field is never re-judged
            values = {k: v for k, v in values.items() if v.strip() != form_text(self.vendor, k).strip()}
        else:
            values = {k: v for k, v in values.items() if v.strip()}
        opted = {channel: self.query_one(f"#opt-out-{channel}", Switch).value for channel, _label in OPT_OUTS}
        if self.vendor is None:
            opted = {channel: True for channel, wanted in opted.items() if wanted}
        self.query_one("#save-vendor", Button).disabled = True
        self.save(values, opted)

    @work(thread=True, exclusive=True, group="save-vendor", exit_on_error=False)
    def save(self, values: dict[str, str], opted: dict[str, bool]) -> None:
        from core.vendors import save_vendor

        with self.database.session() as session:
            vendor = save_vendor(session, self.actor, self.org.id, self.vendor.id if self.vendor else None, values,
                                 opted)
        self.post_from_worker(VendorSaved(vendor))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "save-vendor" and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.query_one("#save-vendor", Button).disabled = False

    def on_vendor_saved(self, message: VendorSaved) -> None:
        self.app.notify(f"{message.vendor.business_name} saved.", markup=False)
        self.dismiss(message.vendor)

    @on(Button.Pressed, "#cancel-vendor")
    def action_cancel(self) -> None:
        self.dismiss(None)


class VendorImportScreen(ConsoleModal):
    """Check a file (nothing written), show its bad rows, then import the good ones."""

    CSS_PATH = "vendors.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel-import")]

    def __init__(self, database: Database, actor: Actor, org: OrgView) -> None:
        super().__init__(database)
        self.actor, self.org = actor, org
        self.checked: VendorImportReport | None = None
        self.checked_path: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="vendor-import"):
            yield Label(literal(f"Import vendors into {self.org.name}"), classes="form-title")
            yield Label("File (.csv or .xlsx)")
            yield Input(id="import-path", placeholder="/path/to/vendors.csv")
            yield Static("Check the file first: nothing is written until you import.", id="import-summary",
                         markup=False)
            yield LiteralTable(id="import-errors", cursor_type="row", zebra_stripes=True)
            with Horizontal(classes="buttons"):
                yield Button("Check", id="check-import", variant="primary")
                yield Button("Import", id="commit-import", variant="success", disabled=True)
                yield Button("Cancel", id="cancel-import")

    def on_mount(self) -> None:
        table = self.query_one("#import-errors", DataTable)
        table.add_column("Line")
        table.add_column("Field")
        table.add_column("Problem")
        self.query_one("#import-path", Input).focus()

    @on(Input.Changed, "#import-path")
    def _path_changed(self) -> None:
        self.query_one("#commit-import", Button).disabled = True

    @on(Input.Submitted, "#import-path")
    @on(Button.Pressed, "#check-import")
    def _check(self) -> None:
        path = self.query_one("#import-path", Input).value.strip()
        self.query_one("#check-import", Button).disabled = True
        self.run_import(path, dry_run=True)

    @on(Button.Pressed, "#commit-import")
    def _commit(self) -> None:
        if self.checked_path is None:
            return
        self.query_one("#commit-import", Button).disabled = True
        self.run_import(self.checked_path, dry_run=False)

    @work(thread=True, exclusive=True, group="vendor-import", exit_on_error=False)
    def run_import(self, path: str, *, dry_run: bool) -> None:
        from core.vendors import import_vendors, read_vendor_file

        data = read_vendor_file(Path(path).expanduser())
        with self.database.session() as session:
            report = import_vendors(session, self.actor, self.org.id, data, dry_run=dry_run, skip_invalid=True)
        self.checked_path = path
        self.post_from_worker(ImportChecked(report, written=not dry_run))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "vendor-import" and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.query_one("#check-import", Button).disabled = False
            self.checked_path = None

    def on_import_checked(self, message: ImportChecked) -> None:
        report = message.report
        if message.written:
            self.app.notify(f"{report.file}: {report.created} created, {report.updated} updated, "
                            f"{report.unchanged} unchanged, {report.invalid} rows skipped.", markup=False)
            self.dismiss(report)
            return
        self.checked = report
        table = self.query_one("#import-errors", DataTable)
        table.clear()
        for problem in report.errors:
            table.add_row(str(problem.row), problem.field.replace("_", " "), problem.message)
        verdict = (f"{report.invalid} rows have problems (listed below) and will be skipped. " if report.invalid
                   else "Every row is fine. ")
        self.query_one("#import-summary", Static).update(
            f"{report.rows} rows: {report.valid} valid, {report.invalid} invalid; would create {report.created}, "
            f"update {report.updated}, leave {report.unchanged} unchanged ({report.duplicates} duplicate rows, "
            f"{report.blank} blank lines). {verdict}Nothing has been written yet.")
        self.query_one("#check-import", Button).disabled = False
        commit = self.query_one("#commit-import", Button)
        commit.disabled = report.valid == 0 or not (report.created or report.updated)
        commit.label = f"Import {report.created + report.updated} vendors"

    @on(Button.Pressed, "#cancel-import")
    def action_cancel(self) -> None:
        self.dismiss(None)


@home.register_home
class CampaignsHome(home.CampaignsHome):
    """The campaign office's home: contacts and messages, and ``v`` for the vendor registry."""

    BINDINGS = [
        Binding("v", "vendors", "Vendors", id="vendors",
                tooltip="The vendor registry: search, filter and import vendors."),
    ]

    def action_vendors(self) -> None:
        self.app.push_screen(VendorRegistryScreen(self.database, self.actor, self.org, self.membership.role))
