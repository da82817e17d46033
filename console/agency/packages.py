"""The agency's contact packages: what an employer buys to unlock workers' numbers.

``a`` adds a package (name, price, contacts included), ``e`` gives the package under
the cursor a new price (purchases already made keep theirs), ``x`` retires it (no
longer sold; asks first); the list keeps its cursor on the package. Selling one to an employer is ``b`` on the home's Employers tab
(:func:`sell_package`: a purchase at the package's price, marked paid at once).
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Label

from console.agency.forms import Field, FormDialog
from console.agency.screen import AgencyScreen
from console.widgets.confirm import Confirm
from console.widgets.table import Cell, OfisiTable, Row
from core.actors import Actor
from core.agency.employers import EmployerView
from core.money import format_money, parse_money


def sell_package(session: Session, actor: Actor, org_id: int, employer: EmployerView, package_id: int,
                 reference: str) -> str:
    """Sell ``employer`` a package, paid now (its contacts become credits); returns the notice."""
    from core.agency.commerce import buy_package

    purchase = buy_package(session, actor, org_id, employer_id=employer.id, package_id=package_id)
    return mark_paid(session, actor, org_id, employer, purchase.id, reference)


def mark_paid(session: Session, actor: Actor, org_id: int, employer: EmployerView, purchase_id: int,
              reference: str) -> str:
    """Mark the employer's pending purchase paid with its receipt (its contacts become credits); the notice."""
    from core.agency.commerce import settle_purchase

    done = settle_purchase(session, actor, org_id, purchase_id, paid=True, reference=reference)
    return (f"{employer.name}'s purchase {done.id} is paid (receipt {done.reference}): "
            f"{done.credits_left} contact credits.")


class PackagesLoaded(Message):
    def __init__(self, packages: list) -> None:
        super().__init__()
        self.packages = packages


class PackagesScreen(AgencyScreen):
    """Every contact package with its price and contacts; ``a`` adds one."""

    SUBTITLE = "Contact packages"
    MONEY_ACTIONS = ("add_package", "price", "retire")
    BINDINGS = [
        Binding("a", "add_package", "Add package", id="package-add",
                tooltip="A new package: its name, its price and how many contacts it unlocks."),
        Binding("e", "price", "New price", id="package-price",
                tooltip="A new price for the package under the cursor; purchases already made keep theirs."),
        Binding("x", "retire", "Retire", id="package-retire", tooltip="Stop selling the package (asks first)."),
        Binding("r,f5", "refresh", "Refresh", id="package-refresh"),
    ]

    def compose_body(self) -> ComposeResult:
        yield Label("Contact packages", id="packages-title", classes="pane-title")
        yield OfisiTable(("Package", "Price", "Contacts", "Sold", "Description"), noun="packages",
                         empty="No packages yet: press a to add one, then sell it from an employer's row (b).",
                         id="agency-packages")

    @work(thread=True, exclusive=True, group="packages", exit_on_error=False)
    def load(self) -> None:
        from core.agency.commerce import list_packages

        with self.database.session() as session:
            packages = list_packages(session, self.actor, self.org.id, include_retired=True)
        self.post_from_worker(PackagesLoaded(packages))

    def on_packages_loaded(self, message: PackagesLoaded) -> None:
        self.query_one(OfisiTable).reload(
            Row(p.id, (p.name, Cell(self.present.money(p.price_minor), p.price_minor), p.contacts_included,
                       "retired" if p.retired else "on sale", p.description), data=p) for p in message.packages)

    def action_add_package(self) -> None:
        self.app.push_screen(FormDialog("Add a contact package", [
            Field("name", "Name", required=True, placeholder="e.g. 3 contacts"),
            Field("price", "Price", required=True, placeholder=self.org.currency),
            Field("contacts", "Contacts included", required=True, value="1"),
            Field("description", "Description")], confirm_label="Add"), callback=self._add)

    def _package(self):
        row = self.query_one(OfisiTable).selected_row
        return None if row is None else row.data

    def action_price(self) -> None:
        if (p := self._package()) is None:
            return
        self.app.push_screen(FormDialog(f"New price for {p.name}", [
            Field("price", "Price", self.present.money(p.price_minor).split(" ")[-1], required=True,
                  placeholder=self.org.currency)], note=f"Now {self.present.money(p.price_minor)}.",
            confirm_label="Change price"),
            callback=lambda values: values and self.change(p.id, values["price"], False))

    def action_retire(self) -> None:
        if (p := self._package()) is None or p.retired:
            return
        self.app.push_screen(Confirm(f"Retire {p.name}?", [
            f"{p.contacts_included} contacts for {self.present.money(p.price_minor)} will no longer be sold.",
            "Employers keep the credits they already bought."], confirm_label="Retire"),
            callback=lambda yes: yes and self.change(p.id, None, True))

    @work(thread=True, group="packages-write", exit_on_error=False)
    def change(self, package_id: int, price: str | None, retire: bool) -> None:
        from core.agency.commerce import change_package

        with self.database.session() as session:
            done = change_package(session, self.actor, self.org.id, package_id, retire=retire,
                                  price_minor=parse_money(price, self.org.currency) if price else None)
        text = f"{done.name} is retired." if retire else \
            f"{done.name} now costs {format_money(done.price_minor, self.org.currency)}."
        self.app.call_from_thread(self.notify, text)
        self.app.call_from_thread(self.action_refresh)

    def _add(self, values: dict | None) -> None:
        if values:
            self.add(values)

    @work(thread=True, group="packages-write", exit_on_error=False)
    def add(self, values: dict) -> None:
        from core.agency.commerce import add_package
        from core.errors import InvalidInput

        if not values["contacts"].isdigit():
            raise InvalidInput("Contacts included is a whole number, e.g. 3.")
        with self.database.session() as session:
            package = add_package(session, self.actor, self.org.id, name=values["name"],
                                  price_minor=parse_money(values["price"], self.org.currency),
                                  contacts_included=int(values["contacts"]), description=values["description"])
        self.app.call_from_thread(self.notify, f"Package {package.name} added: {package.contacts_included} contacts "
                                  f"for {format_money(package.price_minor, self.org.currency)}.")
        self.app.call_from_thread(self.action_refresh)
