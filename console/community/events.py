"""Changing an event from the home: edit (title, time, venue, capacity), cancel
(asks first, naming how many people are told) and export the attendance to a
path the manager gives (``.csv``, or ``.xlsx``). Each calls the same
``core.community.events`` service as ``ofisi community event …``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Label

from console.widgets.dialog import Dialog
from core.community.events import EventView


@dataclass(frozen=True)
class EventEdit:
    title: str
    starts_at: datetime | None  # naive: on the community's clock
    venue: str
    capacity: int


class EditEventDialog(Dialog[EventEdit]):
    """Title, start, venue and capacity of one event; fewer places move the last registered to the waitlist."""

    def __init__(self, event: EventView, zone, zone_name: str) -> None:
        super().__init__(f"Edit {event.title} ({event.registered}/{event.capacity} registered)", confirm_label="Save")
        self.event, self.zone, self.zone_name = event, zone, zone_name

    def compose_body(self) -> ComposeResult:
        e = self.event
        yield Label("Title")
        yield Input(e.title, id="event-title")
        yield Label(f"Starts (YYYY-MM-DD HH:MM, {self.zone_name})")
        yield Input(f"{e.starts_at.astimezone(self.zone):%Y-%m-%d %H:%M}", id="event-starts")
        yield Label("Venue")
        yield Input(e.venue or "", id="event-venue")
        yield Label("Places (fewer moves the last registered to the waitlist; they are told)")
        yield Input(str(e.capacity), id="event-capacity")

    def on_mount(self) -> None:
        self.query_one("#event-capacity", Input).focus()

    @on(Input.Submitted)
    def _enter(self) -> None:
        self.action_confirm()

    def answer(self) -> EventEdit | None:
        value = lambda key: self.query_one(f"#event-{key}", Input).value.strip()  # noqa: E731
        try:
            starts = datetime.strptime(value("starts"), "%Y-%m-%d %H:%M")
        except ValueError:
            self.notify("Write the start like 2026-12-05 14:00.", severity="warning", markup=False)
            return None
        if not value("capacity").isdigit():
            self.notify("Places is a whole number.", severity="warning", markup=False)
            return None
        old = f"{self.event.starts_at.astimezone(self.zone):%Y-%m-%d %H:%M}"
        return EventEdit(value("title"), None if value("starts") == old else starts, value("venue"),
                         int(value("capacity")))
