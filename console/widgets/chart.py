"""``BarChart``: horizontal bars with a labelled category axis, a labelled value
axis (0 and the largest value) and each bar's value written beside it.

    chart = BarChart("Contributions by month", axis="Month", unit="KES", id="contributions-chart")
    chart.plot([("Jan 2026", 1_200_000), ("Feb 2026", 600_000)], shown=presenter.money)

Built on Rich text (no plotting dependency): it draws to the widget's width
and takes one line per bar plus three for the axes and title. Labels come
from data and are shown literally. ``shown`` formats a value (money, a
percentage); values must be >= 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.widget import Widget

from console.widgets.text import plain, short

__all__ = ["BarChart", "draw_bars"]

_FULL, _PARTIALS = "█", " ▏▎▍▌▋▊▉"


def _bar(value: float, top: float, width: int) -> str:
    if top <= 0 or width <= 0:
        return ""
    eighths = round(value / top * width * 8)
    return _FULL * (eighths // 8) + (_PARTIALS[eighths % 8] if eighths % 8 else "")


def draw_bars(title: str, bars: Sequence[tuple[object, float]], width: int, *, axis: str = "",
              unit: str = "", shown: Callable[[float], str] = lambda v: f"{v:,.0f}",
              empty: str = "Nothing to chart yet.") -> Text:
    """The chart as text, ``width`` cells wide."""
    heading = plain(title) + (f" ({plain(unit)})" if unit else "")
    out = Text(heading, style="bold")
    if not bars:
        out.append("\n" + empty, style="italic dim")
        return out
    labels = [short(label, 18) for label, _ in bars]
    values = [max(float(v or 0), 0.0) for _, v in bars]
    texts = [shown(v) for v in values]
    label_width = max([len(x) for x in labels] + [len(plain(axis))])
    value_width = max(len(t) for t in texts)
    bar_width = max(width - label_width - value_width - 4, 4)
    top = max(values)
    if axis:
        out.append("\n" + plain(axis).rjust(label_width) + " │", style="dim")
    for label, value, text in zip(labels, values, texts):
        out.append("\n" + label.rjust(label_width) + " │")
        bar = _bar(value, top, bar_width)
        out.append(bar, style="bold")
        out.append(" " * (bar_width - len(bar) + 1) + text.rjust(value_width))
    out.append("\n" + " " * label_width + " └" + "─" * bar_width, style="dim")
    low, high = shown(0), shown(top)
    ticks = low + " " * max(bar_width - len(low) - len(high), 1) + high
    out.append("\n" + " " * (label_width + 2) + ticks, style="dim")
    return out


class BarChart(Widget):
    """A bar chart that redraws to its width; call :meth:`plot` with (label, value) pairs."""

    DEFAULT_CSS = "BarChart { height: auto; }"

    def __init__(self, title: str, *, axis: str = "", unit: str = "", empty: str = "Nothing to chart yet.",
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.title, self.axis, self.unit, self.empty = title, axis, unit, empty
        self.bars: list[tuple[object, float]] = []
        self.shown: Callable[[float], str] = lambda v: f"{v:,.0f}"

    def plot(self, bars: Sequence[tuple[object, float]], *, shown: Callable[[float], str] | None = None) -> None:
        self.bars = list(bars)
        if shown is not None:
            self.shown = shown
        self.refresh(layout=True)

    def render(self) -> Text:
        return draw_bars(self.title, self.bars, self.size.width or 60, axis=self.axis, unit=self.unit,
                         shown=self.shown, empty=self.empty)

    def get_content_height(self, container, viewport, width: int) -> int:
        if not self.bars:
            return 2
        return len(self.bars) + 3 + (1 if self.axis else 0)
