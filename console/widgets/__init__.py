"""Shared pieces every console screen uses (see ARCHITECTURE.md, "Console widgets").

- ``text``: :func:`literal` / :func:`plain` — people's text shown as text, never markup.
- ``present``: :class:`Presenter` — a person, a phone (masked by the area's rule),
  money, a time in the org's zone, a message (secret ones hidden).
- ``table``: :class:`OfisiTable` — rows keyed by record id, cursor kept across
  reloads, sort (header click, ``s``/``S``), filter (``/``), paging, empty state;
  :func:`table_pane` — a list under its title, as a home's panes are.
- ``dialog`` / ``confirm``: :class:`Dialog`, :class:`AskText`, :class:`Confirm` —
  centred, with buttons and their own keys; titles name the record.
- ``help``: :class:`KeysHelp` — ``?`` lists the current screen's keys.
- ``chart``: :class:`BarChart` — bars with labelled axes and values.

Widgets never query the database: screens read in workers and hand them plain data.
"""

from console.widgets.chart import BarChart
from console.widgets.confirm import Confirm
from console.widgets.dialog import AskText, Dialog
from console.widgets.help import HELP_BINDING, KeysHelp, show_help
from console.widgets.present import SECRET_MESSAGE, Presenter, mask_phones_in, readable_phone
from console.widgets.table import Cell, Column, OfisiTable, Row, table_pane
from console.widgets.text import literal, plain, short

__all__ = [
    "AskText", "BarChart", "Cell", "Column", "Confirm", "Dialog", "HELP_BINDING", "KeysHelp", "OfisiTable",
    "Presenter", "Row", "SECRET_MESSAGE", "literal", "mask_phones_in", "plain", "readable_phone", "short",
    "show_help", "table_pane",
]
